"""Team members' own identifiers, kept as keyed hashes only (``MemberIdentifier``), so a report naming a member
recuses them in one indexed look-up, without their names, emails or handles being read or compared in the clear.

The digests are those of the registry (``registry.digest``): a member's forms and a reported person's forms hash
alike, as people's identifiers do. The domain functions that add a member or change what they are known by call
``keep_member_digests``; the people migration 0003 computed them for the memberships that existed before."""

from ..models import MemberIdentifier
from ..normalise import member_identifiers
from . import registry


def digests_of_forms(organization, forms):
    """The registry digests of identifiers already in their matching forms (``normalise.split_identifiers``)."""
    return {found for found in (registry.digest(organization, form) for form in forms) if found}


def member_digests(membership):
    """The digests of every name, email and handle ``membership`` is known by, as stored now."""
    return digests_of_forms(membership.organization, member_identifiers(membership))


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


def memberships_named(organization, forms):
    """The ids of the memberships of ``organization`` (inactive ones too) known by any of these forms: one query
    over the index member_identifier_match."""
    digests = digests_of_forms(organization, forms)
    if not digests:
        return set()
    return set(
        MemberIdentifier.objects.filter(organization=organization, digest__in=sorted(digests)).values_list(
            "membership_id", flat=True
        )
    )
