"""Made-up people and identifiers for bench/identifiers.py: one organization's registry, written in bulk as
``cocdesk.people.domain.registry.add_identifiers`` leaves it, and new reports naming known and unknown people.

Person n's identifiers are a pure function of n (``identifier(n, slot)``), so a report can name a stored person
without the benchmark keeping a million values in memory.
"""

from __future__ import annotations

PER_PERSON = 25
CHUNK_PEOPLE = 800  # identifiers are written 20,000 at a time, whole people per chunk


def _words(text):
    return text.split()


FIRST = _words(
    "Alex Amira Ben Carla Chen Dana Diego Elena Emeka Fatima Grace Hana Hugo Ines Ivan Jana Jonas Kai Kemal Lea "
    "Liam Lucia Mads Maya Mei Mila Nadia Noah Olga Omar Paula Priya Rafael Rosa Sami Sara Sofia Tariq Tomas Yuki"
)
LAST = _words(
    "Abe Bauer Costa Dubois Eriksen Fischer Garcia Haddad Ito Jansen Kowalski Lopez Meyer Nakamura Novak Okafor "
    "Petrov Quinn Rossi Santos Schmidt Silva Tanaka Torres Usman Vargas Weber Xu Yilmaz Zhang"
)
NICK = _words("Ace Bea Cap Doc Fox Jay Kit Max Neo Pip Ray Sky Tex Viv Zed")
ADJECTIVE = _words("Blue Bright Clear Deep Fair First Grand Green Happy High Kind Little Lucky Main New North Open")
NOUN = _words("Bridge Cloud Data Field Forge Harbor Labs Leaf Logic Orbit Peak River Rock Signal Stone Tree Wave")
PLACE = _words("Austin Berlin Dakar Delhi Kyoto Lagos Lima Lisbon Lyon Oslo Porto Quito Seoul Sydney Tartu")
SUFFIX = ["Inc.", "Ltd", "GmbH", "LLC", "B.V."]  # normalising may drop these: they tell no two companies apart
COMPANIES = len(ADJECTIVE) * len(NOUN) * len(PLACE)


