"""Taking in a report: one atomic step that creates the case, seals the report and issues the receipt."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.orgs.models import Membership
from cocdesk.people.normalise import member_identifiers, reported_person_identifiers

from ..enums import Channel, LawEnforcement, Ongoing, RecusalReason, RecusalSource
from ..forms import CONTACT_FIELDS
from ..models import Case, Receipt, Report
from . import alerts, recusal
from . import content as sealed
from .deadlines import acknowledge_due, update_due
from .references import new_receipt, new_reference, receipt_digest, submission_digest


class AlreadySubmitted(Exception):
    """The same form was sent twice (a reload, a double click): the first submission already made the case."""


def is_urgent(answers):
    return answers.get("ongoing") == Ongoing.YES or answers.get("physical_danger") == "yes"


def members_named_as_reported_person(organization, answers):
    """Team members whose own names, emails or handles match the reported person's: they must never see it."""
    reported = reported_person_identifiers(answers)
    if not reported:
        return []
    # Inactive members too: a member named while away must not read the report once they are back.
    team = Membership.objects.filter(organization=organization).select_related("user")
    return [membership for membership in team if member_identifiers(membership) & reported]


def _unique_reference():
    for _attempt in range(10):
        reference = new_reference()
        if not Case.objects.filter(reference=reference).exists():
            return reference
    raise RuntimeError("could not draw an unused case reference")


def submit_report(
    *,
    organization,
    answers,
    space=None,
    excluded_members=(),
    channel=Channel.WEB,
    submission_token=None,
    filed_by=None,
    received_at=None,
    named_members=(),
):
    """Creates a case holding this report and returns (case, receipt). The receipt is returned once, here,
    and only its hash is stored. The transaction commits before the caller tells the reporter anything.

    ``received_at``: when the report reached us, if earlier than now (a mail that waited in the mailbox): the
    deadlines run from it. ``named_members``: team members the report names (found by the channel's own
    reading, such as mail intake's), recused automatically like a member named as the reported person."""
    if submission_token and Report.objects.filter(submission_digest=submission_digest(submission_token)).exists():
        raise AlreadySubmitted()
    now = min(received_at, timezone.now()) if received_at else timezone.now()
    urgent = is_urgent(answers)
    receipt = new_receipt()
    try:
        with transaction.atomic():
            case = Case(
                reference=_unique_reference(),
                organization=organization,
                space=space,
                channel=channel,
                is_urgent=urgent,
                received_at=now,
                acknowledge_due=acknowledge_due(organization, now, urgent),
                update_due=update_due(organization, now),
            )
            sealed.issue_data_key(case)
            case.save()
            report = Report.objects.create(
                case=case,
                received_at=now,
                channel=channel,
                filed_by=filed_by,
                has_contact=any(answers.get(name) for name in CONTACT_FIELDS),
                submission_digest=submission_digest(submission_token) if submission_token else None,
                sealed_content=sealed.seal(case, "report", answers),
            )
            Receipt.objects.create(report=report, digest=receipt_digest(receipt))
            exclusions = [(m, RecusalReason.REPORTER_REQUEST, RecusalSource.REPORTER) for m in excluded_members]
            exclusions += [
                (m, RecusalReason.NAMED_IN_REPORT, RecusalSource.AUTOMATIC)
                for m in [*members_named_as_reported_person(organization, answers), *named_members]
            ]
            recusal_entries, fallback_engaged, automatic = recusal.recusals_at_intake(case, exclusions)
            received = {
                "action": "case.received",
                "actor": filed_by,
                "reporter": filed_by is None,
                "case": case,
                "channel": channel,
                "urgent": urgent,
                "exclusions": len(excluded_members),
                "law_enforcement_help": answers.get("law_enforcement") == LawEnforcement.PLEASE_CONTACT,
            }
            audit.record_many([received, *recusal_entries])
            alerts.announce_new_case(case, automatic_recusal=automatic, fallback_engaged=fallback_engaged)
    except IntegrityError:
        if submission_token and Report.objects.filter(submission_digest=submission_digest(submission_token)).exists():
            raise AlreadySubmitted() from None
        raise
    return case, receipt
