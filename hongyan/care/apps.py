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

        from . import sweeps  # noqa: F401  (registers the visit reminders)
