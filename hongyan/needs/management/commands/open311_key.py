"""Issue or revoke an Open311 API key: `hongyan manage open311_key --name NAME [--unit CODE]`
prints the new key (only its hash is stored); `--revoke NAME` stops it working."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from hongyan.core import audit
from hongyan.open311.models import Open311Key
from hongyan.orgs.models import Unit


class Command(BaseCommand):
    help = "Issue (--name) or revoke (--revoke) an Open311 GeoReport v2 API key."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--name", help="who the key is for, e.g. 12345-hotline")
        group.add_argument("--revoke", metavar="NAME", help="revoke the key of this name")
        group.add_argument("--list", action="store_true", help="list the keys")
        parser.add_argument(
            "--unit", help="unit code where requests with only a typed address are filed"
        )

    @transaction.atomic
    def handle(self, *args, name=None, revoke=None, list=False, unit=None, **options):
        if list:
            for key in Open311Key.objects.all():
                state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
                self.stdout.write(f"{key.name}\t{state}\t{key.unit.code if key.unit else ''}")
            return
        if revoke:
            updated = Open311Key.objects.filter(name=revoke, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            if not updated:
                raise CommandError(f"没有名为 {revoke} 的有效密钥 / no active key named {revoke}")
            audit.record("open311.key_revoke", actor_name="open311_key", detail={"name": revoke})
            self.stdout.write(f"已吊销 / revoked: {revoke}")
            return
        name = name.strip()
        if not name:
            raise CommandError("--name 不能为空 / --name must not be empty")
        if Open311Key.objects.filter(name=name).exists():
            raise CommandError(
                f"已有名为 {name} 的密钥：请换一个名称，或先 --revoke / a key named {name} exists"
            )
        home = None
        if unit:
            home = Unit.objects.filter(code=unit).first()
            if home is None:
                raise CommandError(f"没有代码为 {unit} 的单位 / no unit with code {unit}")
        key, raw = Open311Key.issue(name, unit=home)
        audit.record("open311.key_issue", actor_name="open311_key", detail={"name": name})
        self.stdout.write(raw)
