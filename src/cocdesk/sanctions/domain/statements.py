"""Public statements about a case. The team drafts one on the case (sealed with the case's key); a draft exists
only once it names nobody in the case, and it then waits for an organization admin, who publishes it (only then
is its text stored in the clear) or sends it back. Admins read the statement, never the case."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from cocdesk.cases.domain import content as sealed
from cocdesk.cases.domain.queries import members_who_may_see
from cocdesk.cases.models import Recusal
from cocdesk.common import audit
from cocdesk.common.prepared_objects import PreparedObjects
from cocdesk.notify.domain import notify_members, queue
from cocdesk.notify.models import Notification
from cocdesk.orgs.access import access_for
from cocdesk.orgs.models import Membership
from cocdesk.orgs.rules import can

from ..enums import StatementState
from ..models import PublicStatement
from .statement_check import people_named_in

PURPOSE = "public-statement"
TITLE_MAX = 200
TEXT_MAX = 20_000


def check_statement(case, text):
    """The names and identifiers of people in the case that ``text`` contains (a list of ``Found``, each with
    the value and who it is), empty when the text names nobody."""
    return people_named_in(case, text)


def _require(user, permission, obj):
    if not can(user, permission, obj):
        raise PermissionDenied


def _refuse_names(found):
    listed = "; ".join(str(item) for item in found)
    raise ValidationError(
        f"The statement names people in this case: {listed}. Rephrase it without them; the reporter and the "
        "witnesses stay unnamed unless the reporter agreed to be named."
    )


@transaction.atomic
def draft_statement(case, *, by, title, text):
    """Saves a draft for an admin's approval, refused while it names anyone in the case."""
    _require(by, "sanctions.draft_statement", case)
    if case.is_erased:
        raise ValidationError("This case was erased: nothing can be added to it.")
    title, text = (title or "").strip(), (text or "").strip()
    if not title or not text:
        raise ValidationError("Give the statement a title and a text.")
    if len(title) > TITLE_MAX or len(text) > TEXT_MAX:
        raise ValidationError(f"Keep the title under {TITLE_MAX} characters and the text under {TEXT_MAX}.")
    found = check_statement(case, f"{title}\n{text}")
    if found:
        _refuse_names(found)
    statement = PublicStatement.objects.create(
        case=case,
        organization_id=case.organization_id,
        state=StatementState.DRAFT,
        sealed_draft=sealed.seal(case, PURPOSE, {"title": title, "text": text}),
        drafted_by=by,
    )
    audit.record("statement.drafted", actor=by, case=case, statement=statement.pk)
    _tell_admins(statement, case)
    return statement


def draft_of(statement):
    """{"title", "text"} of a statement's draft; the case must not be erased."""
    return sealed.unseal(statement.case, PURPOSE, statement.sealed_draft)


def _locked(statement):
    return (
        PublicStatement.objects.select_for_update(of=("self",))
        .select_related("case__organization", "organization")
        .get(pk=statement.pk)
    )


@transaction.atomic
def publish_statement(statement, *, by):
    """An admin publishes a draft: the names check runs again (a report may have come in since), then the title
    and text are stored in the clear for the public page."""
    _require(by, "sanctions.publish_statement", statement)
    statement = _locked(statement)
    if statement.state != StatementState.DRAFT:
        raise ValidationError("Only a statement waiting for approval can be published.")
    case = statement.case
    if case.is_erased:
        raise ValidationError("The case of this statement was erased: its draft can no longer be read.")
    draft = draft_of(statement)
    if check_statement(case, f"{draft['title']}\n{draft['text']}"):
        # The admin reads the statement, not the case: say that someone is named, never who is in the case.
        raise ValidationError(
            "This statement now names someone in the case (new information reached the team since it was "
            "drafted). Send it back to the team to rephrase it."
        )
    statement.state = StatementState.PUBLISHED
    statement.title, statement.published_text = draft["title"], draft["text"]
    statement.published_at = timezone.now()
    statement.approved_by = by
    statement.save(update_fields=["state", "title", "published_text", "published_at", "approved_by", "updated_at"])
    audit.record("statement.published", actor=by, case=case, statement=statement.pk)
    notify_members(
        members_who_may_see(case),
        case=case,
        kind="statement_published",
        subject=f"[CoC Desk] A statement about case {case.reference} was published",
        lines=[f"An admin published the public statement drafted on case {case.reference}."],
    )
    return statement


