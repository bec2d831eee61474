"""Finding a team member named anywhere in free text: word for word, whatever the case, accents and punctuation,
and never on a fragment of a longer word or on a short first name alone."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cocdesk.people.normalise import identifier_phrases, mentions, words


@pytest.mark.parametrize(
    ("text", "identifiers", "expected"),
    [
        ("Pat Quarrel kept touching my shoulder.", "Pat Quarrel", True),
        ("it was PAT QUARREL, again", "Pat Quarrel", True),
        ("I told Jane O’Neil about it", "Jane O'Neil", True),
        ("José Müller was there", "Jose Muller", True),
        ("write to pat.q@example.org, please", "pat.q@example.org", True),
        ("on Slack @patq said it", "Slack: @patq", True),
        ("(patquarrel) on the forum", "patquarrel", True),
        ("Pat was nice, Quarrel was not", "Pat Quarrel", False),
        ("the quarrelsome man", "Quarrel", False),
        ("Al said hi", "Al", False),
        ("an announcement about Ann", "Ann", False),
        ("nothing to see", "", False),
    ],
)
def test_mentions(text, identifiers, expected):
    assert mentions(words(text), identifier_phrases(identifiers)) is expected


@given(st.text(max_size=300), st.text(max_size=60))
def test_mentions_never_fails_on_any_text(text, identifier):
    assert mentions(words(text), identifier_phrases(identifier)) in {True, False}


@given(st.lists(st.sampled_from(["jane", "doe", "pat", "quarrel", "and", "the"]), max_size=20))
def test_a_phrase_is_found_exactly_when_it_stands_in_the_text(tokens):
    phrase = ("pat", "quarrel")
    expected = any(tuple(tokens[i : i + 2]) == phrase for i in range(len(tokens)))
    assert mentions(tokens, {phrase}) is expected
