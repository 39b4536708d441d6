import getpass
from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hongyan.core import audit
from hongyan.core.errors import DomainError


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--before {value!r} is not a date: write it as 2026-01-31.") from None


class Command(BaseCommand):
    help = (
        "Delete audit rows recorded before DATE (local midnight). Refuses anything younger "
        "than HONGYAN_AUDIT_RETENTION_DAYS (at least 180); the purge is itself audited and "
        "the chain still verifies."
    )

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, metavar="DATE", type=_day)

    def handle(self, *args, before: date, **options):
        moment = timezone.make_aware(datetime.combine(before, time.min))
        try:
            done = audit.purge(moment, actor_name=f"purge_audit ({getpass.getuser()})")
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"已清除 {done['deleted']} 条审计记录 / purged {done['deleted']} audit rows "
            f"before {before.isoformat()}; the chain now starts at row {done['first_seq']} "
            f"(the purge is row {done['purge_seq']})."
        )
