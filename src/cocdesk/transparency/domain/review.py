"""A transparency report's way to the public: the team edits the draft, sends it for review once the
identifying-detail check finds nothing, a second member approves it (or sends it back), and an organization admin
publishes it after the check has run once more. Each step is one function: check, save and audit in one transaction;
the audit records the step, never the text."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.orgs.rules import can

from ..enums import ReportState
from ..models import TransparencyReport
from .drafts import check_drafter, clean_title, scope_cases
from .identifying import identifying_details

LINE_MAX = 500
NARRATIVE_MAX = 20_000


class IdentifyingDetailsFound(ValidationError):
    """The report's words hold details recorded in its cases; ``hits`` says which words to remove."""

    def __init__(self, hits, message=None):
        self.hits = hits
        listed = "; ".join(str(hit) for hit in hits)
        super().__init__(
            message
            or f"These words could identify someone in this period's cases: {listed}. Remove or reword them, then "
            "save again."
        )


def _locked(report, *states):
    locked = TransparencyReport.objects.select_for_update().get(pk=report.pk)
    if locked.state not in states:
        raise ValidationError(f"This report is {locked.get_state_display().lower()}: it cannot take this step now.")
    return locked


def _require(user, permission, report):
    if not can(user, permission, report):
        raise PermissionDenied


def _check_member(report, user):
    """A member who edits, sends or reviews the report sees every case of it (see ``check_drafter``)."""
    cases = scope_cases(
        report.organization, space=report.space, period_start=report.period_start, period_end=report.period_end
    )
    check_drafter(report.organization, user, space=report.space, cases=cases)


def clean_lines(report, texts, *, start=0, of=None):
    """The draft's lines with ``texts`` in place of the lines from index ``start`` on (a page of them, or all when
    ``of`` is None), each keeping its month and its place; an emptied line is left out of what is published (the
    team decided to say nothing of that case). ``of``: how many lines the draft held when the page was shown."""
    total = len(report.lines)
    if of is None:
        fits = start == 0 and len(texts) == total
    else:
        fits = of == total and start >= 0 and start + len(texts) <= total
    if not fits:
        raise ValidationError("The lines changed while you edited them: reload the page and edit them again.")
    edited = []
    for line, text in zip(report.lines[start : start + len(texts)], texts, strict=True):
        text = " ".join((text or "").split())
        if len(text) > LINE_MAX:
            raise ValidationError(f"Keep each line under {LINE_MAX} characters.")
        edited.append({"text": text, "month": line.get("month", "")})
    return [*report.lines[:start], *edited, *report.lines[start + len(texts) :]]


def update_draft(report, *, by, title, narrative, lines, lines_from=0, line_count=None):
    """Saves the team's words. Words the check finds are refused before they are stored: a report's text is not
    sealed, so an identifier must never reach it. ``lines``: the texts of the draft's lines, in order, from index
    ``lines_from`` on when ``line_count`` (the number of lines the draft held when they were shown) is given."""
    _require(by, "transparency.edit_report", report)
    _check_member(report, by)
    title = clean_title(title)
    narrative = (narrative or "").strip()
    if len(narrative) > NARRATIVE_MAX:
        raise ValidationError(f"Keep the narrative under {NARRATIVE_MAX:,} characters.")
    edited = clean_lines(report, lines, start=lines_from, of=line_count)
    hits = identifying_details(report, by=by, title=title, narrative=narrative, lines=edited)
    if hits:
        raise IdentifyingDetailsFound(hits)
    with transaction.atomic():
        locked = _locked(report, ReportState.DRAFT)
        if len(locked.lines) != len(report.lines):
            raise ValidationError("The lines changed while you edited them: reload the page and edit them again.")
        locked.title, locked.narrative, locked.lines = title, narrative, edited
        locked.save(update_fields=["title", "narrative", "lines", "updated_at"])
        audit.record("transparency.edited", actor=by, organization=locked.organization, report=locked.pk)
    return locked


def submit_for_review(report, *, by):
    """The draft goes to a second member, once the check finds nothing in it."""
    _require(by, "transparency.edit_report", report)
    _check_member(report, by)
    hits = identifying_details(report, by=by)
    if hits:
        raise IdentifyingDetailsFound(hits)
    with transaction.atomic():
        locked = _locked(report, ReportState.DRAFT)
        locked.state = ReportState.IN_REVIEW
        locked.save(update_fields=["state", "updated_at"])
        audit.record("transparency.submitted", actor=by, organization=locked.organization, report=locked.pk)
    return locked


def review_report(report, *, by, approve):
    """A second member (never the one who drafted it) approves the report for publication or sends it back."""
    _require(by, "transparency.review_report", report)
    _check_member(report, by)
    with transaction.atomic():
        locked = _locked(report, ReportState.IN_REVIEW)
        if locked.drafted_by_id == by.pk:
            raise PermissionDenied
        if approve:
            locked.state, locked.reviewed_by, locked.reviewed_at = ReportState.APPROVED, by, timezone.now()
        else:
            locked.state, locked.reviewed_by, locked.reviewed_at = ReportState.DRAFT, None, None
        locked.save(update_fields=["state", "reviewed_by", "reviewed_at", "updated_at"])
        audit.record(
            "transparency.approved" if approve else "transparency.sent_back",
            actor=by,
            organization=locked.organization,
            report=locked.pk,
        )
    return locked


def publish_report(report, *, by):
    """An admin publishes the approved report. The check runs again (people may have been recorded since the
    review): if it finds anything, the report goes back to the team as a draft and nothing is published."""
    _require(by, "transparency.publish_report", report)
    hits = identifying_details(report, by=by)
    with transaction.atomic():
        locked = _locked(report, ReportState.APPROVED)
        if hits:
            locked.state, locked.reviewed_by, locked.reviewed_at = ReportState.DRAFT, None, None
            locked.save(update_fields=["state", "reviewed_by", "reviewed_at", "updated_at"])
            audit.record(
                "transparency.returned", actor=by, organization=locked.organization, report=locked.pk, found=len(hits)
            )
        else:
            locked.state, locked.published_by, locked.published_at = ReportState.PUBLISHED, by, timezone.now()
            locked.save(update_fields=["state", "published_by", "published_at", "updated_at"])
            audit.record("transparency.published", actor=by, organization=locked.organization, report=locked.pk)
    if hits:
        raise IdentifyingDetailsFound(
            hits,
            "Not published: the report now holds words that could identify someone in its cases. It went back to "
            "the team as a draft to reword them.",
        )
    return locked
