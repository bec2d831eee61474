"""Small-number protection: what a transparency report may publish of a count, so that nobody can be picked out.

The rules, for an organization's threshold ``t`` (3 by default):

1. **Small counts are words.** Any count under ``t`` is published as the string "fewer than t", never as the number.
   A total (reports, cases, people reported, promises kept) under ``t`` too.
2. **No empty rows.** A table (cases by category, by finding, actions by kind, appeals by outcome) lists only the
   labels that occurred; a reader therefore knows that a withheld row holds between 1 and ``t - 1``.
3. **No cell is recovered by subtraction.** A reader is assumed to know each table's total exactly whenever it is at
   least ``t`` (it is published, or follows from other figures: every case has one category), and only that it is
   under ``t`` otherwise. A withheld row is *recoverable* when those facts leave it a single possible value:
   - with a known total ``T`` and ``k`` withheld rows whose sum is ``S = T - (the published rows)``, each withheld
     row lies in ``[max(1, S - (k-1)(t-1)), min(t-1, S - (k-1))]``: one withheld row is always recovered
     (``S`` itself), and several are when ``S = k`` (all ones) or ``S = k(t-1)`` (all ``t - 1``);
   - with a withheld total (under ``t``), ``k`` withheld rows each lie in ``[1, t-k]``: recovered when ``k = t-1``.
4. **Merging, never false numbers.** A table that leaves a row recoverable is fixed by merging rows into "Other"
   (categories) or "Other <findings, actions, outcomes>": first every withheld row together, then, while it is still
   recoverable, the smallest published row too. A merged row is the exact sum of what it holds (published as a
   number when it reaches ``t``). A second row is never *suppressed* to protect the first: it would have to show a
   count of ``t`` or more as "fewer than t", which is false. When even one merged row is recoverable (a threshold of
   2 makes every withheld row a 1), the table is published without rows.
5. **Dates** are generalised to the event (a space's report) or the month (see ``drafts.period_label``); the
   per-case lines carry a month, never a day.

``is_recoverable`` states rule 3 in one place; the tests check the published tables against a brute-force search of
every value a reader could assign to the withheld rows.
"""

from dataclasses import dataclass

OTHER = "Other"


def fewer_than(threshold):
    return f"fewer than {threshold}"


def protect_count(count, threshold):
    """A single figure: the number, or the words when it is under the threshold."""
    return count if count >= threshold else fewer_than(threshold)


@dataclass
class Row:
    label: str
    count: int
    # The labels a merged row holds (itself included), so that lines can say "Other" for them too.
    holds: tuple = ()


def is_recoverable(published_counts, withheld, total, threshold):
    """Whether a reader can tell the exact value of a withheld row (rule 3).

    ``published_counts``: the counts published as numbers; ``withheld``: how many rows are "fewer than t";
    ``total``: the table's true total."""
    if withheld == 0:
        return False
    if total >= threshold:
        remainder = total - sum(published_counts)
        low = max(1, remainder - (withheld - 1) * (threshold - 1))
        high = min(threshold - 1, remainder - (withheld - 1))
        return low >= high
    return withheld >= threshold - 1


def _recoverable(rows, threshold):
    published = [row.count for row in rows if row.count >= threshold]
    withheld = len(rows) - len(published)
    return is_recoverable(published, withheld, sum(row.count for row in rows), threshold)


def _merge(rows, chosen, other_label):
    """``rows`` with ``chosen`` folded into the one ``other_label`` row (made when missing), which goes last."""
    kept = [row for row in rows if row not in chosen and row.label != other_label]
    into = [row for row in rows if row in chosen or row.label == other_label]
    holds = tuple(label for row in into for label in (row.holds or (row.label,)))
    return [*kept, Row(other_label, sum(row.count for row in into), holds)]


def protected_rows(counts, threshold, *, other_label=OTHER):
    """The rows of a table to publish, from ``counts`` ({label: count}, in the order to show them). Returns a list
    of ``Row`` whose ``count`` is still the number: ``publish`` turns them into the figures' dicts."""
    rows = [Row(label, count, (label,)) for label, count in counts.items() if count > 0]
    if not _recoverable(rows, threshold):
        return rows
    rows = _merge(rows, [row for row in rows if row.count < threshold], other_label)
    while _recoverable(rows, threshold):
        named = [row for row in rows if row.label != other_label]
        if not named:
            return []
        rows = _merge(rows, [min(reversed(named), key=lambda row: row.count)], other_label)
    return rows


def publish(rows, threshold):
    return [{"label": row.label, "count": protect_count(row.count, threshold)} for row in rows]


def published_labels(rows, threshold):
    """{original label: the label a line may use}: its own when its count is published as a number, else the merged
    row's or ``None`` (withheld: a line naming it would count it for the reader)."""
    shown = {}
    for row in rows:
        for label in row.holds or (row.label,):
            shown[label] = row.label if row.count >= threshold else None
    return shown
