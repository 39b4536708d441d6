from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "hongyan.care"
    label = "care"
    verbose_name = "关爱走访"

    def ready(self):
        from hongyan.core import pii

        from .models import ID_AAD, ID_PURPOSE, MOBILE_AAD, MOBILE_PURPOSE, CareRecipient

        pii.register_encrypted_field(
            CareRecipient,
            "id_number_enc",
            aad=ID_AAD,
            index_field="id_number_index",
            index_purpose=ID_PURPOSE,
        )
        pii.register_encrypted_field(
            CareRecipient,
            "mobile_enc",
            aad=MOBILE_AAD,
            index_field="mobile_index",
            index_purpose=MOBILE_PURPOSE,
        )

        from django.db.models.signals import post_migrate

        from . import sweeps  # noqa: F401  (registers the visit reminders)

        # after `migrate`, and after a test database's `flush`: the default groups are there
        post_migrate.connect(_seed_after_migrate, sender=self, dispatch_uid="care_groups")


def _seed_after_migrate(sender, apps=None, using="default", **kwargs):
    """A missing default group comes back; an existing one (maybe edited) stays as it is."""
    from .models import DEFAULT_GROUPS, CareGroup

    for position, (code, name, days, children) in enumerate(DEFAULT_GROUPS, start=1):
        CareGroup.objects.using(using).get_or_create(
            code=code,
            defaults={
                "name": name,
                "interval_days": days,
                "children": children,
                "position": position,
            },
        )
