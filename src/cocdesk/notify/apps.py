from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "cocdesk.notify"
    label = "notify"
    verbose_name = "Notifications"
