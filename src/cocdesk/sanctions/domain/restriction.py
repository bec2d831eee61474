"""The restriction check: staff at a registration desk, or a space's moderator, type a name, email address, handle
or badge number and learn only whether that person is restricted now, from which spaces and until when.

Nothing else leaves this module: no case, reason, reporter, code name or kind of measure. Every check is recorded
(who checked, when, and the yes or no it answered; never what was typed) and each member's checks are throttled,
so the check cannot be used to trawl the registry."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import dateformat, timezone

from cocdesk.common import audit
from cocdesk.common.throttle import Throttle
from cocdesk.orgs.rules import can
from cocdesk.people.domain.registry import digest, people_matching
from cocdesk.people.enums import IdentifierKind
from cocdesk.people.normalise import PLATFORM_WORDS

from ..enums import RESTRICTING_KINDS, SanctionState
from ..models import RestrictionCheck, Sanction

CHECKS_PER_WINDOW = 60
WINDOW_SECONDS = 15 * 60
NO_RESTRICTION = "No active restriction."
CONTACT = "contact the CoC team"


class TooManyChecks(ValidationError):
    """The member checked too often lately; nothing was looked up or recorded."""


def _on_every_platform(value):
    """A handle typed without its platform ("@mquill") read as the same handle on each platform the registry knows:
    a moderator often does not know where a banned person's handle was recorded, and a false "no restriction" is
    the one answer this check must not give (a false "restricted" only sends them to the CoC team)."""
    handle = value.strip()
    if ":" in handle or "/" in handle or " " in handle or "@" in handle[1:]:
        return []
    bare = handle.lstrip("@")
    return [(IdentifierKind.HANDLE, f"{platform}: @{bare}") for platform in sorted(set(PLATFORM_WORDS.values()))]


def check_throttle():
    return Throttle(
        "restriction-check",
        getattr(settings, "COCDESK_RESTRICTION_CHECKS", CHECKS_PER_WINDOW),
        getattr(settings, "COCDESK_RESTRICTION_CHECK_WINDOW", WINDOW_SECONDS),
    )


def _throttle_key(organization, user):
    return f"{organization.pk}:{user.pk}"


@dataclass(frozen=True)
class Answer:
    """What the desk is told: ``lines`` are whole sentences, one per scope."""

    restricted: bool
    lines: tuple

    @property
    def text(self):
        return " ".join(self.lines)


def active_restrictions(organization, people, now):
    """The restricting sanctions in force at ``now`` for these people (a queryset of Person)."""
    return (
        Sanction.objects.filter(
            organization=organization,
            person__in=people,
            kind__in=RESTRICTING_KINDS,
            state=SanctionState.ACTIVE,
            starts_at__lte=now,
        )
        .filter(Q(is_permanent=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .prefetch_related("spaces")
    )


def _scope_of(sanction):
    if sanction.all_spaces:
        return ("all spaces",)
    return tuple(sorted(space.name for space in sanction.spaces.all())) or ("all spaces",)


def _until(sanction):
    """None for a sanction without an end: it holds until the team lifts it."""
    return None if sanction.is_permanent or sanction.ends_at is None else sanction.ends_at


def _later(first, second):
    if first is None or second is None:
        return None
    return max(first, second)


def _scope_words(names):
    if names == ("all spaces",):
        return "all spaces"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _until_words(until):
    if until is None:
        return "permanently"
    return "until " + dateformat.format(timezone.localtime(until), "j F Y, H:i")


def answer_for(sanctions):
    """One sentence per scope, with the latest end among the sanctions sharing it."""
    scopes = {}
    for sanction in sanctions:
        scope = _scope_of(sanction)
        scopes[scope] = _later(scopes[scope], _until(sanction)) if scope in scopes else _until(sanction)
    if not scopes:
        return Answer(restricted=False, lines=(NO_RESTRICTION,))
    lines = tuple(
        f"Restricted from {_scope_words(scope)} {_until_words(until)}: {CONTACT}."
        for scope, until in sorted(scopes.items(), key=lambda item: (item[0] != ("all spaces",), item[0]))
    )
    return Answer(restricted=True, lines=lines)


def check_restriction(organization, *, by, value):
    """Answers whether anyone the typed value identifies is restricted now, and records that a check was made."""
    if not can(by, "sanctions.check_restriction", organization):
        raise PermissionDenied
    value = (value or "").strip()
    if not value:
        raise ValidationError({"value": "Type a name, email address, handle or badge number."})
    if digest(organization, value) is None:
        raise ValidationError({"value": "Type at least two letters or digits."})
    throttle, key = check_throttle(), _throttle_key(organization, by)
    if throttle.is_blocked_key(key):
        minutes = throttle.window_seconds // 60
        raise TooManyChecks(
            f"You have made {throttle.limit} checks in the last {minutes} minutes, the most allowed. Wait a few "
            "minutes and check again; for anything urgent, contact the CoC team."
        )
    now = timezone.now()
    # The one field takes a badge number too, and a badge like 'B-4471' reads like a name to a guess by shape:
    # it is looked up both as guessed and as a badge number, so a badge typed as it was recorded is found.
    readings = [value, (IdentifierKind.BADGE, value), *_on_every_platform(value)]
    answer = answer_for(active_restrictions(organization, people_matching(organization, readings), now))
    with transaction.atomic():
        throttle.note_failure_key(key)
        check = RestrictionCheck.objects.create(
            organization=organization, checked_by=by, checked_at=now, restricted=answer.restricted
        )
        audit.record(
            "restriction.checked", actor=by, organization=organization, check=check.pk, restricted=answer.restricted
        )
    return answer
