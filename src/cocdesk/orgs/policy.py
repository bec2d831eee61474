"""The procedures' promises, as default values of each organization's policy."""

ACKNOWLEDGE_WITHIN_HOURS = 24
URGENT_ACKNOWLEDGE_WITHIN_HOURS = 2
UPDATE_WITHIN_DAYS = 7
RECUSAL_THRESHOLD = 2
APPEAL_WINDOW_DAYS = 30
RETENTION_DAYS = 3 * 365
FALLBACK_ESCALATION_HOURS = 24

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


# The reporter-facing templates, in the procedures' words; each organization edits its own copy.
DEFAULT_TEMPLATES = {
    "acknowledgement": (
        "Thank you for your report. We have received it and the Code of Conduct team is looking at it now.\n\n"
        "We will get back to you with a resolution, or an update if it takes longer, within {update_within_days} "
        "days. If the situation is ongoing or anyone's safety is at risk, protecting everyone comes first."
    ),
    "question": (
        "Thank you again for your report. To help us understand what happened, could you tell us:\n\n[[your question]]"
    ),
    "update": (
        "An update on your report: the team has discussed it and is still working on it. We have not reached a "
        "resolution yet because [[the reason for the delay]].\n\nWe will write again within {update_within_days} "
        "days."
    ),
    "outcome": "Thank you for your patience. The Code of Conduct team has reached a decision on your report.",
}


# The values a message template may name, and nothing else: no attribute or index look-ups.
TEMPLATE_PLACEHOLDERS = {
    "organization": "the organization's name",
    "acknowledge_within_hours": "the acknowledgement window, in hours",
    "update_within_days": "the update window, in days",
}
