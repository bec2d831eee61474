"""Cases with a decision and sanctions on them, made straight on the models: the registry, expiry and restriction
tests need sanctions in every state, whichever way they came to be."""

from datetime import timedelta

from django.utils import timezone

from cocdesk.cases.domain import content
from cocdesk.cases.domain.recusal import recuse
from cocdesk.cases.enums import Finding, RecusalReason, RecusalSource
from cocdesk.people.domain import registry as people
from cocdesk.people.enums import IdentifierKind
from cocdesk.sanctions.domain.registry import TERMS
from cocdesk.sanctions.enums import DecisionRule, SanctionKind, SanctionState
from cocdesk.sanctions.models import Decision, Sanction
from tests.factories import report_case

D = timedelta(days=1)


def person(organization, name="Pat Example", **identifiers):
    """A person of the registry; ``identifiers`` by kind name: email=, handle=, badge=."""
    pairs = [(getattr(IdentifierKind, kind.upper()), value) for kind, value in identifiers.items()]
    return people.record_person(organization, name=name, identifiers=pairs)


def decided_case(
    organization, *, space=None, description="Someone shouted at me during the keynote.", rationale="", **answers
):
    """A reported case with a current decision (a violation); returns (case, decision)."""
    case, _receipt = report_case(organization, description=description, space=space, **answers)
    decision = Decision.objects.create(
        case=case,
        finding=Finding.VIOLATION,
        rule=DecisionRule.TWO_AGREE,
        sealed_rationale=content.seal(case, "decision-rationale", {"rationale": rationale}),
        decided_at=timezone.now(),
    )
    return case, decision


def recused(case, membership):
    recuse(case, membership, reason=RecusalReason.CO_WORKER, source=RecusalSource.DECLARED)
    return membership


def sanction(
    organization,
    *,
    subject=None,
    decision=None,
    kind=SanctionKind.BAN,
    spaces=(),
    all_spaces=False,
    starts_at=None,
    ends_at=None,
    permanent=False,
    state=SanctionState.ACTIVE,
    terms="",
):
    subject = subject or person(organization)
    made = Sanction.objects.create(
        organization=organization,
        person=subject,
        decision=decision,
        kind=kind,
        all_spaces=all_spaces,
        starts_at=starts_at or timezone.now() - D,
        ends_at=ends_at,
        is_permanent=permanent,
        state=state,
        sealed_terms=people.seal(organization, TERMS, {"terms": terms}) if terms else None,
    )
    if spaces:
        made.spaces.set(spaces)
    return made
