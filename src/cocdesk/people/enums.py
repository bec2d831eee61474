from django.db import models


class IdentifierKind(models.TextChoices):
    NAME = "name", "Name or nickname"
    EMAIL = "email", "Email address"
    HANDLE = "handle", "Handle or screen name"
    PHONE = "phone", "Phone number"
    BADGE = "badge", "Badge number"
    COMPANY = "company", "Company or affiliation"


class PartyRole(models.TextChoices):
    REPORTED = "reported", "Reported person"
    WITNESS = "witness", "Witness"
    OTHER = "other", "Other person involved"
