from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hongyan.core"
    label = "core"
    verbose_name = "核心"
