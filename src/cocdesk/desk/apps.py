from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "cocdesk.desk"
    label = "desk"
    verbose_name = "Team desk"
