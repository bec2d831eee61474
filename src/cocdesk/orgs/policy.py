"""The procedures' promises, as default values of each organization's policy."""

ACKNOWLEDGE_WITHIN_HOURS = 24
URGENT_ACKNOWLEDGE_WITHIN_HOURS = 2
UPDATE_WITHIN_DAYS = 7
RECUSAL_THRESHOLD = 2
APPEAL_WINDOW_DAYS = 30
RETENTION_DAYS = 3 * 365
# The leads hear this many days before a closed case is erased, and may hold it meanwhile.
RETENTION_NOTICE_DAYS = 14
FALLBACK_ESCALATION_HOURS = 24
SANCTION_NOTICE_DAYS = 7
APPEAL_REVIEW_DAYS = 14
SMALL_COUNT_THRESHOLD = 3

# The decision rules an organization may choose (stored values; their wording lives with the sanctions).
DECISION_RULES = [
    ("two_agree", "At least two members without a conflict agree"),
    ("consensus", "Every member without a conflict who took part agrees (at least two)"),
    ("two_thirds", "Two thirds of the members without a conflict who took part agree"),
]
DECISION_RULE = "two_agree"


def default_sanction_kinds():
    from cocdesk.sanctions.enums import default_sanction_kinds as kinds

    return kinds()


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
    # To the person a decision concerns, in four parts; nothing in it may identify who reported or saw it.
    "sanction_notice": (
        "Behaviour:\n"
        "The Code of Conduct team of {organization} has looked at your behaviour: [[what you did, where and when, "
        "without naming or describing anyone who reported it or saw it]]. The team found that it violates our Code "
        "of Conduct.\n\n"
        "Impact:\n"
        "[[how this behaviour affected people and the community]]. Our Code of Conduct is there so that everyone "
        "can take part safely, and this behaviour works against that.\n\n"
        "Expected change:\n"
        "From now on we expect you to [[the change the team expects]].\n\n"
        "Consequences:\n"
        "The team decided: [[the actions taken, where they apply and how long they last]]. If the behaviour "
        "continues, the team may take further action, up to a ban from all of our spaces."
    ),
}


# The values a message template may name, and nothing else: no attribute or index look-ups.
TEMPLATE_PLACEHOLDERS = {
    "organization": "the organization's name",
    "acknowledge_within_hours": "the acknowledgement window, in hours",
    "update_within_days": "the update window, in days",
    "appeal_window_days": "the appeal window, in days",
}
