from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "cocdesk.people"
    label = "people"
    verbose_name = "People"
