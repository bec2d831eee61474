from django.apps import AppConfig


class SanctionsConfig(AppConfig):
    name = "cocdesk.sanctions"
    label = "sanctions"
    verbose_name = "Decisions and sanctions"
