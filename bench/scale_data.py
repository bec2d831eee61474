"""Made-up cases at scale for bench/scale.py: rows shaped like intake's output, written with bulk_create.

Each case gets what ``cocdesk.cases.domain.intake.submit_report`` gives it (its own wrapped data key, one Report
whose answers are sealed with that key, a Receipt stored as a hash, a "case.received" audit event) and, for the
cases further along, the columns the workflow functions set (acknowledged, last update, decided, closed). The
stored deadline columns (``next_due_at``, ``next_alert_at``) come from ``deadlines.schedule`` on each unsaved case,
as ``Case.save()`` would compute them. Everything is relative to one anchor moment per shape, so the sizes of one
shape grow the same organization step by step (1k, then 9k more, then 90k more).
"""

from __future__ import annotations

import random
import secrets
import sys
from dataclasses import dataclass, field
from datetime import timedelta

from run_benchmarks import TEAM_ROLES, answers_for

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

SHAPES = {
    "mostly-closed": "90% closed, 10% open",
    "all-open": "all open",
}
OPEN_SHARE = {"mostly-closed": 0.10, "all-open": 1.0}

# Open cases had their last update to the reporter 3.5 to 5 days before the anchor, so the reminders of their
# 7-day clocks (at three quarters of it) fall 6 to 42 hours after the anchor: nothing is due at the anchor, and any
# moment up to 42 hours later finds each case that has come due with exactly one alert (its update is not due
# before 48 hours). The few new cases arrived in the 4 hours before the anchor (reminder 14-18 h, due 20-24 h).
LAST_UPDATE_AGE = (3.5 * DAY, 5 * DAY)
NEW_CASE_AGE = (timedelta(0), 4 * HOUR)
COHORT_HORIZON = 42 * HOUR
NEW_SHARE_OF_OPEN = 0.01
ACKNOWLEDGED_SHARE_OF_OPEN = 0.25  # the rest of the open cases are under investigation
CHANNELS = [("web", 0.80), ("email", 0.12), ("in_person", 0.05), ("phone", 0.03)]
RECUSAL_EVERY = 500  # one case in 500 has a member recused (2 per 1,000 cases)


@dataclass
class Desk:
    """One organization with its spaces and team, and how far it has grown."""

    organization: object
    spaces: list
    team: dict  # role -> [membership, ...]
    anchor: object
    shape: str
    viewer: object = None  # the responder whose queue and case page are measured
    handlers: list = field(default_factory=list)
    filled: int = 0  # cases made so far, the case-page case included
    case_page_reference: str = ""


def make_desk(shape, anchor, prefix="scale"):
    """An organization with 3 spaces and a 10-member team (3 leads, 4 responders, staff, admin, fallback)."""
    from cocdesk.orgs.enums import SpaceKind
    from tests.factories import OrganizationFactory, SpaceFactory, member
    from tests.team import authenticator

    organization = OrganizationFactory(name=f"Bench {prefix}", slug=f"bench-{prefix}")
    spaces = [
        SpaceFactory(organization=organization, name=f"{prefix} conference", kind=SpaceKind.CONFERENCE),
        SpaceFactory(organization=organization, name=f"{prefix} meetup", kind=SpaceKind.MEETUP),
        SpaceFactory(organization=organization, name=f"{prefix} chat", kind=SpaceKind.ONLINE),
    ]
    team = {}
    for number, role in enumerate(TEAM_ROLES, start=1):
        membership = member(
            organization, role, username=f"{prefix}-{role}-{number}", display_name=f"{role.title()} {number}"
        )
        team.setdefault(role, []).append(membership)
    desk = Desk(organization=organization, spaces=spaces, team=team, anchor=anchor, shape=shape)
    desk.viewer = team["responder"][0]
    desk.handlers = [*team["lead"], *team["responder"]]
    for membership in desk.handlers:
        authenticator(membership.user)  # every handler has a confirmed TOTP device, as the desk requires
    return desk


