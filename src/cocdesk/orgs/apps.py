from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "cocdesk.orgs"
    label = "orgs"
    verbose_name = "Organizations"
