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

        from django.db.models.signals import post_migrate

        from . import selectors  # noqa: F401  (registers the 办实事 source of approved hours)

        # after `migrate`, and after a test database's `flush`: the default kinds are there
        post_migrate.connect(_seed_after_migrate, sender=self, dispatch_uid="volunteer_kinds")


def _seed_after_migrate(sender, apps=None, using="default", **kwargs):
    """A missing default team kind comes back; an existing one (maybe switched off) stays."""
    from .models import DEFAULT_TEAM_KINDS, TeamKind

    for position, name in enumerate(DEFAULT_TEAM_KINDS, start=1):
        TeamKind.objects.using(using).get_or_create(name=name, defaults={"position": position})
