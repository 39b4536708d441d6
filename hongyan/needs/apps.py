from django.apps import AppConfig


class NeedsConfig(AppConfig):
    name = "hongyan.needs"
    label = "needs"
    verbose_name = "居民需求"

    def ready(self):
        from hongyan.core import pii

        from .models import (
            MOBILE_AAD,
            MOBILE_PURPOSE,
            SUPPORTER_MOBILE_AAD,
            Need,
            NeedSupporter,
        )

        pii.register_encrypted_field(
            Need,
            "resident_mobile_enc",
            aad=MOBILE_AAD,
            index_field="resident_mobile_index",
            index_purpose=MOBILE_PURPOSE,
        )
        pii.register_encrypted_field(
            NeedSupporter,
            "mobile_enc",
            aad=SUPPORTER_MOBILE_AAD,
            index_field="mobile_index",
            index_purpose=MOBILE_PURPOSE,
        )

        from django.db.models.signals import post_migrate

        from . import services, sweeps  # noqa: F401  (registers sweeps and the 办实事 source)

        # after `migrate`, and after a test database's `flush`: the defaults are there
        post_migrate.connect(_seed_after_migrate, sender=self, dispatch_uid="needs_categories")


def _seed_after_migrate(sender, apps=None, using="default", **kwargs):
    from .seed import ensure_default_categories

    ensure_default_categories(apps, using=using)
