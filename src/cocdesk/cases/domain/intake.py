"""Taking in a report: one atomic step that creates the case, seals the report and issues the receipt."""

from django.db import IntegrityError, router, transaction
from django.utils import timezone

from cocdesk.common import audit
from cocdesk.common.insert_chain import Link, insert_chain
from cocdesk.common.prepared import sent_together
from cocdesk.common.prepared_insert import PreparedInsert
from cocdesk.orgs.models import Membership
from cocdesk.people.domain.members import memberships_named
from cocdesk.people.domain.parties import record_parties
from cocdesk.people.normalise import reported_person_identifiers

from ..enums import Channel, LawEnforcement, Ongoing, RecusalReason, RecusalSource
from ..forms import CONTACT_FIELDS
from ..models import Case, Receipt, Report
from . import alerts, recusal
from . import content as sealed
from .audience import IntakeAudience, team_reading
from .deadlines import acknowledge_due, schedule, update_due
from .references import new_receipt, new_reference, receipt_digest, submission_digest


class AlreadySubmitted(Exception):
    """The same form was sent twice (a reload, a double click): the first submission already made the case."""


def is_urgent(answers):
    return answers.get("ongoing") == Ongoing.YES or answers.get("physical_danger") == "yes"


def members_named_as_reported_person(organization, answers, team=None):
    """Team members whose own names, emails or handles match the reported person's: they must never see it. One
    indexed query over the keyed hashes of the members' identifiers (``people.domain.members``), inactive members
    included: a member named while away must not read the report once they are back. ``team``: the
    organization's ``IntakeAudience``, when the caller has loaded it."""
    reported = reported_person_identifiers(answers)
    if not reported:
        return []
    named = memberships_named(organization, reported)
    if not named:
        return []
    if team is not None:
        return [membership for membership in team.team if membership.pk in named]
    return list(Membership.objects.filter(pk__in=sorted(named)).select_related("user"))


# Every report is inserted this way: each worker builds these statements once (see ``common.prepared``).
_insert_case = PreparedInsert(Case)
_insert_report = PreparedInsert(Report)
_insert_receipt = PreparedInsert(Receipt)

# A reference is drawn at random (about 59 bits) and the database's unique index refuses a taken one: a clash is
# so rare that asking first on every report would cost more than drawing again when it happens.
REFERENCE_DRAWS = 5


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
    now = min(received_at, timezone.now()) if received_at else timezone.now()
    urgent = is_urgent(answers)
    receipt = new_receipt()
    digest = submission_digest(submission_token) if submission_token else None
    draws_left = REFERENCE_DRAWS
    while True:
        reference = new_reference()
        try:
            # Statements whose answers nobody reads wait to go to the database with the next one whose answer is read
            # (``sent_together``), and the transaction's COMMIT goes with the last of them: nothing follows _take_in.
            with transaction.atomic(), sent_together(router.db_for_write(Case), ending_transaction=True):
                case = _take_in(
                    reference=reference,
                    organization=organization,
                    answers=answers,
                    space=space,
                    excluded_members=excluded_members,
                    channel=channel,
                    digest=digest,
                    receipt=receipt,
                    filed_by=filed_by,
                    received_at=now,
                    urgent=urgent,
                    named_members=named_members,
                )
            return case, receipt
        except IntegrityError:
            # The form sent twice (a reload, a double click): the unique submission digest refused the second.
            if digest and Report.objects.filter(submission_digest=digest).exists():
                raise AlreadySubmitted() from None
            draws_left -= 1
            if not draws_left or not Case.objects.filter(reference=reference).exists():
                raise


def _take_in(
    *,
    reference,
    organization,
    answers,
    space,
    excluded_members,
    channel,
    digest,
    receipt,
    filed_by,
    received_at,
    urgent,
    named_members,
):
    """The inside of submit_report's transaction, in a fixed number of queries whatever the size of the team."""
    case = Case(
        reference=reference,
        organization=organization,
        space=space,
        channel=channel,
        is_urgent=urgent,
        received_at=received_at,
        acknowledge_due=acknowledge_due(organization, received_at, urgent),
        update_due=update_due(organization, received_at),
    )
    sealed.issue_data_key(case)
    # What Case.save does before saving (the stored schedule of the case's promises), then the insert itself.
    case.next_due_at, case.next_alert_at = schedule(case)
    report = {
        "received_at": received_at,
        "channel": channel,
        "filed_by_id": filed_by.pk if filed_by else None,
        "has_contact": any(answers.get(name) for name in CONTACT_FIELDS),
        "submission_digest": digest,
        "sealed_content": sealed.seal(case, "report", answers),
    }
    using = router.db_for_write(Case)
    # Inside submit_report's ``sent_together``: the lock of the audit chain's head goes in the round trip of the case's
    # insert, and the events and the team's notices with the commit at the end.
    head = audit.lock_head(organization)
    # The case, its report and the report's receipt in one statement where the database allows: nothing below
    # reads the report or the receipt back. The team is read in the same statement: who hears of the case, and
    # whom it names.
    _keys, team_rows = insert_chain(
        [
            Link(_insert_case, case, {}),
            Link(_insert_report, report, {"case_id": 0}),
            Link(_insert_receipt, {"digest": receipt_digest(receipt)}, {"report_id": 1}),
        ],
        using=using,
        reading=team_reading(organization),
    )
    team = IntakeAudience(organization, team_rows)
    record_parties(case, answers)
    exclusions = [
        (team.membership(m), RecusalReason.REPORTER_REQUEST, RecusalSource.REPORTER) for m in excluded_members
    ]
    exclusions += [
        (team.membership(m), RecusalReason.NAMED_IN_REPORT, RecusalSource.AUTOMATIC)
        for m in [*members_named_as_reported_person(organization, answers, team), *named_members]
    ]
    recusal_entries, fallback_engaged, automatic = recusal.recusals_at_intake(case, exclusions, team=team)
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
    audit.append([received, *recusal_entries], locked=head)
    handlers = team.handlers(case, {membership.pk for membership, _reason, _source in exclusions})
    alerts.announce_new_case(case, automatic_recusal=automatic, fallback_engaged=fallback_engaged, handlers=handlers)
    return case
