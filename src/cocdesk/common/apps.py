from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "cocdesk.common"
    label = "common"
    verbose_name = "Common"
