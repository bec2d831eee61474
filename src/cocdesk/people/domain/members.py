"""Team members' own identifiers: the other names, emails and handles a member is known by, sealed with the
organization's registry key (``Membership.sealed_identifiers``), and the keyed hashes of everything they are known
by (``MemberIdentifier``), so a report naming a member recuses them in one indexed look-up and a database dump holds
none of their identifiers in clear.

The digests are those of the registry (``registry.digest``): a member's forms and a reported person's forms hash
alike, as people's identifiers do. The domain functions that add a member or change what they are known by call
``keep_member_digests``; the people migration 0003 computed them for the memberships that existed before, and the
orgs migration 0008 sealed the identifiers those memberships held in clear."""

from django.db import router, transaction

from cocdesk.common import audit
from cocdesk.common.prepared import PreparedQuery

from ..models import MemberIdentifier
from ..normalise import known_as_forms
from . import registry


def _purpose(membership):
    # Bound to the membership: a sealed value copied onto another member's row does not open.
    return f"member:{membership.pk}:identifiers"


def member_identifiers_text(membership, organization=None):
    """What the member is known by besides their name and account, as the team wrote it ('' when nothing).
    ``organization``: the membership's, when the caller holds it already (its registry key is read once)."""
    if not membership.sealed_identifiers:
        return ""
    organization = organization or membership.organization
    return registry.unseal(organization, _purpose(membership), bytes(membership.sealed_identifiers))["text"]


def seal_member_identifiers(membership, text, organization=None):
    """Sets the member's sealed identifiers to ``text`` (not saved). The membership must be saved already: the
    seal is bound to its id."""
    text = (text or "").strip()
    organization = organization or membership.organization
    membership.sealed_identifiers = registry.seal(organization, _purpose(membership), {"text": text}) if text else None


def member_forms(membership):
    """The matching forms of everything ``membership`` is known by, as stored now."""
    user = membership.user
    return known_as_forms(
        display_name=membership.display_name,
        full_name=user.get_full_name(),
        email=user.email,
        identifiers=member_identifiers_text(membership),
    )


def digests_of_forms(organization, forms):
    """The registry digests of identifiers already in their matching forms (``normalise.split_identifiers``)."""
    return {found for found in (registry.digest(organization, form) for form in forms) if found}


def member_digests(membership):
    """The digests of every name, email and handle ``membership`` is known by, as stored now."""
    return digests_of_forms(membership.organization, member_forms(membership))


def keep_member_digests(membership):
    """Stores the member's digests as they are now: new ones added, those they are no longer known by removed."""
    wanted = member_digests(membership)
    stored = MemberIdentifier.objects.filter(membership=membership)
    stored.exclude(digest__in=sorted(wanted)).delete()
    kept = set(stored.values_list("digest", flat=True))
    MemberIdentifier.objects.bulk_create(
        MemberIdentifier(organization_id=membership.organization_id, membership=membership, digest=found)
        for found in sorted(wanted - kept)
    )


def set_member_identifiers(membership, text, *, by):
    """Changes what ``membership`` is known by: sealed, their digests kept true, audited without the values. Cases
    filed before are not re-checked: a lead recuses a member named in one of them by hand."""
    with transaction.atomic():
        seal_member_identifiers(membership, text)
        membership.save(update_fields=["sealed_identifiers", "updated_at"])
        keep_member_digests(membership)
        audit.record(
            "org.member_identifiers_changed",
            actor=by,
            organization=membership.organization,
            member=membership.user.get_username(),
        )
    return membership


def memberships_named(organization, forms):
    """The ids of the memberships of ``organization`` (inactive ones too) known by any of these forms: one query
    over the index member_identifier_match."""
    digests = sorted(digests_of_forms(organization, forms))
    if not digests:
        return set()
    if len(digests) > MOST_DIGESTS_PREPARED:
        return set(
            MemberIdentifier.objects.filter(organization=organization, digest__in=digests).values_list(
                "membership_id", flat=True
            )
        )
    query = _named_queries.get(len(digests))
    if query is None:
        query = _named_queries[len(digests)] = PreparedQuery(
            lambda organization_id, *digests: MemberIdentifier.objects.filter(
                organization_id=organization_id, digest__in=digests
            ).values_list("membership_id"),
            int,
            *[str] * len(digests),
        )
    using = router.db_for_read(MemberIdentifier)
    return {membership_id for (membership_id,) in query.rows(organization.pk, *digests, using=using)}


# Every report naming someone asks this (intake recuses a member it names): a prepared query per number of digests,
# up to this many; a report with more (a long list of names) builds its queryset as usual.
MOST_DIGESTS_PREPARED = 40
_named_queries = {}
