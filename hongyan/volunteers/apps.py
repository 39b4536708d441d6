from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "hongyan.volunteers"
    label = "volunteers"
    verbose_name = "志愿服务"

    def ready(self):
        from hongyan.core import pii

        from .models import MOBILE_AAD, MOBILE_PURPOSE, Volunteer

        pii.register_encrypted_field(
            Volunteer,
            "mobile_enc",
            aad=MOBILE_AAD,
            index_field="mobile_index",
            index_purpose=MOBILE_PURPOSE,
        )

        from . import selectors  # noqa: F401  (registers the 办实事 source of approved hours)
