"""Notices to the people a decision concerns: drafted from the organization's template in four parts (behaviour,
impact, expected change, consequences), refused while they name or identify anyone who reported or witnessed what
happened, approved by a second member, then sent by mail or handed over printed.

A notice of a permanent sanction carries the private appeal link ``/appeal/<token>/``. The token is shown once (on
the printable page) or drawn when the mail is written (``notice_mail``); only its SHA-256 digest is stored."""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import dateformat, timezone

from cocdesk.cases.domain import content as sealed
from cocdesk.cases.domain.team import case_reports
from cocdesk.common import audit
from cocdesk.notify.models import Notification
from cocdesk.orgs.models import template_text
from cocdesk.orgs.models.template import NOTICE_PARTS, fill_ins_left, notice_parts
from cocdesk.orgs.rules import can

from ..enums import NoticeDelivery, NoticeState, SanctionState
from ..models import Notice, Sanction
from .statement_check import REPORTER, WITNESS, WORD, find_people, fold, report_needles

NOTICE = "sanction-notice"
PARTS = [part for part, _label in NOTICE_PARTS]
LABELS = dict(NOTICE_PARTS)
NOTICE_MAIL = "sanction_notice"


def appeal_token_digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def new_appeal_token():
    """(token, digest): the token goes to the person once; the digest is what the notice keeps."""
    token = secrets.token_urlsafe(32)
    return token, appeal_token_digest(token)


# --- what a notice says --------------------------------------------------------------------------------------------


def template_parts(organization):
    """The four parts of the organization's notice template, to start a draft from."""
    parts = notice_parts(template_text(organization, NOTICE_MAIL))
    return {part: parts.get(part, "") for part in PARTS}


def notice_content(notice):
    """The four parts and the address, unsealed."""
    return sealed.unseal(notice.decision.case, NOTICE, notice.sealed_body)


def sanctions_of(notice):
    """The sanctions of the notice's decision that concern its person."""
    return Sanction.objects.filter(decision_id=notice.decision_id, person_id=notice.person_id).prefetch_related(
        "spaces"
    )


def appealable(sanctions):
    """The sanctions an appeal may be about: the procedures allow appeals of permanent resolutions only."""
    return [sanction for sanction in sanctions if sanction.is_permanent and sanction.state == SanctionState.ACTIVE]


def scope_words(sanction):
    if sanction.all_spaces:
        return "all spaces"
    names = sorted(space.name for space in sanction.spaces.all())
    if not names:
        return "all spaces"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def end_words(sanction):
    if sanction.is_permanent:
        return "permanent"
    if sanction.ends_at is None:
        return "given once"
    return "until " + dateformat.format(timezone.localtime(sanction.ends_at), "j F Y")


def describe(sanction):
    """'Ban (Main conference, permanent)': kind, scope and end, without terms or reasons."""
    return f"{sanction.get_kind_display()} ({scope_words(sanction)}, {end_words(sanction)})"


def people_to_notify(decision):
    """The people a decision concerns: its subjects and the people of its sanctions, each once, by code name.
    Reads prefetched ``subjects`` and ``sanctions__person`` when the caller loaded them."""
    people = {person.pk: person for person in decision.subjects.all()}
    for sanction in decision.sanctions.all():
        people.setdefault(sanction.person_id, sanction.person)
    return sorted(people.values(), key=lambda person: person.code_name)


# --- the check against the reports ---------------------------------------------------------------------------------


def identifying_words(case, texts):
    """What in ``texts`` names or identifies a reporter, a witness or another person named in the case's reports:
    names, emails, phone numbers, handles. The reporter's consent to be named publicly does not count here: the
    person a notice goes to is the last one who should learn who reported them."""
    needles = []
    for report in case_reports(case):
        if report.case_id == case.pk:
            report.case = case  # one data key unwrap for the case
        answers = {**sealed.report_content(report), "consent_named_publicly": "no"}
        needles += [needle for needle in report_needles(answers) if needle.who in (REPORTER, WITNESS)]
    names = [case.organization.name, *case.organization.spaces.values_list("name", flat=True)]
    not_people = {word.casefold() for name in names for word in WORD.findall(fold(name))}
    return find_people(needles, "\n\n".join(texts), not_people=not_people)


def _check_parts(case, parts):
    """Every problem at once, so the drafter fixes them in one go."""
    empty = [LABELS[part].lower() for part in PARTS if not (parts.get(part) or "").strip()]
    if empty:
        raise ValidationError(f"Write every part of the notice: the {', '.join(empty)} is empty.")
    problems = []
    gaps = fill_ins_left("\n".join(parts[part] for part in PARTS))
    if gaps:
        problems.append(f"Fill in every gap before saving the notice: {', '.join(dict.fromkeys(gaps))}.")
    found = identifying_words(case, [parts[part] for part in PARTS])
    if found:
        words = "; ".join(str(item) for item in found)
        problems.append(
            f"The notice names or identifies someone from the reports: {words}. Rewrite it without them: the "
            "person it goes to must not learn who reported or saw what happened."
        )
    if problems:
        raise ValidationError(problems)


