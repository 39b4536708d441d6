"""`createsuperuser`, refused unless HONGYAN_DEBUG: a production system has no account
above the three administrators (三员分立); they are made with grants, not superuser flags."""

from django.conf import settings
from django.contrib.auth.management.commands import createsuperuser
from django.core.management.base import CommandError


class Command(createsuperuser.Command):
    help = "Create a Django superuser (development only: refused unless HONGYAN_DEBUG=1)."

    def execute(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "生产系统不设超级用户（三员分立）：请用系统管理员、安全管理员、审计管理员账号。"
                " 仅在 HONGYAN_DEBUG=1 的开发环境可以创建超级用户。\n"
                "No superuser outside development (separation of duties): use the system, "
                "security and audit administrator accounts. Allowed only with HONGYAN_DEBUG=1."
            )
        return super().execute(*args, **options)
