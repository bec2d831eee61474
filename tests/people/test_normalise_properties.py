"""Equivalent spellings of one identifier normalise to one value, distinct identifiers never share one, and every
normalised value normalises to itself (so the registry can hash it again without knowing its field)."""

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocdesk.people.domain import registry
from cocdesk.people.enums import IdentifierKind
from cocdesk.people.normalise import PHONE, guess_kind, match_forms, normalise_identifier
from tests.factories import OrganizationFactory

DISTINCT = 20_000
LETTERS = string.ascii_lowercase
settings.register_profile("normalise", deadline=None)
settings.load_profile("normalise")


def normalised(value, kind=None, region=None):
    return normalise_identifier(kind or guess_kind(value), value, region=region)


def assert_one_value(forms, kind=None, region=None):
    values = {form: normalised(form, kind, region) for form in forms}
    assert len(set(values.values())) == 1, values
    canonical = next(iter(values.values()))
    assert canonical
    assert normalised(canonical, region=region) == canonical, "a canonical form must normalise to itself"
    return canonical


def recased(draw, text):
    return "".join(draw(st.sampled_from([c.lower(), c.upper()])) for c in text)


words = st.text(alphabet=LETTERS + string.digits, min_size=1, max_size=10)
# Words a platform keeps for its own pages (github.com/settings, x.com/home) are nobody's handle.
RESERVED = {"c", "i", "p", "home", "intent", "search", "hashtag", "explore", "stories", "reel", "orgs", "settings",
            "topics", "sponsors", "groups", "users", "user", "events", "pages", "channel"}  # fmt: skip
handles = st.builds(
    lambda first, rest: first + rest, st.sampled_from(LETTERS), st.text(LETTERS + string.digits + "_", max_size=14)
).filter(lambda handle: handle not in RESERVED)


# Emails ---------------------------------------------------------------------------------------------------------


@st.composite
def email_forms(draw):
    local = draw(st.lists(words, min_size=1, max_size=3)).copy()
    domain = draw(st.sampled_from(["example.org", "mail.example.net", "uni-example.ac.uk", "posteo.de"]))
    address = ".".join(local) + "@" + domain
    tag = draw(st.text(LETTERS + string.digits + "-", min_size=1, max_size=8))
    return [
        address,
        recased(draw, address),
        f"  {address.upper()} ",
        f"{'.'.join(local)}+{tag}@{domain}",
        f"mailto:{address}",
        f"{address}.",
        f"Someone Named <{recased(draw, address)}>",
        f"Email: {address}",
    ]


@given(email_forms())
def test_forms_of_one_email_address_are_one_value(forms):
    assert assert_one_value(forms) == forms[0]


@given(st.lists(words, min_size=1, max_size=3), st.text(LETTERS, min_size=1, max_size=6))
def test_gmail_ignores_dots_tags_and_the_old_domain(local, tag):
    plain = "".join(local)
    forms = [
        f"{plain}@gmail.com",
        f"{'.'.join(local)}@gmail.com",
        f"{'.'.join(plain)}@GMail.com",
        f"{'.'.join(local)}+{tag}@googlemail.com",
        f"{plain.upper()}@GOOGLEMAIL.COM",
    ]
    assert assert_one_value(forms) == f"{plain}@gmail.com"


def test_dots_matter_where_the_provider_keeps_them():
    assert normalised("jane.doe@example.org") != normalised("janedoe@example.org")


# Handles and profile URLs ---------------------------------------------------------------------------------------

PROFILE_URLS = {
    "github": ["https://github.com/{}", "http://www.github.com/{}/", "github.com/{}?tab=repositories"],
    "gitlab": ["https://gitlab.com/{}", "https://www.gitlab.com/{}/"],
    "x": ["https://twitter.com/{}", "https://x.com/{}/", "https://mobile.twitter.com/{}", "twitter.com/#!/{}"],
    "instagram": ["https://www.instagram.com/{}/", "instagram.com/{}?igshid=abc123"],
    "linkedin": ["https://www.linkedin.com/in/{}/", "https://uk.linkedin.com/in/{}", "linkedin.com/in/{}"],
    "facebook": ["https://www.facebook.com/{}", "https://m.facebook.com/{}/"],
    "youtube": ["https://www.youtube.com/@{}", "https://m.youtube.com/@{}/", "youtube.com/@{}?si=xyz"],
}
LABELS = {
    "github": "GitHub",
    "gitlab": "GitLab",
    "x": "Twitter",
    "instagram": "Instagram",
    "linkedin": "LinkedIn",
    "facebook": "Facebook",
    "youtube": "YouTube",
}