@transaction.atomic
def withdraw_statement(statement, *, by):
    """Takes a statement off the public page, or sends a draft back. Its published words leave the clear columns;
    the sealed draft keeps what it said for the team."""
    _require(by, "sanctions.withdraw_statement", statement)
    statement = _locked(statement)
    if statement.state == StatementState.WITHDRAWN:
        raise ValidationError("This statement was withdrawn already.")
    previous = statement.state
    statement.state = StatementState.WITHDRAWN
    statement.title, statement.published_text = "", ""
    statement.save(update_fields=["state", "title", "published_text", "updated_at"])
    audit.record("statement.withdrawn", actor=by, case=statement.case, statement=statement.pk, **{"from": previous})
    return statement


def _tell_admins(statement, case):
    """The organization's admins hear that a statement waits; the mail names neither the case nor its words, and
    an admin recused from the case is not told."""
    admins = (
        Membership.objects.active()
        .filter(organization_id=case.organization_id, is_admin=True)
        .exclude(Exists(Recusal.objects.filter(is_active=True, case_id=case.pk, membership_id=OuterRef("pk"))))
        .select_related("user")
    )
    link = settings.BASE_URL + reverse("desk:org_statements", kwargs={"org_slug": case.organization.slug})
    queue(
        [
            Notification(
                recipient=admin.user,
                organization_id=case.organization_id,
                kind="statement_waiting",
                subject="[CoC Desk] A public statement waits for your approval",
                body="\n".join(
                    [
                        f"The team of {case.organization.name} drafted a public statement.",
                        "",
                        f"Read it and publish it, or send it back: {link}",
                    ]
                ),
            )
            for admin in admins
        ]
    )


# --- what the pages read -------------------------------------------------------------------------------------------


_statements_of_case = PreparedObjects(
    lambda case_id: (
        PublicStatement.objects.filter(case_id=case_id)
        .select_related("drafted_by", "approved_by")
        .order_by("-created_at")
    ),
    int,
)


def statements_of_case(case):
    """The case page's list: every statement of the case with its draft's words. The case page audits its read."""
    if case.is_erased:
        return []
    statements = _statements_of_case.objects(case.pk)
    for statement in statements:
        statement.case = case
    return [{"statement": statement, **draft_of(statement)} for statement in statements]


def statements_waiting(organization, *, reader):
    """The drafts an admin may approve: the organization's, minus the cases they are recused from. Each read of a
    draft's words is audited, in a fixed number of queries whatever the number of drafts."""
    recused = access_for(reader).recused_case_ids
    statements = list(
        PublicStatement.objects.filter(organization=organization, state=StatementState.DRAFT, case__is_erased=False)
        .exclude(case_id__in=recused)
        .select_related("case", "drafted_by")
        .order_by("created_at", "pk")
    )
    audit.record_many(
        [
            {
                "action": "statement.read_for_approval",
                "actor": reader,
                "case": statement.case,
                "statement": statement.pk,
            }
            for statement in statements
        ]
    )
    return [{"statement": statement, **draft_of(statement)} for statement in statements]


def published_statements(organization):
    """The public page's list, newest first, in one query."""
    return (
        PublicStatement.objects.filter(organization=organization, state=StatementState.PUBLISHED)
        .only("title", "published_text", "published_at")
        .order_by("-published_at", "-pk")
    )


def recently_published(organization, *, reader):
    """Published statements an admin may withdraw (the public page shows the same words)."""
    recused = access_for(reader).recused_case_ids
    return (
        PublicStatement.objects.filter(organization=organization, state=StatementState.PUBLISHED)
        .exclude(case_id__in=recused)
        .order_by("-published_at", "-pk")[:50]
    )
