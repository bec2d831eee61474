from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "cocdesk.public"
    label = "public"
    verbose_name = "Public pages"