# --- the steps -----------------------------------------------------------------------------------------------------


def _require(user, permission, obj):
    if not can(user, permission, obj):
        raise PermissionDenied


def _locked(notice):
    return (
        Notice.objects.select_for_update(of=("self",))
        .select_related("decision__case__organization", "person")
        .get(pk=notice.pk)
    )


@transaction.atomic
def draft_notice(decision, person, *, by, behaviour, impact, expected_change, consequences, address=""):
    """Saves a notice to ``person`` about ``decision``, sealed with the case key, waiting for a second member."""
    _require(by, "sanctions.draft_notice", decision)
    case = decision.case
    concerned = decision.subjects.filter(pk=person.pk).exists() or decision.sanctions.filter(person=person).exists()
    if not concerned:
        raise ValidationError("A notice goes to a person the decision concerns.")
    if Notice.objects.filter(decision=decision, person=person).exists():
        raise ValidationError("This person already has a notice about this decision.")
    address = (address or "").strip()
    if address:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError("Enter the email address to send the notice to, like name@example.org.") from None
    parts = {
        "behaviour": behaviour,
        "impact": impact,
        "expected_change": expected_change,
        "consequences": consequences,
    }
    parts = {part: (text or "").strip() for part, text in parts.items()}
    _check_parts(case, parts)
    notice = Notice.objects.create(
        decision=decision,
        person=person,
        drafted_by=by,
        sealed_body=sealed.seal(case, NOTICE, {**parts, "address": address}),
    )
    audit.record("notice.drafted", actor=by, case=case, notice=notice.pk, person=person.code_name)
    return notice


@transaction.atomic
def approve_notice(notice, *, by):
    """A second member approves the notice; the member who drafted it cannot."""
    notice = _locked(notice)
    if notice.drafted_by_id == by.pk:
        raise ValidationError("You drafted this notice: a second member must approve it.")
    if notice.state != NoticeState.DRAFT:
        raise ValidationError("This notice was approved already.")
    _require(by, "sanctions.approve_notice", notice)
    notice.state = NoticeState.APPROVED
    notice.approved_by = by
    notice.approved_at = timezone.now()
    notice.save(update_fields=["state", "approved_by", "approved_at", "updated_at"])
    audit.record("notice.approved", actor=by, case=notice.decision.case, notice=notice.pk)
    return notice


@transaction.atomic
def deliver_notice(notice, *, by, method):
    """Sends the approved notice by mail (through the durable queue) or records it handed over printed. Returns
    the appeal token when it must be shown now (a printed notice of a permanent sanction), else None."""
    notice = _locked(notice)
    if notice.state == NoticeState.DRAFT:
        raise ValidationError("A second member must approve the notice before it goes out.")
    if notice.state == NoticeState.DELIVERED:
        raise ValidationError("This notice was delivered already.")
    _require(by, "sanctions.deliver_notice", notice)
    if method not in NoticeDelivery.values:
        raise ValidationError("Choose how the notice reaches the person: by email or printed.")
    case = notice.decision.case
    if method == NoticeDelivery.MAIL and not notice_content(notice).get("address"):
        raise ValidationError("This notice has no email address: hand it over printed.")
    now = timezone.now()
    may_appeal = bool(appealable(sanctions_of(notice)))
    token = None
    notice.state = NoticeState.DELIVERED
    notice.delivery = method
    notice.delivered_at = now
    if may_appeal:
        notice.appeal_closes_at = now + timedelta(days=case.organization.appeal_window_days)
        if method == NoticeDelivery.PRINTED:
            token, notice.appeal_token_digest = new_appeal_token()
    notice.save()
    audit.record("notice.delivered", actor=by, case=case, notice=notice.pk, method=method, appeal_link=may_appeal)
    if method == NoticeDelivery.MAIL:
        queue_person_mail(notice, kind=NOTICE_MAIL, reference=f"notice:{notice.pk}")
    return token


def queue_person_mail(notice, *, kind, reference):
    """A mail to the person a notice went to, through the durable queue. The row holds neither the text nor the
    address: both are read from the sealed notice (and appeal) when the mail is written (``notice_mail``)."""
    from cocdesk.notify.delivery_tasks import enqueue_notifications

    case = notice.decision.case
    notification = Notification.objects.create(
        organization=case.organization,
        case=case,
        kind=kind,
        subject=f"From the Code of Conduct team of {case.organization.name}",
        body=reference,
    )
    enqueue_notifications([notification.pk])
    return notification


def read_notice(notice, *, reader):
    """The notice's text for a member who may see it; the read is audited like any read of case content."""
    _require(reader, "sanctions.view_notice", notice)
    audit.record("notice.read", actor=reader, case=notice.decision.case, notice=notice.pk)
    return notice_content(notice)
