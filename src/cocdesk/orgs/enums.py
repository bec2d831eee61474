from django.db import models


class SpaceKind(models.TextChoices):
    CONFERENCE = "conference", "Conference"
    MEETUP = "meetup", "Meetup series"
    ONLINE = "online", "Online space"


class Platform(models.TextChoices):
    NONE = "", "Not online"
    SLACK = "slack", "Slack"
    DISCORD = "discord", "Discord"
    FORUM = "forum", "Forum"
    CHAT = "chat", "Chat (Matrix, IRC, Zulip…)"
    MAILING_LIST = "mailing_list", "Mailing list"
    EVENT_PLATFORM = "event_platform", "Online event platform"
    OTHER = "other", "Other"


class Role(models.TextChoices):
    STAFF = "staff", "Staff / volunteer"
    RESPONDER = "responder", "Responder"
    LEAD = "lead", "Lead responder"
    ADMIN = "admin", "Organization admin"
    FALLBACK = "fallback", "Fallback member"
