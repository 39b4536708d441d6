from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "hongyan.exports"
    label = "exports"
    verbose_name = "数据导出"

    def ready(self):
        from hongyan.core.worker import register_sweep

        from . import kinds  # noqa: F401  (registers the member register's export)
        from .services import sweep_expired

        register_sweep("expired_exports", every_seconds=600)(sweep_expired)
