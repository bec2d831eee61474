"""The organization's registry of people: sealed names and keyed hashes of identifiers. Only this module touches
the registry key."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import router, transaction

from cocdesk.common import crypto
from cocdesk.common.prepared import PreparedQuery

from ..models import Identifier, Person, RegistryKey
from ..normalise import guess_kind, normalise_identifier

CODE_NAME_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MIN_IDENTIFIER_LENGTH = 2


def _associated(organization, purpose):
    return f"cocdesk:registry:{organization.pk}:{purpose}".encode()


def registry_key(organization):
    """The organization's registry data key, made on first need."""
    cached = getattr(organization, "_registry_key", None)
    if cached is not None:
        return cached
    rows = _stored_key.rows(organization.pk, using=router.db_for_read(RegistryKey))
    if not rows:
        # An insert that leaves alone a key a concurrent transaction made (then read back, whichever was made), not
        # get_or_create, whose recovery from that race cannot work inside ``prepared.sent_together`` (intake).
        key_id, wrapped = crypto.new_wrapped_data_key(_associated(organization, "key"))
        new = RegistryKey(organization=organization, key_id=key_id, wrapped_key=wrapped)
        RegistryKey.objects.bulk_create([new], ignore_conflicts=True)
        rows = _stored_key.rows(organization.pk, using=router.db_for_write(RegistryKey))
    ((key_id, wrapped),) = rows
    organization._registry_key = crypto.unwrap_data_key(key_id, bytes(wrapped), _associated(organization, "key"))
    return organization._registry_key


# Read by every report that names someone: built once per worker (``common.prepared``).
_stored_key = PreparedQuery(
    lambda organization_id: (
        RegistryKey.objects.filter(organization_id=organization_id).order_by().values_list("key_id", "wrapped_key")[:1]
    ),
    int,
)


def seal(organization, purpose, payload):
    return crypto.seal(registry_key(organization), payload, _associated(organization, purpose))


def unseal(organization, purpose, sealed):
    return crypto.unseal(registry_key(organization), sealed, _associated(organization, purpose))


def phone_region(organization):
    """The country phone numbers written without '+' are read in: the organization's, once it has one, else the
    server's setting."""
    return getattr(organization, "country", None) or settings.COCDESK_PHONE_REGION


def digest(organization, value, kind=None):
    """The keyed hash two spellings of one identifier share; None when nothing is left to match on. ``kind``: what
    the value was given as, else guessed from its shape (a canonical form is recognised again, so it hashes alike)."""
    value = value or ""
    normalised = normalise_identifier(kind or guess_kind(value), value, region=phone_region(organization))
    if len(normalised) < MIN_IDENTIFIER_LENGTH:
        return None
    return hmac.new(registry_key(organization), normalised.encode(), hashlib.sha256).hexdigest()


def _new_code_name(organization):
    while True:
        code = "P-" + "".join(secrets.choice(CODE_NAME_ALPHABET) for _ in range(5))
        if not Person.objects.filter(organization=organization, code_name=code).exists():
            return code


def people_matching(organization, values):
    """The people of the organization any of these identifiers matches (a name, an email, a handle...): each a
    value, or a (kind, value) pair when its kind is known."""
    pairs = [value if isinstance(value, (tuple, list)) else (None, value) for value in values]
    digests = {found for found in (digest(organization, value, kind) for kind, value in pairs) if found}
    if not digests:
        return Person.objects.none()
    # No ordering: the model's (organization, code_name) order made SQLite walk every person of the organization
    # instead of reading the matched few by key.
    return Person.objects.filter(
        organization=organization,
        pk__in=Identifier.objects.filter(organization=organization, digest__in=digests).values("person_id"),
    ).order_by()


@transaction.atomic
def record_person(organization, *, name, identifiers=()):
    """The person these identifiers name: an existing one when any identifier matches, else a new one. Adds the
    identifiers not yet known. ``identifiers`` is a list of (kind, value)."""
    from ..enums import IdentifierKind

    pairs = [(IdentifierKind.NAME, name), *identifiers]
    person = people_matching(organization, pairs).order_by("pk").first()
    if person is None:
        person = Person.objects.create(
            organization=organization,
            code_name=_new_code_name(organization),
            sealed_details=seal(organization, "person", {"name": name.strip()}),
        )
    add_identifiers(person, pairs)
    return person


def add_identifiers(person, pairs):
    organization = person.organization
    known = set(person.identifiers.values_list("digest", flat=True))
    new = []
    for kind, value in pairs:
        found = digest(organization, value, kind)
        if found and found not in known:
            known.add(found)
            new.append(
                Identifier(
                    organization=organization,
                    person=person,
                    kind=kind,
                    digest=found,
                    sealed_value=seal(organization, "identifier", {"value": value.strip()}),
                )
            )
    Identifier.objects.bulk_create(new)


def person_name(person):
    return unseal(person.organization, "person", person.sealed_details)["name"]


def identifier_values(person):
    return [
        (identifier.get_kind_display(), unseal(person.organization, "identifier", identifier.sealed_value)["value"])
        for identifier in person.identifiers.all()
    ]