@given(st.sampled_from(sorted(PROFILE_URLS)), handles, st.data())
def test_a_profile_in_any_of_its_url_forms_is_platform_and_name(platform, handle, data):
    forms = [template.format(recased(data.draw, handle)) for template in PROFILE_URLS[platform]]
    forms += [f"{LABELS[platform]}: @{handle}", f"{platform}:{handle.upper()}"]
    assert assert_one_value(forms, kind=IdentifierKind.HANDLE) == f"{platform}:{handle}"


@given(handles, st.sampled_from(["mastodon.social", "chaos.social", "fosstodon.org", "hachyderm.io"]), st.data())
def test_a_fediverse_profile_is_name_at_host(handle, host, data):
    forms = [
        f"https://{host}/@{handle}",
        f"https://{host.upper()}/@{recased(data.draw, handle)}/",
        f"http://www.{host}/@{handle}",
        f"@{handle}@{host}",
        f"Mastodon: @{handle}@{host}",
    ]
    assert assert_one_value(forms, kind=IdentifierKind.HANDLE) == f"{handle}@{host}"


@given(handles.filter(lambda handle: len(handle) >= 2), st.integers(0, 9999), st.data())  # Discord: 2 or more
def test_a_discord_name_with_its_discriminator(handle, number, data):
    tag = f"{number:04d}"
    forms = [f"{handle}#{tag}", f"@{recased(data.draw, handle)}#{tag}", f"Discord: {handle} #{tag}"]
    assert assert_one_value(forms, kind=IdentifierKind.HANDLE) == f"discord:{handle}#{tag}"


@given(
    st.builds(str.__add__, st.sampled_from(LETTERS), st.text(LETTERS + string.digits, min_size=1, max_size=14)),
    st.data(),
)
def test_a_handle_on_no_known_platform_matches_however_it_is_written(handle, data):
    forms = [handle, f"@{handle}", f"  @{recased(data.draw, handle)} ", f"Nickname: {handle}"]
    assert assert_one_value(forms, kind=IdentifierKind.HANDLE) == handle


@given(st.text(LETTERS + string.digits, min_size=4, max_size=8), st.data())
def test_a_conference_platform_profile_url(code, data):
    forms = [
        f"https://pretalx.example.org/democon/speaker/{code}/",
        f"http://www.pretalx.example.org/democon/speaker/{recased(data.draw, code)}",
        f"pretalx.example.org/democon/speaker/{code}?utm_source=mail",
        f"https://m.pretalx.example.org/democon/speaker/{code}#top",
    ]
    assert assert_one_value(forms) == f"pretalx.example.org/democon/speaker/{code}"


def test_a_handle_on_a_platform_is_also_matched_bare():
    assert match_forms("https://github.com/pat_q") == {"github:pat_q", "patq"}
    assert match_forms("Slack: @patq") == {"slack:patq", "patq"}


# Phone numbers --------------------------------------------------------------------------------------------------


@given(st.integers(201, 989), st.integers(200, 999), st.integers(0, 9999))
def test_forms_of_one_phone_number_are_one_e164_value(area, exchange, line):
    digits = f"{area}{exchange}{line:04d}"
    spaced = f"{area} {exchange} {line:04d}"
    forms = [
        f"+1{digits}",
        f"+1 ({area}) {exchange}-{line:04d}",
        f"+1.{area}.{exchange}.{line:04d}",
        f"001 {spaced}",
        f"tel:+1-{area}-{exchange}-{line:04d}",
        f"({area}) {exchange}-{line:04d}",
        "".join(chr(ord("０") + int(c)) if c.isdigit() else c for c in f"+1 {spaced}"),  # full-width digits
    ]
    assert assert_one_value(forms, kind=PHONE, region="US") == f"+1{digits}"


@given(st.integers(10_000_000, 99_999_999))
def test_a_national_number_needs_the_region_to_become_e164(number):
    national = f"020 {str(number)[:4]} {str(number)[4:]}"
    assert normalised(national, PHONE, region="GB") == normalised(f"+44 20 {number}", PHONE) == f"+4420{number}"
    without_region = normalised(national, PHONE)
    assert without_region == f"tel:020{number}"
    assert normalised(without_region, region="GB") == f"+4420{number}", "known once the region is"


# Badge numbers --------------------------------------------------------------------------------------------------


