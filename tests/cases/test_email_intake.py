"""Mail in: a report by email becomes a case, a reply threads into its case, bad mail is set aside, never lost."""

import email
import hashlib
import io
import logging
import os
import subprocess
import sys
from email import policy
from email.utils import make_msgid
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from django.core.management import call_command
from django.db import connection
from django.urls import include, path

from cocdesk.cases.domain import content, email_intake, email_parse
from cocdesk.cases.domain.set_aside import set_aside_raw
from cocdesk.cases.enums import Channel, MessageDirection
from cocdesk.cases.models import Attachment, Case, Message, SetAsideMail
from cocdesk.common.models import AuditEvent
from cocdesk.desk.attachment_views import AttachmentDownloadView
from cocdesk.notify.models import Notification
from tests.factories import OrganizationFactory, member, report_case
from tests.team import log_in

ROOT = Path(__file__).resolve().parents[2]
MAIL = ROOT / "tests" / "data" / "mail"

# For the download tests: the project's URLs plus the attachment download (see the report for the real line).
urlpatterns = [
    path(
        "desk/cases/<str:reference>/attachments/<int:attachment_id>/",
        AttachmentDownloadView.as_view(),
        name="attachment",
    ),
    path("", include("cocdesk.urls")),
]
pytestmark = pytest.mark.urls(__name__)


def eml(name):
    return (MAIL / name).read_bytes()


