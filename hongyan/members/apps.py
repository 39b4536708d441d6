from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "hongyan.members"
    label = "members"
    verbose_name = "党员名册"

    def ready(self):
        from hongyan.core import pii

        from .models import ID_AAD, ID_PURPOSE, MOBILE_AAD, MOBILE_PURPOSE, MemberRecord

        # every row, removed members' too (Member.objects leaves those out)
        pii.register_encrypted_field(
            MemberRecord,
            "id_number_enc",
            aad=ID_AAD,
            index_field="id_number_index",
            index_purpose=ID_PURPOSE,
        )
        pii.register_encrypted_field(
            MemberRecord,
            "mobile_enc",
            aad=MOBILE_AAD,
            index_field="mobile_index",
            index_purpose=MOBILE_PURPOSE,
        )

        from hongyan.core.worker import register_sweep

        from .imports import sweep_jobs, sweep_uploads

        register_sweep("member_import_uploads", every_seconds=3600)(sweep_uploads)
        register_sweep("member_import_jobs", every_seconds=60)(sweep_jobs)