@given(st.integers(0, 999_999), st.sampled_from(["", "A", "B", "VIP"]))
def test_forms_of_one_badge_number_are_one_value(number, series):
    forms = [
        f"{series}{number}",
        f"#{series}{number:06d}",
        f"Badge {series} {number}",
        f"badge no. {series}-{number:04d}",
        f"No. {series}{number}",
        f"BADGE #{series}{number:05d}",
        f"Badge: {series} {str(number)[:2]} {str(number)[2:]}".rstrip(),
    ]
    assert assert_one_value(forms, kind=IdentifierKind.BADGE) == f"badge:{series.lower()}{number}"


def test_a_bare_short_number_is_taken_for_a_badge():
    assert guess_kind("0042") == IdentifierKind.BADGE
    assert normalised("0042") == normalised("#42") == "badge:42"


# Names and companies --------------------------------------------------------------------------------------------


@given(st.lists(st.text(LETTERS, min_size=1, max_size=8), min_size=1, max_size=3), st.data())
def test_a_name_ignores_case_spaces_and_compatibility_forms(parts, data):
    name = " ".join(parts)
    forms = [name, recased(data.draw, name), f"  {name.upper()}  ", "\u3000".join(parts), name.replace("i", "ｉ")]
    assert assert_one_value(forms, kind=IdentifierKind.NAME) == "".join(parts)


def test_accents_are_dropped_for_exact_name_matching():
    assert normalised("José  Müller") == normalised("jose muller") == "josemuller"
    assert normalised("Straße") == normalised("STRASSE")


@pytest.mark.parametrize("form", ["Acme", "ACME Inc.", "Acme, Inc", "Acme GmbH", "acme ltd", "The Acme Company LLC"])
def test_company_legal_forms_are_dropped(form):
    assert normalise_identifier(IdentifierKind.COMPANY, form) == "acme"


# No collisions --------------------------------------------------------------------------------------------------


def distinct_values(make):
    rng = random.Random(12)
    values = set()
    while len(values) < DISTINCT:
        values.add(make(rng))
    return values


def random_word(rng, alphabet=LETTERS + string.digits, low=3, high=12):
    return rng.choice(LETTERS) + "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high) - 1))


GENERATORS = {
    "email": (None, lambda rng: f"{random_word(rng)}@{rng.choice(['example.org', 'gmail.com', 'posteo.de'])}"),
    "handle": (
        IdentifierKind.HANDLE,
        lambda rng: rng.choice(list(PROFILE_URLS.values()))[0].format(random_word(rng, LETTERS + string.digits + "_")),
    ),
    "bare handle": (IdentifierKind.HANDLE, lambda rng: "@" + random_word(rng)),
    "fediverse": (None, lambda rng: f"https://{rng.choice(['a.social', 'b.social'])}/@{random_word(rng)}"),
    "phone": (PHONE, lambda rng: f"+1 {rng.randint(201, 989)} {rng.randint(200, 999)} {rng.randint(0, 9999):04d}"),
    "badge": (IdentifierKind.BADGE, lambda rng: f"#{rng.choice(['', 'A', 'B'])}{rng.randint(1, 10_000_000)}"),
    "url": (None, lambda rng: f"https://talks.example.org/speaker/{random_word(rng)}/"),
}


@pytest.mark.parametrize("kind_name", sorted(GENERATORS))
def test_distinct_identifiers_never_share_a_normalised_value(kind_name):
    kind, make = GENERATORS[kind_name]
    values = distinct_values(make)
    # Distinct as generated means distinct as identifiers: the generators write each in one form.
    normalised_values = {normalised(value, kind) for value in values}
    assert len(normalised_values) == DISTINCT


# Through the registry -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_registry_hashes_every_form_and_the_canonical_form_alike():
    organization = OrganizationFactory()
    for kind, forms in [
        (IdentifierKind.EMAIL, ["Jane.Doe+coc@GoogleMail.com", "janedoe@gmail.com"]),
        (IdentifierKind.HANDLE, ["https://www.github.com/JaneDoe/", "GitHub: @janedoe", "github:janedoe"]),
        (IdentifierKind.BADGE, ["Badge #0042", "42", "badge:42"]),
        (PHONE, ["+44 (0)20 7946 0958", "0044 20 7946 0958", "+442079460958"]),
    ]:
        digests = {registry.digest(organization, form, kind) for form in forms}
        digests |= {registry.digest(organization, form) for form in forms}
        assert len(digests) == 1 and None not in digests, kind
