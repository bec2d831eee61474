"""Phone numbers are an identifier kind of their own: recognised by their shape in any field, normalised to E.164
(in the organization's country when written without '+', from the ``phone_region`` setting), hashed alike in
every form, and never colliding with another number."""

import random

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from cocdesk.people.domain import registry
from cocdesk.people.domain.parties import named_people
from cocdesk.people.enums import IdentifierKind
from cocdesk.people.models import CaseParty, Identifier
from cocdesk.people.normalise import guess_kind, normalise_identifier
from tests.factories import OrganizationFactory, report_case

settings.register_profile("phone", deadline=None)
settings.load_profile("phone")
DISTINCT = 20_000


def spellings(area, exchange, line):
    """One North American number as people write it."""
    spaced = f"{area} {exchange} {line:04d}"
    return [
        f"+1{area}{exchange}{line:04d}",
        f"+1 ({area}) {exchange}-{line:04d}",
        f"+1.{area}.{exchange}.{line:04d}",
        f"001 {spaced}",
        f"tel:+1-{area}-{exchange}-{line:04d}",
        f"({area}) {exchange}-{line:04d}",
        f"{area}-{exchange}-{line:04d}",
        "".join(chr(ord("０") + int(c)) if c.isdigit() else c for c in f"+1 {spaced}"),  # full-width digits
    ]


@given(st.integers(201, 989), st.integers(200, 999), st.integers(0, 9999))
def test_every_spelling_of_a_phone_number_is_recognised_as_one(area, exchange, line):
    forms = spellings(area, exchange, line)
    assert {guess_kind(form) for form in forms} == {IdentifierKind.PHONE}
    values = {normalise_identifier(guess_kind(form), form, region="US") for form in forms}
    assert values == {f"+1{area}{exchange}{line:04d}"}
    canonical = values.pop()
    assert guess_kind(canonical) == IdentifierKind.PHONE
    assert normalise_identifier(guess_kind(canonical), canonical, region="US") == canonical


@given(st.integers(1000_0000, 9999_9999))
def test_a_uk_number_is_one_value_in_its_national_and_international_forms(number):
    digits = str(number)
    forms = [f"020 {digits[:4]} {digits[4:]}", f"+44 20 {digits}", f"+44 (0)20 {digits[:4]} {digits[4:]}"]
    forms.append(f"0044 20 {digits[:4]}-{digits[4:]}")
    assert {normalise_identifier(IdentifierKind.PHONE, form, region="GB") for form in forms} == {f"+4420{digits}"}


@pytest.mark.parametrize("region", ["US", "GB", "DE", None])
def test_distinct_numbers_never_share_a_normalised_value(region):
    rng = random.Random(7)
    numbers = set()
    while len(numbers) < DISTINCT:
        numbers.add(
            f"+{rng.choice(['1', '44', '49', '33', '61'])} {rng.randint(200, 999)} {rng.randint(10**6, 10**7 - 1)}"
        )
    assert len({normalise_identifier(IdentifierKind.PHONE, number, region=region) for number in numbers}) == DISTINCT


def test_distinct_national_numbers_in_the_region_never_collide():
    rng = random.Random(8)
    numbers = {f"0{rng.randint(20, 79)} {rng.randint(10**7, 10**8 - 1)}" for _ in range(DISTINCT)}
    values = {normalise_identifier(IdentifierKind.PHONE, number, region="GB") for number in numbers}
    assert len(values) == len(numbers)


@pytest.mark.django_db
@given(st.integers(1000_0000, 9999_9999))
@settings(max_examples=25)
def test_the_registry_reads_national_numbers_in_the_servers_region(number):
    organization = OrganizationFactory()
    national, international = f"020 {str(number)[:4]} {str(number)[4:]}", f"+44 20 {number}"
    with override_settings(COCDESK_PHONE_REGION="GB"):
        assert registry.digest(organization, national) == registry.digest(organization, international)
        assert registry.digest(organization, national, IdentifierKind.PHONE) == registry.digest(
            organization, international
        )
    with override_settings(COCDESK_PHONE_REGION=None):
        assert registry.digest(organization, national) != registry.digest(organization, international)


def test_a_phone_number_in_a_report_keeps_its_kind_and_a_long_badge_number_stays_a_badge():
    (person,) = named_people(
        {"reported_name": "Pat Q", "reported_screen_names": "+44 20 7946 0958", "reported_badge_number": "1234567"}
    )
    assert (IdentifierKind.PHONE, "+44 20 7946 0958") in person.identifiers
    assert (IdentifierKind.BADGE, "1234567") in person.identifiers
    (witness,) = named_people({"others_involved": "Witness: Ronja Berg, 0044 20 7946 0958"})
    assert (IdentifierKind.PHONE, "0044 20 7946 0958") in witness.identifiers


@pytest.mark.django_db
def test_two_reports_giving_one_number_in_two_forms_share_its_digest(organization):
    first, _ = report_case(organization, reported_name="Pat Q", reported_screen_names="+1 (212) 555-0142")
    second, _ = report_case(organization, reported_name="Someone", reported_screen_names="tel:+1-212-555-0142")
    stored = {
        case: set(
            Identifier.objects.filter(
                party__in=CaseParty.objects.filter(case=case), kind=IdentifierKind.PHONE
            ).values_list("digest", flat=True)
        )
        for case in (first, second)
    }
    assert stored[first] and stored[first] == stored[second]
