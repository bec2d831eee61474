"""Small-number protection: no count under the threshold is published as a number, and no withheld count can be
worked out from the table's total and the other rows, checked against every value a reader could try."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from cocdesk.transparency.domain.protection import (
    OTHER,
    fewer_than,
    is_recoverable,
    protect_count,
    protected_rows,
    publish,
    published_labels,
)

LABELS = ["Harassment", "Stalking", "Threats", "Photography", "Disruption", "Other"]


def possible_values(published, threshold, total):
    """For each withheld row of ``published``, every value a reader could give it: withheld rows hold 1 to t-1
    (empty rows are never listed); the total is known when it is at least t, else only that it is under t."""
    exact = [row["count"] for row in published if isinstance(row["count"], int)]
    withheld = [row for row in published if not isinstance(row["count"], int)]
    seen = [set() for _ in withheld]
    for guess in itertools.product(range(1, threshold), repeat=len(withheld)):
        known_total = total >= threshold
        if (sum(exact) + sum(guess) == total) if known_total else (sum(guess) <= threshold - 1):
            for values, value in zip(seen, guess, strict=True):
                values.add(value)
    return seen


counts_strategy = st.dictionaries(st.sampled_from(LABELS), st.integers(min_value=0, max_value=12), max_size=6)


@settings(max_examples=400, deadline=None)
@given(counts=counts_strategy, threshold=st.integers(min_value=2, max_value=5))
def test_no_withheld_count_can_be_derived(counts, threshold):
    rows = protected_rows(counts, threshold)
    published = publish(rows, threshold)
    total = sum(counts.values())

    # Every count is accounted for once, and a merged row is the exact sum of what it holds.
    held = [label for row in rows for label in row.holds]
    assert len(held) == len(set(held))
    assert set(held) <= {label for label, count in counts.items() if count > 0}
    for row in rows:
        assert row.count == sum(counts[label] for label in row.holds) > 0
    if rows:
        assert sum(row.count for row in rows) == total
    # A small count is words, a number is the true count.
    for row, shown in zip(rows, published, strict=True):
        if row.count < threshold:
            assert shown["count"] == fewer_than(threshold)
        else:
            assert shown["count"] == row.count
    # Nothing a reader can do with the total and the other rows pins a withheld row down.
    for values in possible_values(published, threshold, total):
        assert len(values) >= 2, (counts, threshold, published)


@settings(max_examples=200, deadline=None)
@given(counts=counts_strategy, threshold=st.integers(min_value=2, max_value=5))
def test_lines_name_only_labels_published_as_numbers(counts, threshold):
    rows = protected_rows(counts, threshold)
    shown = published_labels(rows, threshold)
    published = {row["label"]: row["count"] for row in publish(rows, threshold)}
    for line_label in shown.values():
        if line_label is not None:
            assert isinstance(published[line_label], int)


def test_a_lone_small_category_is_merged_into_other():
    rows = publish(protected_rows({"Harassment": 10, "Stalking": 2}, 3), 3)
    # "fewer than 3" next to a total of 12 would say 2: the small one and the smallest other one merge instead.
    assert rows == [{"label": OTHER, "count": 12}]

    rows = publish(protected_rows({"Harassment": 10, "Threats": 5, "Stalking": 2}, 3), 3)
    assert rows == [{"label": "Harassment", "count": 10}, {"label": OTHER, "count": 7}]


def test_two_small_categories_stay_withheld_when_their_sum_says_nothing():
    rows = publish(protected_rows({"Harassment": 10, "Stalking": 2, "Photography": 1}, 3), 3)
    assert rows == [
        {"label": "Harassment", "count": 10},
        {"label": "Stalking", "count": "fewer than 3"},
        {"label": "Photography", "count": "fewer than 3"},
    ]
    # Two rows of 2 each: their sum of 4 would say both, so they merge.
    rows = publish(protected_rows({"Harassment": 10, "Stalking": 2, "Photography": 2}, 3), 3)
    assert rows == [{"label": "Harassment", "count": 10}, {"label": OTHER, "count": 4}]


def test_an_existing_other_category_takes_the_merged_rows():
    rows = protected_rows({"Harassment": 10, "Other": 4, "Stalking": 2}, 3)
    assert publish(rows, 3) == [{"label": "Harassment", "count": 10}, {"label": OTHER, "count": 6}]
    assert published_labels(rows, 3) == {"Harassment": "Harassment", "Other": OTHER, "Stalking": OTHER}


def test_single_figures_and_the_rule():
    assert protect_count(2, 3) == "fewer than 3"
    assert protect_count(0, 3) == "fewer than 3"
    assert protect_count(3, 3) == 3
    assert is_recoverable([10], 1, 12, 3)
    assert not is_recoverable([10], 2, 13, 3)
    assert is_recoverable([10], 2, 12, 3)
    assert not is_recoverable([], 1, 2, 3)
    # With a threshold of 2 a withheld row could only be a 1.
    assert protected_rows({"Harassment": 1}, 2) == []
