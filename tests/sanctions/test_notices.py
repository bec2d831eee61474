"""Notices to sanctioned people: drafted from the organization's four-part template, refused while they identify a
reporter or a witness, approved by a second member only, delivered by mail through the queue (with the appeal link
for a permanent sanction only) or printed with the link shown once."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import RecusalReason, RecusalSource
from cocdesk.common.models import AuditEvent
from cocdesk.orgs.models import MessageTemplate
from cocdesk.sanctions.domain import notices
from cocdesk.sanctions.enums import NoticeDelivery, NoticeState
from cocdesk.sanctions.models import Notice
from tests.factories import OrganizationFactory, member
from tests.mail_server import mail_server, run_worker
from tests.sanctions.factories_notices import (
    CLEAN_PARTS,
    PERSON_EMAIL,
    REPORTER_EMAIL,
    REPORTER_NAME,
    WITNESS,
    WITNESS_EMAIL,
    approved_notice,
    decided_case,
)
from tests.team import log_in

APPEAL_LINK = re.compile(r"/appeal/([A-Za-z0-9_-]{40,})/")


def draft(decided, by=None, **changes):
    return notices.draft_notice(
        decided.decision,
        decided.person,
        by=by or decided.recorder.user,
        address=PERSON_EMAIL,
        **{**CLEAN_PARTS, **changes},
    )


def test_the_template_holds_four_parts_with_gaps_to_fill(organization):
    parts = notices.template_parts(organization)
    assert set(parts) == {"behaviour", "impact", "expected_change", "consequences"}
    assert all(parts.values())
    assert "[[" in parts["behaviour"] and organization.name in parts["behaviour"]


def test_an_admin_edits_the_notice_template_and_keeps_its_four_headings(db, client, organization):
    admin = member(organization, "admin")
    log_in(client, admin.user)
    url = f"/desk/orgs/{organization.slug}/templates/"
    page = client.get(url).content.decode()
    assert "Notice to a sanctioned person" in page and "Expected change:" in page
    kept = {kind: "Text." for kind in ("acknowledgement", "question", "update", "outcome")}
    refused = client.post(url, {**kept, "sanction_notice": "Behaviour:\nYou did it.\nImpact:\nBad."})
    assert refused.status_code == 200
    assert "“Expected change:”, “Consequences:” is missing" in refused.content.decode()
    assert not MessageTemplate.objects.filter(organization=organization).exists()
    body = (
        "Behaviour:\n[[what]]\nImpact:\nA.\nExpected change:\nB.\nConsequences:\nC. Appeal within {appeal_window_days}."
    )
    assert client.post(url, {**kept, "sanction_notice": body}).status_code == 302
    parts = notices.template_parts(organization)
    assert parts["consequences"] == f"C. Appeal within {organization.appeal_window_days}."


@pytest.mark.parametrize(
    ("field", "text", "found"),
    [
        ("behaviour", f"{REPORTER_NAME} told us what you did.", REPORTER_NAME),
        ("impact", "Rosalind felt unsafe afterwards.", "Rosalind"),
        ("expected_change", f"Do not write to {REPORTER_EMAIL} again.", REPORTER_EMAIL),
        ("consequences", f"{WITNESS} will be told.", WITNESS),
        ("behaviour", f"As {WITNESS_EMAIL} saw, you kept on.", WITNESS_EMAIL),
    ],
)
def test_a_notice_naming_a_reporter_or_witness_is_refused_with_the_words_found(db, field, text, found):
    decided = decided_case()
    with pytest.raises(ValidationError) as refused:
        draft(decided, **{field: text})
    assert found in refused.value.messages[0]
    assert not Notice.objects.exists()


def test_the_person_the_notice_goes_to_may_be_named_and_the_text_is_sealed(db):
    decided = decided_case()
    notice = draft(decided, behaviour="Mallory, at the social you kept touching an attendee after a no.")
    assert notice.state == NoticeState.DRAFT
    assert b"Mallory" not in bytes(notice.sealed_body) and PERSON_EMAIL.encode() not in bytes(notice.sealed_body)
    assert notices.notice_content(notice)["address"] == PERSON_EMAIL
    assert AuditEvent.objects.filter(action="notice.drafted", case=decided.case).exists()


def test_gaps_left_and_empty_parts_are_refused(db):
    decided = decided_case()
    with pytest.raises(ValidationError, match=r"\[\[the change the team expects\]\]"):
        draft(decided, expected_change="From now on we expect you to [[the change the team expects]].")
    with pytest.raises(ValidationError, match="the impact is empty"):
        draft(decided, impact="  ")
    assert not Notice.objects.exists()


def test_the_drafter_cannot_approve_and_a_second_member_can(db):
    decided = decided_case()
    notice = draft(decided)
    with pytest.raises(ValidationError, match="a second member must approve"):
        notices.approve_notice(notice, by=decided.recorder.user)
    notice.refresh_from_db()
    assert notice.state == NoticeState.DRAFT and notice.approved_by is None
    with pytest.raises(ValidationError, match="must approve the notice before it goes out"):
        notices.deliver_notice(notice, by=decided.recorder.user, method=NoticeDelivery.MAIL)
    notices.approve_notice(notice, by=decided.reviewer.user)
    notice.refresh_from_db()
    assert notice.state == NoticeState.APPROVED and notice.approved_by == decided.reviewer.user


def test_a_member_outside_the_case_cannot_draft_nor_approve(db):
    decided = decided_case()
    outsider = member(OrganizationFactory(), "lead")
    staff = member(decided.organization, "staff")
    for user in (outsider.user, staff.user):
        with pytest.raises(PermissionDenied):
            draft(decided, by=user)
    notice = draft(decided)
    recuse(
        decided.case,
        decided.reviewer,
        reason=RecusalReason.PERSONAL,
        source=RecusalSource.DECLARED,
        by=decided.reviewer.user,
    )
    with pytest.raises(PermissionDenied):
        notices.approve_notice(notice, by=decided.reviewer.user)
    assert Notice.objects.get().state == NoticeState.DRAFT


def test_the_drafter_posting_approve_gets_404_and_nothing_changes(db, client):
    decided = decided_case()
    notice = draft(decided)
    log_in(client, decided.recorder.user)
    response = client.post(f"/desk/cases/{decided.case.reference}/notices/{notice.pk}/approve/")
    assert response.status_code == 404
    assert Notice.objects.get().state == NoticeState.DRAFT
    assert not AuditEvent.objects.filter(action="notice.approved").exists()


def test_drafting_on_the_case_page_keeps_the_text_and_names_the_words_found(db, client):
    decided = decided_case()
    log_in(client, decided.voter.user)
    case_page = client.get(f"/desk/cases/{decided.case.reference}/").content.decode()
    assert 'id="notices"' in case_page and decided.person.code_name in case_page
    url = f"/desk/cases/{decided.case.reference}/notices/new/{decided.person.pk}/"
    form_page = client.get(url).content.decode()
    assert "[[the change the team expects]]" in form_page
    typed = {**CLEAN_PARTS, "impact": f"{REPORTER_NAME} could not sleep.", "address": PERSON_EMAIL}
    refused = client.post(url, typed)
    page = refused.content.decode()
    assert refused.status_code == 200
    assert f"“{REPORTER_NAME}” (the reporter)" in page and "could not sleep." in page
    assert not Notice.objects.exists()
    assert client.post(url, {**typed, "impact": CLEAN_PARTS["impact"]}).status_code == 302
    assert Notice.objects.get().drafted_by == decided.voter.user


def test_a_recused_member_gets_404_on_the_draft_page_and_sees_no_notice(db, client):
    decided = decided_case()
    notice = draft(decided)
    recused = member(decided.organization, "responder")
    recuse(decided.case, recused, reason=RecusalReason.PERSONAL, source=RecusalSource.DECLARED, by=recused.user)
    log_in(client, recused.user)
    base = f"/desk/cases/{decided.case.reference}/notices"
    assert client.get(f"{base}/new/{decided.person.pk}/").status_code == 404
    assert client.get(f"{base}/{notice.pk}/").status_code == 404
    assert client.post(f"{base}/{notice.pk}/approve/").status_code == 404
    assert Notice.objects.get().state == NoticeState.DRAFT


@pytest.mark.parametrize("permanent", [True, False])
def test_a_mailed_notice_carries_the_four_parts_and_a_link_for_a_permanent_sanction_only(transactional_db, permanent):
    decided = decided_case(permanent=permanent)
    notice = approved_notice(decided)
    with mail_server() as smtp:
        assert notices.deliver_notice(notice, by=decided.reviewer.user, method=NoticeDelivery.MAIL) is None
        run_worker()
    mails = smtp.to(PERSON_EMAIL)
    assert len(mails) == 1
    body = mails[0].body
    for text in CLEAN_PARTS.values():
        assert text in body
    for secret in (REPORTER_NAME, REPORTER_EMAIL, WITNESS, WITNESS_EMAIL):
        assert secret not in mails[0].raw
    notice.refresh_from_db()
    assert notice.state == NoticeState.DELIVERED and notice.delivery == NoticeDelivery.MAIL
    link = APPEAL_LINK.search(body)
    if permanent:
        assert link is not None
        assert notice.appeal_token_digest == notices.appeal_token_digest(link.group(1))
        days = (notice.appeal_closes_at - notice.delivered_at).days
        assert days == decided.organization.appeal_window_days
        assert link.group(1) not in str(list(Notice.objects.values()))
    else:
        assert link is None and notice.appeal_token_digest is None and notice.appeal_closes_at is None
        assert "cannot be appealed" in body


def test_a_printed_notice_shows_its_appeal_link_once(db, client):
    decided = decided_case()
    notice = approved_notice(decided, address="")
    log_in(client, decided.reviewer.user)
    base = f"/desk/cases/{decided.case.reference}/notices/{notice.pk}"
    by_mail = client.post(f"{base}/deliver/", {"method": "mail"}, follow=True)
    assert "no email address" in by_mail.content.decode()
    printed = client.post(f"{base}/deliver/", {"method": "printed"})
    assert printed.status_code == 200 and printed["Cache-Control"] == "no-store"
    token = APPEAL_LINK.search(printed.content.decode()).group(1)
    notice.refresh_from_db()
    assert notice.delivery == NoticeDelivery.PRINTED
    assert notice.appeal_token_digest == notices.appeal_token_digest(token)
    assert token not in client.get(f"{base}/").content.decode()
    assert token not in client.get(f"/desk/cases/{decided.case.reference}/").content.decode()
    again = client.post(f"{base}/deliver/", {"method": "printed"})
    assert again.status_code == 404
    actions = set(AuditEvent.objects.filter(case=decided.case).values_list("action", flat=True))
    assert {"notice.drafted", "notice.approved", "notice.delivered", "notice.read"} <= actions
