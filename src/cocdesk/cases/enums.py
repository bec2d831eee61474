from django.db import models


class CaseState(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigating"
    DECIDED = "decided", "Decided"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"
    MERGED = "merged", "Merged into another case"


# What a reporter reads about their case: plain words, nothing of the team's internal workflow.
REPORTER_STATE_LABELS = {
    CaseState.NEW: "Received: the team has not acknowledged it yet",
    CaseState.ACKNOWLEDGED: "Acknowledged by the team",
    CaseState.INVESTIGATING: "The team is looking into it",
    CaseState.DECIDED: "The team has reached a decision",
    CaseState.CLOSED: "Closed",
    CaseState.REOPENED: "Reopened: the team is looking into it again",
    CaseState.MERGED: "Handled together with a related report",
}


OPEN_STATES = (CaseState.NEW, CaseState.ACKNOWLEDGED, CaseState.INVESTIGATING, CaseState.REOPENED)


class Finding(models.TextChoices):
    VIOLATION = "yes", "A violation of the Code of Conduct"
    NO_VIOLATION = "no", "Not a violation"
    UNDETERMINED = "undetermined", "Not enough information to decide"
    OUT_OF_SCOPE = "out_of_scope", "Outside the Code of Conduct's scope"


class MessageKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"
    QUESTION = "question", "Question"
    UPDATE = "update", "Update"
    OUTCOME = "outcome", "Outcome"
    OTHER = "other", "Other message"
    FEEDBACK = "feedback", "The reporter's view of the response"


class DeadlineKind(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "Acknowledgement"
    UPDATE = "update", "Resolution or update to the reporter"


class AlertStage(models.TextChoices):
    REMINDER = "reminder", "Reminder before the deadline"
    ESCALATION = "escalation", "Escalated to the leads"
    FALLBACK = "fallback", "Escalated to the fallback members"


class Channel(models.TextChoices):
    WEB = "web", "Web form"
    EMAIL = "email", "Email"
    IN_PERSON = "in_person", "In person"
    PHONE = "phone", "Phone"


class Ongoing(models.TextChoices):
    YES = "yes", "Yes, it is still happening"
    NO = "no", "No"
    UNSURE = "unsure", "I am not sure"


class LawEnforcement(models.TextChoices):
    NOT_WANTED = "not_wanted", "I do not want law enforcement involved"
    ALREADY = "already", "I have already contacted law enforcement"
    PLEASE_CONTACT = "please_contact", "Please help me contact law enforcement"
    UNSURE_AGENCY = "unsure_agency", "I am not sure which agency to contact"
    UNDECIDED = "undecided", "I have not decided"


class MessageDirection(models.TextChoices):
    TO_REPORTER = "to_reporter", "From the team to the reporter"
    FROM_REPORTER = "from_reporter", "From the reporter"


class RecusalReason(models.TextChoices):
    REPORTER_REQUEST = "reporter_request", "Excluded by the reporter"
    MANAGER_OR_REPORT = "manager_or_report", "Manager or direct report"
    CO_WORKER = "co_worker", "Close co-worker"
    FAMILY = "family", "Family"
    PERSONAL = "personal", "Romantic or close personal relationship"
    CLIENT = "client", "Client"
    REVIEWS_CONTRIBUTIONS = "reviews_contributions", "Reviews their contributions"
    NAMED_IN_REPORT = "named_in_report", "Named as the reported person"
    OTHER = "other", "Other"


class RecusalSource(models.TextChoices):
    DECLARED = "declared", "Declared by the member"
    REPORTER = "reporter", "Requested by the reporter at intake"
    AUTOMATIC = "automatic", "Automatic (identifiers matched)"