def _person_words(n):
    first, last = FIRST[n % len(FIRST)], LAST[n // len(FIRST) % len(LAST)]
    return {
        "First": first,
        "Last": last,
        "first": first.lower(),
        "last": last.lower(),
        "f": first[0].lower(),
        "Nick": NICK[n % len(NICK)],
        "nick": NICK[n % len(NICK)].lower(),
        "Other": LAST[n * 7 // len(NICK) % len(LAST)],
        "n": n,
        "disc": n * 37 % 10_000,
    }


def _company(index):
    """One of COMPANIES names; consecutive indexes differ in their first word."""
    adjective, noun = ADJECTIVE[index % len(ADJECTIVE)], NOUN[index // len(ADJECTIVE) % len(NOUN)]
    place = PLACE[index // (len(ADJECTIVE) * len(NOUN)) % len(PLACE)]
    return f"{adjective} {noun} {place} {SUFFIX[index % len(SUFFIX)]}"


# The 25 identifiers of person n, one per slot: (kind, pattern). Names and companies are shared by many people, as
# real ones are; the others carry n, so they are the person's own (the new values of a report are drawn from those).
SLOTS = [
    ("name", "{First} {Last}"),
    ("name", "{Last}, {First} {Nick[0]}."),
    ("name", "{Nick} {Last}-{Other}"),
    ("email", "{first}.{last}{n}@gmail.com"),
    ("email", "{first}{n}@fastmail.com"),
    ("email", "{f}{last}{n}@example.org"),
    ("email", "{last}.{first}.{n}@posteo.de"),
    ("email", "{first}_{last}{n}@proton.me"),
    ("email", "{nick}{n}@outlook.com"),
    ("email", "{first}.{n}@uni-example.edu"),
    ("handle", "@{first}{last}{n}"),
    ("handle", "https://github.com/{first}-{last}{n}"),
    ("handle", "https://mastodon.social/@{nick}{n}"),
    ("handle", "{first}{n}#{disc:04d}"),
    ("handle", "https://www.linkedin.com/in/{first}-{last}-{n}"),
    ("handle", "https://x.com/{f}{last}{n}"),
    ("handle", "https://www.instagram.com/{first}.{last}.{n}/"),
    ("handle", "https://gitlab.com/{last}{n}"),
    ("handle", "https://www.youtube.com/@{nick}{last}{n}"),
    ("badge", "#{badge0:05d}"),
    ("badge", "Badge {badge1:06d}"),
    ("badge", "B-{badge2}"),
    ("company", "{company0}"),
    ("company", "{company1}"),
    ("company", "{company2}"),
]
assert len(SLOTS) == PER_PERSON
OWN_SLOTS = [slot for slot, (kind, _pattern) in enumerate(SLOTS) if kind in ("email", "handle", "badge")]
SPELLINGS = [str.upper, str.swapcase, lambda value: f"  {value}  ", lambda value: value]


def identifier(n, slot):
    """The (kind, value) of person n's identifier in this slot."""
    kind, pattern = SLOTS[slot]
    words = _person_words(n)
    for k in range(3):
        words[f"badge{k}"] = 1000 + n * 3 + k
        words[f"company{k}"] = _company(n * 3 + k)
    return kind, pattern.format(**words)


# --- building the registry -----------------------------------------------------------------------------------------


class Registry:
    """One organization's registry of people, and how far it has grown."""

    def __init__(self):
        from tests.factories import OrganizationFactory

        self.organization = OrganizationFactory(name="Bench identifiers", slug="bench-identifiers")
        self.person_pks = []
        self.filled = 0
        self.skipped = 0  # identifiers that digest to nothing or to one the person already has


def _code_name(n):
    from cocdesk.people.domain.registry import CODE_NAME_ALPHABET

    letters = []
    for _ in range(5):
        n, digit = divmod(n, len(CODE_NAME_ALPHABET))
        letters.append(CODE_NAME_ALPHABET[digit])
    return "P-" + "".join(letters)


def grow(registry, target):
    """Adds people and their identifiers until the registry holds ``target`` identifiers (a multiple of 25)."""
    from django.db import connection, transaction

    from cocdesk.people.domain.registry import digest, seal
    from cocdesk.people.models import Identifier, Person

    organization = registry.organization
    table = connection.ops.quote_name(Identifier._meta.db_table)
    columns = "organization_id, person_id, kind, digest, sealed_value"
    insert = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608 - the model's own table
    while registry.filled < target:
        first = len(registry.person_pks)
        count = min(CHUNK_PEOPLE, (target - registry.filled) // PER_PERSON)
        people = [
            Person(
                organization=organization,
                code_name=_code_name(n),
                sealed_details=seal(organization, "person", {"name": identifier(n, 0)[1]}),
            )
            for n in range(first, first + count)
        ]
        rows = []
        for offset, n in enumerate(range(first, first + count)):
            seen = set()
            for slot in range(PER_PERSON):
                kind, value = identifier(n, slot)
                found = digest(organization, value, kind)  # as add_identifiers digests it
                if not found or found in seen:
                    registry.skipped += 1
                    continue
                seen.add(found)
                rows.append((offset, kind, found, seal(organization, "identifier", {"value": value})))
        with transaction.atomic():
            Person.objects.bulk_create(people, batch_size=2000)
            params = [(organization.pk, people[offset].pk, kind, found, sealed) for offset, kind, found, sealed in rows]
            with connection.cursor() as cursor:
                cursor.executemany(insert, params)
        registry.person_pks += [person.pk for person in people]
        registry.filled += count * PER_PERSON


# --- new reports -------------------------------------------------------------------------------------------------


def new_reports(rng, people, count):
    """``count`` reports of 3 to 6 identifiers: about half of them one existing person's (in another spelling: case,
    spaces), the rest never seen, each a (kind, value) pair as the report's fields give it. Returns (index of the
    person named, pairs) for each report."""
    reports = []
    for _ in range(count):
        size = rng.randint(3, 6)
        known = rng.choice([size // 2, (size + 1) // 2])
        person = rng.randrange(people)
        values = []
        for slot in rng.sample(range(PER_PERSON), known):
            kind, value = identifier(person, slot)
            values.append((kind, rng.choice(SPELLINGS)(value)))
        stranger = 10_000_000 + rng.randrange(10_000_000)  # far above any person made
        values += [identifier(stranger, slot) for slot in rng.sample(OWN_SLOTS, size - known)]
        rng.shuffle(values)
        reports.append((person, values))
    return reports
