"""The procedures' promises, as default values of each organization's policy."""

ACKNOWLEDGE_WITHIN_HOURS = 24
URGENT_ACKNOWLEDGE_WITHIN_HOURS = 2
UPDATE_WITHIN_DAYS = 7
RECUSAL_THRESHOLD = 2
APPEAL_WINDOW_DAYS = 30
RETENTION_DAYS = 3 * 365

DEFAULT_CATEGORIES = [
    "Harassment",
    "Unwelcome sexual attention",
    "Discriminatory language or jokes",
    "Intimidation or threats",
    "Stalking or following",
    "Unwanted photography or recording",
    "Disruption of talks or events",
    "Inappropriate content",
    "Doxxing or sharing private information",
    "Other",
]


def default_categories():
    return list(DEFAULT_CATEGORIES)