def make_case_page_case(desk):
    """The case the case page opens: its own report, two duplicates merged into it and 10 messages between the team
    and the reporters, made through the domain functions (as bench/run_benchmarks.py does). Three cases."""
    from cocdesk.cases.domain import reporter, workflow
    from cocdesk.cases.domain import team as team_domain
    from cocdesk.cases.domain.intake import submit_report
    from cocdesk.cases.enums import MessageKind
    from cocdesk.cases.models import Case, Message

    lead = desk.team["lead"][0].user
    filed = []
    for index in range(3):
        case, receipt = submit_report(
            organization=desk.organization, answers=answers_for(index, desk.spaces), space=desk.spaces[0]
        )
        filed.append((case, case.reports.get(), reporter.find_receipt(receipt)))
    (main, main_report, main_receipt), *duplicates = filed
    for case, report, _receipt in duplicates:
        team_domain.message_reporter(
            case, report, author=lead, body="Thank you for your report.", kind="acknowledgement"
        )
        workflow.merge(Case.objects.get(pk=case.pk), into=Case.objects.get(pk=main.pk), by=lead)
    for number in range(8):
        if number % 2 == 0:
            kind = MessageKind.ACKNOWLEDGEMENT if number == 0 else MessageKind.QUESTION
            body = f"Message {number} from the team: could you tell us more about what happened next? " * 3
            team_domain.message_reporter(Case.objects.get(pk=main.pk), main_report, author=lead, body=body, kind=kind)
        else:
            reporter.add_reporter_message(main_receipt, f"Answer {number}: it was right after the break. " * 4)
    assert Message.objects.filter(case__in=[c for c, _r, _t in filed]).count() == 10
    desk.case_page_reference = main.reference
    desk.filled += 3
    return main.reference


def _channel(rng):
    pick, total = rng.random(), 0.0
    for channel, share in CHANNELS:
        total += share
        if pick < total:
            return channel
    return CHANNELS[0][0]


def _timeline(rng, organization, anchor, shape, urgent):
    """The state and deadline columns of one case, as the workflow would have left them."""
    from cocdesk.cases.domain.deadlines import acknowledge_due, update_due
    from cocdesk.cases.enums import CaseState, Finding

    def between(low, high):
        return low + (high - low) * rng.random()

    if rng.random() >= OPEN_SHARE[shape]:
        received = anchor - between(10 * DAY, 365 * DAY)
        last_update = received + between(1 * DAY, 6.5 * DAY)  # the outcome message
        closed = last_update + between(timedelta(0), 2 * DAY)
        return {
            "state": CaseState.CLOSED,
            "received_at": received,
            "acknowledge_due": acknowledge_due(organization, received, urgent),
            "acknowledged_at": received + between(0.5 * HOUR, 20 * HOUR),
            "last_update_at": last_update,
            "update_due": update_due(organization, last_update),
            "decided_at": last_update,
            "closed_at": closed,
            "violation": rng.choice(Finding.values),
            "category": rng.choice(organization.categories),
        }
    pick = rng.random()
    if pick < NEW_SHARE_OF_OPEN and not urgent:
        # Just taken in: what intake itself leaves (an urgent one would be due within 2 hours: none of those).
        received = anchor - between(*NEW_CASE_AGE)
        return {
            "state": CaseState.NEW,
            "received_at": received,
            "acknowledge_due": acknowledge_due(organization, received, urgent),
            "update_due": update_due(organization, received),
        }
    received = anchor - between(6 * DAY, 365 * DAY)
    last_update = anchor - between(*LAST_UPDATE_AGE)
    investigating = pick >= NEW_SHARE_OF_OPEN + ACKNOWLEDGED_SHARE_OF_OPEN
    return {
        "state": CaseState.INVESTIGATING if investigating else CaseState.ACKNOWLEDGED,
        "received_at": received,
        "acknowledge_due": acknowledge_due(organization, received, urgent),
        "acknowledged_at": received + between(0.5 * HOUR, 20 * HOUR),
        "last_update_at": last_update,
        "update_due": update_due(organization, last_update),
        "category": rng.choice(organization.categories) if investigating else "",
    }


def grow(desk, target, *, batch=2000):
    """Adds cases to the desk's organization until it holds ``target`` (counting the case-page case)."""
    while desk.filled < target:
        count = min(batch, target - desk.filled)
        _add_batch(desk, desk.filled, count)
        desk.filled += count