def mail(*, sender="Alex Doe <alex@example.net>", subject="Someone followed me", body="It happened twice.", extra=()):
    head = [
        f"From: {sender}",
        "To: conduct@community.example",
        f"Subject: {subject}",
        "Date: Tue, 12 Mar 2024 09:13:58 +0100",
        f"Message-ID: {make_msgid(domain='mail.example.net')}",
        *extra,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    return ("\r\n".join(head) + "\r\n\r\n" + body + "\r\n").encode()


def take_in(raw, organization):
    return email_intake.take_in(raw, organization_slug=organization.slug)


def digest(message_id):
    return hashlib.sha256(message_id.encode()).hexdigest()


def decoded_parts(raw):
    """What the stdlib itself decodes from each leaf part, to compare the stored attachments with."""
    message = email.message_from_bytes(raw, policy=policy.default)
    return [part.get_payload(decode=True) for part in message.walk() if not part.is_multipart()]


@pytest.fixture
def intake_log(caplog):
    """The records of the 'cocdesk.intake' logger. The 'cocdesk' logger does not propagate to the root, so the
    capturing handler is put on it unless pytest already did."""
    caplog.set_level(logging.INFO, logger="cocdesk.intake")
    logger = logging.getLogger("cocdesk")
    added = caplog.handler not in logger.handlers
    if added:
        logger.addHandler(caplog.handler)
    yield caplog
    if added:
        logger.removeHandler(caplog.handler)


def test_a_plain_mail_becomes_an_email_case_with_the_sender_as_contact(organization):
    responder = member(organization, "responder")
    outcome = take_in(eml("plain.eml"), organization)
    assert outcome.kind == "report"
    case = Case.objects.get()
    assert case.channel == Channel.EMAIL and case.organization == organization
    report = case.reports.get()
    answers = content.report_content(report)
    assert set(answers) == {"description", "reporter_name", "reporter_email"}  # incident fields stay empty
    assert answers["description"].startswith("Subject: Harassment at the keynote\n\nHello,\n\nDuring the keynote")
    assert answers["description"].endswith('His badge said "Riley".\n\nThanks,\nSam')
    assert answers["reporter_name"] == "Sam Reporter"
    assert answers["reporter_email"] == "sam.reporter@example.net"
    assert report.has_contact and report.channel == Channel.EMAIL
    assert report.source_message_id == digest("<CAF8kq3+plain-0001@mail.example.net>")
    notice = Notification.objects.get(kind="new_report", recipient=responder.user)
    assert "keynote" not in notice.body and "sam.reporter" not in notice.body
    # The acknowledgement by return mail is written when it is sent; the row holds no text, and no receipt.
    [acknowledgement] = Notification.objects.filter(report=report)
    assert acknowledgement.kind == "mail_acknowledgement" and acknowledgement.body == ""
    assert case.reference in acknowledgement.subject
    assert AuditEvent.objects.filter(action="mail.received", case=case, detail__became="report").exists()


def test_an_html_only_mail_is_kept_as_plain_text(organization):
    take_in(eml("html_only.eml"), organization)
    description = content.report_content(Case.objects.get().reports.get())["description"]
    assert description == (
        "Subject: Slack harassment\n\n"
        'Someone in #general sent me "jokes" & insults.\n\n'
        "Screenshots: the thread (https://chat.example/archives/C1/p42)\n\n"
        "- first\u2014at 9pm\n- second at 10pm\n\n"
        "Café meetup, Björn was there.\nThanks"
    )


@pytest.mark.parametrize(
    ("name", "subject", "sender_name", "text"),
    [
        (
            "latin1.eml",
            "Incident à la soirée (café)",
            "Renée François",
            "Pendant la soirée à la brasserie, on m'a harcelée. Ça doit cesser.\nDétails: «badge 42».",
        ),
        ("windows1252_base64.eml", "Quote \u201cthis\u201d", "Pat", "Smart \u201cquotes\u201d \u2014 and \u20ac5"),
    ],
)
def test_other_charsets_and_encoded_headers_are_decoded(organization, name, subject, sender_name, text):
    take_in(eml(name), organization)
    answers = content.report_content(Case.objects.get().reports.get())
    assert answers["description"].startswith(f"Subject: {subject}\n\n")
    assert text in answers["description"]
    assert answers["reporter_name"] == sender_name


def test_undecodable_bytes_are_replaced_not_fatal(organization):
    raw = (
        b"From: Lee <lee@example.org>\r\nSubject: caf\xe9 \xff\xfe\r\nMessage-ID: <bad-bytes@example.org>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbroken \xff\xfe utf-8\r\n"
        b"--B\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nunknown charset \xe9t\xe9\r\n--B--\r\n"
    )
    assert take_in(raw, organization).kind == "report"
    description = content.report_content(Case.objects.get().reports.get())["description"]
    assert "broken \ufffd\ufffd utf-8" in description
    assert "unknown charset \u00e9t\u00e9" in description  # no such codec: UTF-8, then windows-1252
    assert description.startswith("Subject: caf")


def test_attachments_are_sealed_with_the_case_key_and_decrypt_exactly(organization):
    raw = eml("with_attachment.eml")
    outcome = take_in(raw, organization)
    assert outcome.kind == "report" and outcome.attachments == 2
    assert content.report_content(outcome.report)["description"].endswith(
        "Please see the attached notes and the screenshot."
    )
    screenshot, pdf = Attachment.objects.order_by("id")
    assert {screenshot.report, pdf.report} == {outcome.report} and pdf.message is None
    originals = decoded_parts(raw)
    assert email_intake.attachment_content(pdf) == originals[-1]
    assert email_intake.attachment_content(screenshot) == originals[2]
    assert email_intake.attachment_meta(pdf) == {"filename": "notes réunion.pdf", "content_type": "application/pdf"}
    assert email_intake.attachment_meta(screenshot)["content_type"] == "image/png"
    assert pdf.size == len(originals[-1])
    stored = Attachment.objects.get(pk=pdf.pk)
    assert b"SECRET-EVIDENCE-PDF-MARKER" not in bytes(stored.sealed_content)
    assert b"%PDF" not in bytes(stored.sealed_content) and b"notes" not in bytes(stored.sealed_meta)
    with pytest.raises(InvalidTag):  # bound to its own row: moving the bytes to another attachment fails
        email_intake.unseal_bytes(stored.case, screenshot.pk, stored.sealed_content)


def notice_for(case, message_id="<notice-1@cocdesk.example>"):
    return Notification.objects.create(
        organization=case.organization,
        case=case,
        report=case.reports.get(),
        kind="reporter_notice",
        subject="A message from the Code of Conduct team",
        body="A message waits for you.",
        message_id=message_id,
        state=Notification.State.SENT,
    )


def test_a_reply_to_a_reporter_notice_threads_into_its_report_with_its_attachments(organization):
    responder = member(organization, "responder")
    case, _ = report_case(organization, reporter_email="alex@example.net")
    notice_for(case)
    reply = (
        b"From: Alex <alex.other@example.net>\r\nSubject: Re: A message from the Code of Conduct team\r\n"
        b"Message-ID: <reply-1@example.net>\r\nIn-Reply-To: <notice-1@cocdesk.example>\r\n"
        b"References: <notice-1@cocdesk.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
        b"Yes, he was wearing a red lanyard.\r\n\r\n> The team has written to you.\r\n"
        b'--b1\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename="lanyard.jpg"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRgABAQ==\r\n--b1--\r\n"
    )
    outcome = take_in(reply, organization)
    assert outcome.kind == "reply" and Case.objects.count() == 1
    message = Message.objects.get()
    assert message.report == case.reports.get() and message.direction == MessageDirection.FROM_REPORTER
    assert message.source_message_id == digest("<reply-1@example.net>")
    assert "red lanyard" in content.message_body(message)
    attachment = Attachment.objects.get()
    assert attachment.message == message and attachment.report == message.report
    assert email_intake.attachment_content(attachment) == b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01"
    assert Notification.objects.filter(kind="reporter_wrote", recipient=responder.user, case=case).exists()


def test_a_reply_to_another_organizations_notice_goes_to_that_organization_only(organization, intake_log):
    responder = member(organization, "responder")
    other_case, _ = report_case(OrganizationFactory(), reporter_email="alex@example.net")
    notice_for(other_case)
    reply = mail(sender="Alex <alex@example.net>", extra=["In-Reply-To: <notice-1@cocdesk.example>"])
    outcome = take_in(reply, organization)
    assert outcome.kind == "reply" and outcome.case == other_case
    assert Message.objects.get().case == other_case
    assert not Case.objects.filter(organization=organization).exists()
    assert not Notification.objects.filter(recipient=responder.user).exists()
    assert not AuditEvent.objects.filter(organization=organization).exists()


def test_a_reference_in_the_subject_threads_only_from_the_reporters_own_address(organization):
    case, _ = report_case(organization, reporter_email="Alex@Example.net")
    subject = f"Re: [CoC Desk {case.reference}] more details"
    assert take_in(mail(sender="Alex <alex@example.net>", subject=subject), organization).kind == "reply"
    assert Message.objects.get().report.case == case
    outcome = take_in(mail(sender="Someone <someone@example.com>", subject=subject), organization)
    assert outcome.kind == "report" and outcome.case != case
    assert Case.objects.count() == 2 and Message.objects.count() == 1
    assert AuditEvent.objects.filter(action="mail.reference_checked", case=case).count() == 2


def test_the_same_mail_twice_makes_one_case_and_one_reply(organization):
    raw = eml("plain.eml")
    assert take_in(raw, organization).kind == "report"
    assert take_in(raw, organization).kind == "duplicate"
    case = Case.objects.get()
    notice_for(case)
    reply = mail(sender="Sam <sam.reporter@example.net>", extra=["In-Reply-To: <notice-1@cocdesk.example>"])
    assert [take_in(reply, organization).kind for _ in range(2)] == ["reply", "duplicate"]
    assert Case.objects.count() == 1 and Message.objects.count() == 1
    other = OrganizationFactory()
    assert take_in(raw, other).kind == "report", "another organization that got the same mail gets its own case"


NO_FROM = b"To: conduct@community.example\r\nSubject: Help\r\nMessage-ID: <nofrom@x.example>\r\n\r\nPlease call me.\r\n"
NO_BODY = b"From: A <a@example.org>\r\nMessage-ID: <empty@x.example>\r\n\r\n  \r\n"
AUTOMATIC = b"From: A <a@example.org>\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nAway.\r\n"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x00\x01\x02\xff\xfe garbage without headers", "not an email message (no headers)"),
        (NO_FROM, "no sender address (From: missing or unreadable)"),
        (eml("truncated.eml"), "broken MIME structure (truncated, or a boundary is missing)"),
        (NO_BODY, "no content (no subject, no text and no attachments)"),
        (AUTOMATIC, "automatic reply or delivery report (Auto-Submitted or multipart/report)"),
    ],
)
def test_unusable_mail_is_set_aside_sealed_with_one_clear_log_line(organization, intake_log, raw, reason):
    outcome = take_in(raw, organization)
    assert outcome.kind == "set_aside" and not Case.objects.exists()
    kept = SetAsideMail.objects.get()
    assert (kept.organization, kept.reason, kept.size) == (organization, reason, len(raw))
    assert set_aside_raw(kept) == raw
    assert b"Please call me" not in bytes(kept.sealed_raw) and b"Cut off" not in bytes(kept.sealed_raw)
    warnings = [record for record in intake_log.records if record.levelno == logging.WARNING]
    assert [record.getMessage() for record in warnings] == [f"mail set aside (id {kept.pk}): {reason}"]
    assert "example" not in intake_log.text
    assert AuditEvent.objects.filter(action="mail.set_aside", detail__set_aside=kept.pk).exists()


