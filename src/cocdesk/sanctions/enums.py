from django.db import models


class DecisionRule(models.TextChoices):
    TWO_AGREE = "two_agree", "At least two members without a conflict agree"
    CONSENSUS = "consensus", "Every member without a conflict who took part agrees (at least two)"
    TWO_THIRDS = "two_thirds", "Two thirds of the members without a conflict agree"


class Vote(models.TextChoices):
    AGREE = "agree", "Agrees"
    DISAGREE = "disagree", "Disagrees"
    ABSTAIN = "abstain", "Abstains"


class SanctionKind(models.TextChoices):
    """The procedures' menu of resolutions, with the measures conferences commonly add."""

    VERBAL_WARNING = "verbal_warning", "Verbal warning"
    PRIVATE_REPRIMAND = "private_reprimand", "Private reprimand"
    PUBLIC_REPRIMAND = "public_reprimand", "Public reprimand"
    APOLOGY_REQUEST = "apology_request", "Request for an apology"
    IMPOSED_VACATION = "imposed_vacation", "Imposed vacation"
    BAN = "ban", "Ban"
    EXPULSION = "expulsion", "Expulsion from an event"
    PRESENTATION_STOPPED = "presentation_stopped", "Presentation stopped"
    NO_CONTACT = "no_contact", "No contact with a named person"
    BARRED_FROM_SOCIAL = "barred_from_social", "Barred from social events"
    VIDEO_WITHHELD = "video_withheld", "Talk video not published"
    VOLUNTEER_ROLE_ENDED = "volunteer_role_ended", "Volunteer role ended"


# What the restriction check answers for: measures that keep a person out of a space or part of it.
RESTRICTING_KINDS = (
    SanctionKind.IMPOSED_VACATION,
    SanctionKind.BAN,
    SanctionKind.EXPULSION,
    SanctionKind.BARRED_FROM_SOCIAL,
)

# Measures that last: they have a scope, a start and an end (or are permanent); the others are done once given.
LASTING_KINDS = (*RESTRICTING_KINDS, SanctionKind.NO_CONTACT, SanctionKind.VOLUNTEER_ROLE_ENDED)


def default_sanction_kinds():
    return [kind.value for kind in SanctionKind]


class SanctionState(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    ENDED = "ended", "Ended early by the team"
    OVERTURNED = "overturned", "Overturned on appeal"
    MODIFIED = "modified", "Modified on appeal"


class NoticeState(models.TextChoices):
    DRAFT = "draft", "Draft, waiting for a second member's approval"
    APPROVED = "approved", "Approved, not yet delivered"
    DELIVERED = "delivered", "Delivered"


class NoticeDelivery(models.TextChoices):
    MAIL = "mail", "By email"
    PRINTED = "printed", "Handed over printed"


class AppealState(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    UPHELD = "upheld", "Upheld"
    MODIFIED = "modified", "Modified"
    OVERTURNED = "overturned", "Overturned"


class StatementState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"
