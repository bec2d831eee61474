"""Appeals: once, within the window, against a permanent sanction only, through the notice's private link; reviewed
by members who took no part in the decision (a decider gets 404); overturning ends the sanction, modifying replaces
it; the reason reaches the appellant; pending appeals show in the reviewers' queue; they keep the case from erasure."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocdesk.cases.domain import retention
from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import CaseState, RecusalReason, RecusalSource
from cocdesk.cases.models import Case
from cocdesk.common.models import AuditEvent
from cocdesk.notify.models import Notification
from cocdesk.orgs.access import forget
from cocdesk.orgs.rules import can
from cocdesk.sanctions.domain import appeals, notices
from cocdesk.sanctions.domain.queries import appeals_awaiting_review, appeals_to_review
from cocdesk.sanctions.enums import AppealState, NoticeDelivery, SanctionState
from cocdesk.sanctions.models import Appeal, Notice, Sanction
from tests.factories import OrganizationFactory, SpaceFactory, member
from tests.mail_server import mail_server, run_worker
from tests.sanctions.factories_notices import (
    PERSON_EMAIL,
    REPORTER_EMAIL,
    REPORTER_NAME,
    WITNESS,
    WITNESS_EMAIL,
    approved_notice,
    decided_case,
)
from tests.team import log_in

STATEMENT = "Canary-Appeal-5c1e: I was not at the social that evening."
REASON = "Canary-Reason-9d0b: two members saw the badge; the ban stands."
PERMANENT_ONLY = "Only permanent resolutions (such as bans) may be appealed"
APPEAL_LINK = re.compile(r"/appeal/([A-Za-z0-9_-]{40,})/")


def printed(decided):
    """Delivers the notice printed; returns the token shown once."""
    notice = approved_notice(decided, address="")
    return notices.deliver_notice(notice, by=decided.reviewer.user, method=NoticeDelivery.PRINTED)


def appealed(decided):
    token = printed(decided)
    return token, appeals.submit_appeal(token, STATEMENT)


# --- submitting -------------------------------------------------------------------------------------------------


def test_an_appeal_is_taken_once_with_its_deadline_and_the_reviewers_are_told(db):
    decided = decided_case()
    token, appeal = appealed(decided)
    assert appeal.state == AppealState.PENDING
    assert appeal.review_due_at - appeal.received_at == timedelta(days=decided.organization.appeal_review_days)
    assert STATEMENT.encode() not in bytes(appeal.sealed_statement)
    assert appeals.statement_of(appeal) == STATEMENT
    told = Notification.objects.filter(kind="appeal_received")
    assert {n.recipient_id for n in told} == {decided.reviewer.user_id, decided.second_reviewer.user_id}
    assert all(STATEMENT not in n.body and "Canary" not in n.subject for n in told)
    with pytest.raises(ValidationError, match="can be appealed only once"):
        appeals.submit_appeal(token, "And again.")
    assert Appeal.objects.count() == 1
    assert AuditEvent.objects.filter(action="appeal.received", case=decided.case).exists()


def test_a_temporary_sanction_cannot_be_appealed(db):
    decided = decided_case()
    token = printed(decided)
    # The ban was made temporary after the notice went out: what remains is not permanent.
    Sanction.objects.filter(pk=decided.sanctions[0].pk).update(
        is_permanent=False, ends_at=timezone.now() + timedelta(days=30)
    )
    with pytest.raises(ValidationError) as refused:
        appeals.submit_appeal(token, STATEMENT)
    assert PERMANENT_ONLY in refused.value.messages[0]
    assert not Appeal.objects.exists()


def test_a_notice_of_a_temporary_sanction_has_no_appeal_link(db):
    decided = decided_case(permanent=False)
    assert printed(decided) is None
    notice = Notice.objects.get()
    assert notice.appeal_token_digest is None and notice.appeal_closes_at is None


def test_an_appeal_after_the_window_is_refused_with_the_date(db):
    decided = decided_case()
    token = printed(decided)
    closed = timezone.now() - timedelta(days=1)
    Notice.objects.update(appeal_closes_at=closed)
    with pytest.raises(ValidationError) as refused:
        appeals.submit_appeal(token, STATEMENT)
    assert f"The appeal window closed on {timezone.localtime(closed):%-d %B %Y}" in refused.value.messages[0]
    assert not Appeal.objects.exists()


def test_the_appeal_page_takes_a_statement_and_refuses_in_plain_words(db):
    decided = decided_case()
    token = printed(decided)
    client = Client()
    page = client.get(f"/appeal/{token}/")
    text = page.content.decode()
    assert page.status_code == 200 and decided.organization.name in text
    assert "Ban" in text and "Main conference" in text and "permanent" in text
    assert client.post(f"/appeal/{token}/", {"statement": ""}).status_code == 200
    assert not Appeal.objects.exists()
    sent = client.post(f"/appeal/{token}/", {"statement": STATEMENT}, follow=True)
    assert "You appealed on" in sent.content.decode()
    assert Appeal.objects.count() == 1
    Sanction.objects.update(is_permanent=False, ends_at=timezone.now() + timedelta(days=3))
    Appeal.objects.all().delete()
    refused = client.get(f"/appeal/{token}/").content.decode()
    assert PERMANENT_ONLY in refused and 'name="statement"' not in refused


def test_an_unknown_token_gets_the_same_page_as_a_link_that_no_longer_works(db):
    decided = decided_case()
    token = printed(decided)
    Case.objects.filter(pk=decided.case.pk).update(is_erased=True)
    dead = Client().get(f"/appeal/{token}/")
    unknown = Client().get("/appeal/" + "x" * 43 + "/")
    assert dead.status_code == unknown.status_code == 404
    assert dead.content == unknown.content
    with pytest.raises(appeals.UnknownAppealLink):
        appeals.submit_appeal("x" * 43, STATEMENT)


def test_wrong_tokens_are_throttled_and_the_throttled_page_is_the_same_for_every_token(db, settings):
    settings.COCDESK_RECEIPT_ATTEMPTS = 3
    decided = decided_case()
    token = printed(decided)
    client = Client()
    for attempt in range(3):
        assert client.get(f"/appeal/wrong-{attempt}-{'y' * 40}/").status_code == 404
    blocked_real = client.get(f"/appeal/{token}/")
    blocked_unknown = client.get("/appeal/" + "z" * 43 + "/")
    assert blocked_real.content == blocked_unknown.content
    assert "Too many attempts" in blocked_real.content.decode()


# --- reviewing --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["recorder", "voter"])
def test_a_member_who_decided_gets_404_and_changes_nothing(db, who):
    decided = decided_case()
    _token, appeal = appealed(decided)
    decider = getattr(decided, who)
    client = log_in(Client(), decider.user)
    assert client.get(f"/desk/appeals/{appeal.pk}/").status_code == 404
    response = client.post(f"/desk/appeals/{appeal.pk}/", {"outcome": "overturned", "reason": REASON})
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        appeals.review_appeal(appeal, by=decider.user, outcome=AppealState.OVERTURNED, reason=REASON)
    appeal.refresh_from_db()
    assert appeal.state == AppealState.PENDING
    assert Sanction.objects.get().state == SanctionState.ACTIVE
    assert not AuditEvent.objects.filter(action__in=["appeal.reviewed", "appeal.read"]).exists()


def test_a_recused_member_and_an_outsider_get_404(db):
    decided = decided_case()
    _token, appeal = appealed(decided)
    recused = member(decided.organization, "responder")
    recuse(decided.case, recused, reason=RecusalReason.PERSONAL, source=RecusalSource.DECLARED, by=recused.user)
    staff = member(decided.organization, "staff")
    for membership in (recused, staff):
        client = log_in(Client(), membership.user)
        assert client.get(f"/desk/appeals/{appeal.pk}/").status_code == 404
        assert not appeals_to_review(membership.user).exists()


def test_a_reviewer_overturns_by_mail_and_the_sanction_ends(transactional_db):
    decided = decided_case()
    notice = approved_notice(decided)
    with mail_server() as smtp:
        notices.deliver_notice(notice, by=decided.reviewer.user, method=NoticeDelivery.MAIL)
        run_worker()
        token = APPEAL_LINK.search(smtp.to(PERSON_EMAIL)[0].body).group(1)
        appeal = appeals.submit_appeal(token, STATEMENT)
        client = log_in(Client(), decided.reviewer.user)
        page = client.get(f"/desk/appeals/{appeal.pk}/").content.decode()
        assert STATEMENT in page
        response = client.post(f"/desk/appeals/{appeal.pk}/", {"outcome": "overturned", "reason": REASON})
        assert response.status_code == 302
        run_worker()
    sanction = Sanction.objects.get()
    assert sanction.state == SanctionState.OVERTURNED and sanction.ended_at is not None
    appeal.refresh_from_db()
    assert appeal.state == AppealState.OVERTURNED and appeal.reviewed_by == decided.reviewer.user
    answers = smtp.to(PERSON_EMAIL)
    assert len(answers) == 2 and REASON in answers[1].body and "overturned" in answers[1].body
    assert STATEMENT not in answers[1].raw
    assert AuditEvent.objects.filter(action="appeal.reviewed", case=decided.case).exists()


def test_modifying_replaces_the_sanction_with_the_new_scope_and_end(db):
    decided = decided_case()
    _token, appeal = appealed(decided)
    other_space = SpaceFactory(organization=decided.organization, name="Meetup series")
    ends_on = (timezone.localdate() + timedelta(days=60)).isoformat()
    client = log_in(Client(), decided.second_reviewer.user)
    missing_end = client.post(
        f"/desk/appeals/{appeal.pk}/", {"outcome": "modified", "reason": REASON, "spaces": [other_space.pk]}
    )
    assert "an end in the future" in missing_end.content.decode() and REASON in missing_end.content.decode()
    assert Sanction.objects.count() == 1
    response = client.post(
        f"/desk/appeals/{appeal.pk}/",
        {"outcome": "modified", "reason": REASON, "spaces": [other_space.pk], "ends_on": ends_on},
    )
    assert response.status_code == 302
    original = Sanction.objects.get(pk=decided.sanctions[0].pk)
    replacement = original.replaced_by
    assert original.state == SanctionState.MODIFIED and original.ended_at is not None
    assert replacement.state == SanctionState.ACTIVE and not replacement.is_permanent
    assert list(replacement.spaces.all()) == [other_space]
    assert timezone.localtime(replacement.ends_at).date().isoformat() == ends_on
    assert replacement.person == original.person and replacement.decision == original.decision


def test_upholding_keeps_the_sanction_and_a_printed_appellant_reads_the_reason_at_the_link(db):
    decided = decided_case()
    token, appeal = appealed(decided)
    appeals.review_appeal(appeal, by=decided.reviewer.user, outcome=AppealState.UPHELD, reason=REASON)
    assert Sanction.objects.get().state == SanctionState.ACTIVE
    assert not Notification.objects.filter(kind="appeal_outcome").exists()
    page = Client().get(f"/appeal/{token}/").content.decode()
    assert REASON in page and "upheld" in page
    with pytest.raises(ValidationError, match="reviewed already"):
        appeals.review_appeal(appeal, by=decided.reviewer.user, outcome=AppealState.OVERTURNED, reason=REASON)


# --- the queue and retention ------------------------------------------------------------------------------------


def test_the_queue_lists_pending_appeals_for_reviewers_only_in_constant_queries(db):
    first = decided_case()
    _token, appeal = appealed(first)
    reviewer = log_in(Client(), first.reviewer.user)
    page = reviewer.get("/desk/").content.decode()
    assert 'id="appeals-to-review"' in page and f"/desk/appeals/{appeal.pk}/" in page
    decider_page = log_in(Client(), first.recorder.user).get("/desk/").content.decode()
    assert f"/desk/appeals/{appeal.pk}/" not in decider_page
    with CaptureQueriesContext(connection) as one:
        assert len(list(appeals_to_review(first.reviewer.user))) == 1
    for _ in range(2):
        appealed(decided_case(like=first))
    with CaptureQueriesContext(connection) as three:
        assert len(list(appeals_to_review(first.reviewer.user))) == 3
    assert len(one) == len(three)
    with CaptureQueriesContext(connection) as page_one:
        reviewer.get("/desk/")
    appealed(decided_case(like=first))
    with CaptureQueriesContext(connection) as page_more:
        reviewer.get("/desk/")
    assert len(page_one) == len(page_more)


def _closed_past_retention(case):
    past = timezone.now() - timedelta(days=1)
    Case.objects.filter(pk=case.pk).update(
        state=CaseState.CLOSED, closed_at=past, erase_after=past, retention_notice_sent_at=past - timedelta(days=30)
    )


def test_an_open_appeal_or_an_active_sanction_blocks_erasure(db):
    decided = decided_case()
    _token, appeal = appealed(decided)
    _closed_past_retention(decided.case)
    now = timezone.now()
    assert decided.case not in retention.due_for_erasure(now)
    # The sanction ends but the appeal is still open: kept.
    Sanction.objects.update(state=SanctionState.EXPIRED)
    assert decided.case not in retention.due_for_erasure(now)
    Appeal.objects.update(state=AppealState.UPHELD)
    assert decided.case in retention.due_for_erasure(now)
    # No appeal, an active sanction: kept.
    Sanction.objects.update(state=SanctionState.ACTIVE)
    assert decided.case not in retention.due_for_erasure(now)


# --- who may review, and what the pages never show ------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "may_review"),
    [
        ("recorder", False),
        ("voter", False),
        ("reviewer", True),
        ("second_reviewer", True),
        ("recused", False),
        ("staff", False),
        ("admin", False),
        ("fallback", False),
        ("elsewhere", False),
    ],
)
def test_who_may_review_an_appeal(db, who, may_review):
    decided = decided_case()
    _token, appeal = appealed(decided)
    others = {
        "recused": lambda: member(decided.organization, "responder"),
        "staff": lambda: member(decided.organization, "staff"),
        "admin": lambda: member(decided.organization, "admin"),
        "fallback": lambda: member(decided.organization, "fallback"),
        "elsewhere": lambda: member(OrganizationFactory(), "lead"),
    }
    membership = getattr(decided, who) if hasattr(decided, who) else others[who]()
    if who == "recused":
        recuse(decided.case, membership, reason=RecusalReason.CLIENT, source=RecusalSource.DECLARED, by=membership.user)
    assert can(membership.user, "sanctions.review_appeal", appeal) is may_review
    assert appeals_to_review(membership.user).filter(pk=appeal.pk).exists() is may_review
    forget()
    assert (appeal in appeals_awaiting_review(membership.user)) is may_review
    status = log_in(Client(), membership.user).get(f"/desk/appeals/{appeal.pk}/").status_code
    assert status == (200 if may_review else 404)


def test_the_appeal_page_and_the_deciders_queue_hold_nothing_of_the_reports_or_the_statement(db):
    decided = decided_case()
    token, appeal = appealed(decided)
    appeals.review_appeal(appeal, by=decided.reviewer.user, outcome=AppealState.UPHELD, reason=REASON)
    public = Client().get(f"/appeal/{token}/").content.decode()
    for secret in (REPORTER_NAME, "Rosalind", REPORTER_EMAIL, WITNESS, WITNESS_EMAIL, "touching my shoulder"):
        assert secret not in public
    assert STATEMENT not in public and decided.case.reference not in public
    queue = log_in(Client(), decided.recorder.user).get("/desk/").content.decode()
    assert STATEMENT not in queue and REASON not in queue
