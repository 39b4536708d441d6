from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hongyan.core import audit, pii


def rotate_field(entry: pii.EncryptedField, *, everything: bool, batch: int, progress) -> int:
    """Re-encrypt (and re-index) every value of one column not under the current key."""
    model = entry.model
    current = pii.current_key().kid
    done = 0
    last_pk = 0
    while True:
        rows = list(
            model.objects.filter(pk__gt=last_pk)
            .exclude(**{entry.field: ""})
            .order_by("pk")
            .only("pk", entry.field, *([entry.index_field] if entry.index_field else []))[:batch]
        )
        if not rows:
            return done
        last_pk = rows[-1].pk
        changed = []
        for row in rows:
            token = getattr(row, entry.field)
            if not everything and pii.key_id_of(token) == current:
                continue
            plain = pii.decrypt(token, entry.aad)
            setattr(row, entry.field, pii.encrypt(plain, entry.aad))
            if entry.index_field:
                value = entry.normalise(plain) if entry.normalise else plain
                setattr(row, entry.index_field, pii.blind_index(value, entry.index_purpose))
            changed.append(row)
        if changed:
            fields = [entry.field] + ([entry.index_field] if entry.index_field else [])
            with transaction.atomic():
                model.objects.bulk_update(changed, fields, batch_size=1000)
            done += len(changed)
            progress(f"  {model._meta.label}.{entry.field}: {done} …")


class Command(BaseCommand):
    help = (
        "Re-encrypt every personal-data field under the first key of HONGYAN_FIELD_KEYS "
        "(and recompute blind indexes). Put the new key first, run this, then drop the old key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="re-encrypt values already under the current key too"
        )
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, **options):
        try:
            current = pii.current_key().kid
        except Exception as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"当前密钥 / current key: {current}")
        totals = {}
        for entry in pii.ENCRYPTED_FIELDS:
            try:
                n = rotate_field(
                    entry,
                    everything=options["all"],
                    batch=options["batch"],
                    progress=self.stdout.write,
                )
            except pii.DecryptionError as exc:
                raise CommandError(
                    f"{entry.model._meta.label}.{entry.field}: {exc} — "
                    "keep every old key in HONGYAN_FIELD_KEYS until rotation has finished."
                ) from None
            totals[f"{entry.model._meta.label}.{entry.field}"] = n
            self.stdout.write(f"{entry.model._meta.label}.{entry.field}: {n} re-encrypted")
        audit.record(
            "pii.rotate_keys",
            actor_name="hongyan manage rotate_field_keys",
            detail={"key": current, "rows": totals},
        )
        self.stdout.write(self.style.SUCCESS("完成 / done"))