def _add_batch(desk, start, count):
    from django.db import transaction
    from django.db.models import F

    from cocdesk.cases.domain import content
    from cocdesk.cases.domain.deadlines import schedule
    from cocdesk.cases.domain.intake import is_urgent
    from cocdesk.cases.domain.references import new_receipt, new_reference, receipt_digest, submission_digest
    from cocdesk.cases.enums import CaseState, LawEnforcement, RecusalReason, RecusalSource
    from cocdesk.cases.forms import CONTACT_FIELDS
    from cocdesk.cases.models import Case, Receipt, Recusal, Report
    from cocdesk.common import audit

    rng = random.Random(f"{desk.shape}:{start}")
    organization, spaces = desk.organization, desk.spaces
    staff = desk.team["staff"][0].user
    lead = desk.team["lead"][0].user
    cases, filings = [], []
    for index in range(start, start + count):
        answers = answers_for(index, spaces)
        urgent = is_urgent(answers)
        channel = _channel(rng)
        filed_by = staff if channel in ("in_person", "phone") else None
        case = Case(
            reference=new_reference(),
            organization=organization,
            space=spaces[index % len(spaces)],
            channel=channel,
            is_urgent=urgent,
            **_timeline(rng, organization, desk.anchor, desk.shape, urgent),
        )
        content.issue_data_key(case)
        case.next_due_at, case.next_alert_at = schedule(case)
        cases.append(case)
        filings.append((answers, filed_by))

    with transaction.atomic():
        Case.objects.bulk_create(cases)
        # auto_now_add stamped the moment of insertion; intake's cases were created when they were received.
        Case.objects.filter(pk__gte=cases[0].pk, pk__lte=cases[-1].pk, organization=organization).update(
            created_at=F("received_at"), updated_at=F("received_at")
        )
        reports = [
            Report(
                case=case,
                received_at=case.received_at,
                channel=case.channel,
                filed_by=filed_by,
                has_contact=any(answers.get(name) for name in CONTACT_FIELDS),
                submission_digest=submission_digest(secrets.token_urlsafe(24)),
                sealed_content=content.seal(case, "report", answers),
            )
            for case, (answers, filed_by) in zip(cases, filings, strict=True)
        ]
        Report.objects.bulk_create(reports)
        Receipt.objects.bulk_create(
            [Receipt(report=report, digest=receipt_digest(new_receipt())) for report in reports]
        )

        events, assignments, recusals = [], [], []
        Assignment = Case.assignees.through
        for offset, (case, (answers, filed_by)) in enumerate(zip(cases, filings, strict=True)):
            index = start + offset
            events.append(
                {
                    "action": "case.received",
                    "actor": filed_by,
                    "reporter": filed_by is None,
                    "case": case,
                    "channel": case.channel,
                    "urgent": case.is_urgent,
                    "exclusions": 0,
                    "law_enforcement_help": answers.get("law_enforcement") == LawEnforcement.PLEASE_CONTACT,
                }
            )
            if index % 4 == 0:  # a quarter of the cases are assigned, to one or two handlers
                chosen = [desk.handlers[index // 4 % len(desk.handlers)]]
                if index % 8 == 0:
                    chosen.append(desk.handlers[(index // 4 + 3) % len(desk.handlers)])
                assignments += [Assignment(case_id=case.pk, membership_id=m.pk) for m in chosen]
                events.append(
                    {
                        "action": "case.assigned",
                        "actor": lead,
                        "case": case,
                        "assignees": sorted(m.user.get_username() for m in chosen),
                    }
                )
            elif index % RECUSAL_EVERY == RECUSAL_EVERY // 2:  # never on an assigned case: recusal unassigns
                recused = desk.handlers[index // RECUSAL_EVERY % len(desk.handlers)]
                recusals.append(
                    Recusal(
                        case=case,
                        membership=recused,
                        reason=RecusalReason.CO_WORKER,
                        source=RecusalSource.DECLARED,
                        created_by=recused.user,
                        created_at=case.received_at + HOUR,
                    )
                )
                events.append(
                    {
                        "action": "case.recusal",
                        "actor": recused.user,
                        "case": case,
                        "member": recused.user.get_username(),
                        "reason": RecusalReason.CO_WORKER,
                        "source": RecusalSource.DECLARED,
                    }
                )
            if case.state == CaseState.CLOSED:
                events.append({"action": "case.decided", "actor": lead, "case": case, "finding": case.violation})
                events.append({"action": "case.close", "actor": lead, "case": case, "from": "decided", "to": "closed"})
        Assignment.objects.bulk_create(assignments)
        Recusal.objects.bulk_create(recusals)
        audit.record_many(events)


def census(organization):
    """Cases of the organization per state, and the open ones."""
    from django.db.models import Count

    from cocdesk.cases.enums import OPEN_STATES
    from cocdesk.cases.models import Case

    per_state = dict(
        Case.objects.filter(organization=organization).order_by().values_list("state").annotate(Count("pk"))
    )
    return per_state, sum(per_state.get(state, 0) for state in OPEN_STATES)


def reset_database():
    """Empties every table (between shapes), so each shape starts from an empty database as the first did."""
    from django.core.management import call_command
    from django.db import connection

    call_command("flush", interactive=False, verbosity=0)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")


def settle():
    """On PostgreSQL, VACUUM ANALYZE after loading, as autovacuum does on its own a little later: the planner gets
    the tables' statistics and index-only scans their visibility map; then a checkpoint, so the pages the load and
    the vacuum dirtied are not written out by the server in the middle of the measurements (a deployment's were
    long since). SQLite is left as a deployment has it (Django never runs ANALYZE there, so its planner has no
    statistics); its write-ahead log is checkpointed."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
            try:
                cursor.execute("CHECKPOINT")
            except DatabaseError:
                print("scale: no CHECKPOINT (needs a superuser or pg_checkpoint); measuring anyway", file=sys.stderr)
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as the automatic checkpoints would, by and by