def test_a_huge_mail_or_attachment_is_set_aside(organization, intake_log, monkeypatch):
    huge = mail(body="x" * (12 * email_parse.MIB))
    assert take_in(huge, organization).kind == "set_aside"
    kept = SetAsideMail.objects.get()
    assert kept.reason == "message too large (12.0 MiB > 10 MiB)" and kept.size == len(huge)
    assert f"mail set aside (id {kept.pk}): message too large (12.0 MiB > 10 MiB)" in intake_log.text
    assert set_aside_raw(kept) == huge
    monkeypatch.setattr(email_parse, "MAX_ATTACHMENT_BYTES", 100)
    assert take_in(eml("with_attachment.eml"), organization).kind == "set_aside"
    assert SetAsideMail.objects.order_by("-id").first().reason == "attachment too large (123 bytes > 100 bytes)"
    assert not Case.objects.exists()


def test_mail_for_an_unknown_organization_is_set_aside(db, intake_log):
    outcome = email_intake.take_in(eml("plain.eml"), organization_slug="no-such-org")
    assert outcome.kind == "set_aside"
    assert SetAsideMail.objects.get().organization is None
    assert "unknown organization" in intake_log.text


def test_the_pipe_command_reads_standard_input_or_a_file(organization):
    out = io.StringIO()
    call_command("intake_mail", org=organization.slug, stdin=io.BytesIO(eml("plain.eml")), stdout=out)
    assert out.getvalue().startswith("stored as a new report")
    out = io.StringIO()
    call_command("intake_mail", org=organization.slug, file=str(MAIL / "plain.eml"), stdout=out)
    assert out.getvalue().strip() == "already taken in; nothing stored"
    out = io.StringIO()
    call_command("intake_mail", org=organization.slug, stdin=io.BytesIO(b"\x00garbage"), stdout=out)
    assert out.getvalue().startswith("set aside (id ")  # stored: exit 0, the mail server does not retry
    assert Case.objects.count() == 1 and SetAsideMail.objects.count() == 1


