from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cocdesk.cases"
    label = "cases"
    verbose_name = "Cases"
