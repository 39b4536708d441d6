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

        from . import services, sweeps  # noqa: F401  (registers sweeps and the 办实事 source)