def run_pipe(raw, slug, database_url):
    env = {**os.environ, "COCDESK_DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "cocdesk.settings"}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "intake_mail", "--org", slug],
        input=raw,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_pipe_command_asks_the_mail_server_to_retry_when_nothing_could_be_stored(tmp_path):
    result = run_pipe(eml("plain.eml"), "community", f"sqlite:///{tmp_path}/missing/cocdesk.sqlite3")
    assert result.returncode == 75, result.stderr  # EX_TEMPFAIL: deferred and retried, never bounced
    assert b"try again later" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_the_pipe_command_as_a_mail_server_runs_it():
    organization = OrganizationFactory()
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{settings['NAME']}"
    else:
        url = f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    result = run_pipe(eml("html_only.eml"), organization.slug, url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("stored as a new report")
    assert Case.objects.get().organization == organization


def test_the_team_downloads_an_attachment_decrypted_and_never_inline(client, organization):
    responder = member(organization, "responder")
    outcome = take_in(eml("with_attachment.eml"), organization)
    pdf = Attachment.objects.order_by("id").last()
    log_in(client, responder.user)
    response = client.get(f"/desk/cases/{outcome.case.reference}/attachments/{pdf.pk}/")
    assert response.status_code == 200
    assert response.content == decoded_parts(eml("with_attachment.eml"))[-1]
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''notes%20r%C3%A9union.pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    event = AuditEvent.objects.get(action="attachment.downloaded")
    assert (event.actor, event.case, event.detail["attachment"]) == (responder.user, outcome.case, pdf.pk)


def test_an_attachment_answers_404_outside_its_case_or_to_members_who_may_not_see_it(client, organization):
    first = take_in(eml("with_attachment.eml"), organization)
    second = take_in(mail(body="see attached"), organization)
    other_attachment = Attachment.objects.filter(case=first.case).first()
    staff = member(organization, "staff")
    stranger = member(OrganizationFactory(), "lead")
    responder = member(organization, "responder")
    anonymous = client.get(f"/desk/cases/{first.case.reference}/attachments/{other_attachment.pk}/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/desk/login/")
    log_in(client, responder.user)
    assert client.get(f"/desk/cases/{second.case.reference}/attachments/{other_attachment.pk}/").status_code == 404
    assert client.get(f"/desk/cases/{first.case.reference}/attachments/999999/").status_code == 404
    for outsider in (staff, stranger):
        log_in(client, outsider.user)
        url = f"/desk/cases/{first.case.reference}/attachments/{other_attachment.pk}/"
        assert client.get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="attachment.downloaded").exists()
