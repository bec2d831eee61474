"""Charts of a transparency report, drawn on the server as SVG markup: readable without JavaScript, the same in the
page, the PDF and a browser's print, and allowed by the strict CSP (presentation attributes, never ``style``).

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>``, which says every
value in words; the page shows the same numbers as a table beside it. A count the small-number protection withheld
(the string "fewer than 3") is never drawn to a length: its bar is hatched, drawn with a dashed outline up to the
threshold (somewhere below it) and labelled with that string alone.
"""

from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import slugify

# In user units; the page's stylesheet caps a chart at 32rem, so a unit is about a CSS pixel on a laptop and the
# 16-unit text stays readable (12 px) when a phone shrinks the chart to its width.
WIDTH = 480
ROW_HEIGHT = 50
LABEL_BASELINE = 18  # the row's label sits above its bar, so long labels never squeeze the bars
BAR_TOP = 26
BAR_HEIGHT = 16
VALUE_ROOM = 120  # right of the longest bar, for its value ("fewer than 3")
BOTTOM_MARGIN = 6

INK = "#1f2328"
BAR = "#2b5797"
GUIDE = "#6e4a00"
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"


def is_withheld(value):
    """A count the small-number protection replaced with words ("fewer than 3"): it has no length to draw."""
    return isinstance(value, str)


def _rows(rows):
    """(label, count) pairs from the figures' ``{"label", "count"}`` dicts (or from pairs)."""
    return [(row["label"], row["count"]) if isinstance(row, dict) else (row[0], row[1]) for row in rows]


def count_text(count, noun=("case", "cases")):
    if is_withheld(count):
        return f"{count} {noun[1]}"
    return f"{count} {noun[0] if count == 1 else noun[1]}"


def _svg(chart_id, title, description, height, body):
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-labelledby="{id}-title {id}-desc" '
        'id="{id}" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        'font-family="{font}" font-size="16" fill="{ink}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{description}</desc>{body}</svg>',
        id=chart_id,
        width=WIDTH,
        height=height,
        font=FONT,
        ink=INK,
        title=title,
        description=description,
        body=body,
    )


def _hatch_pattern(chart_id):
    return format_html(
        '<defs><pattern id="{id}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)"><rect x="0" y="0" width="2" height="6" fill="{bar}"/></pattern></defs>',
        id=chart_id,
        bar=BAR,
    )


def _empty_chart(chart_id, title, message):
    body = format_html('<text x="0" y="{y}">{message}</text>', y=LABEL_BASELINE + 4, message=message)
    return _svg(chart_id, title, message, ROW_HEIGHT, body)


def bar_chart_svg(title, rows, *, chart_id=None, threshold=3, noun=("case", "cases"), empty="None in this period."):
    """A horizontal bar chart of ``rows`` (the figures' ``[{"label": ..., "count": int | "fewer than N"}]``).

    Withheld counts are drawn as hatched bars of unknown length reaching at most the threshold. Returns safe markup.
    """
    chart_id = chart_id or f"chart-{slugify(title) or 'figures'}"
    pairs = _rows(rows)
    if not pairs:
        return _empty_chart(chart_id, title, empty)
    longest = max([threshold] + [count for _label, count in pairs if not is_withheld(count)])
    scale = (WIDTH - VALUE_ROOM) / max(longest, 1)
    parts = [_hatch_pattern(chart_id)] if any(is_withheld(count) for _label, count in pairs) else []
    for index, (label, count) in enumerate(pairs):
        top = index * ROW_HEIGHT
        parts.append(format_html('<text x="0" y="{y}">{label}</text>', y=top + LABEL_BASELINE, label=label))
        if is_withheld(count):
            length = round(threshold * scale, 1)
            parts.append(
                format_html(
                    '<rect x="0" y="{y}" width="{w}" height="{h}" fill="url(#{id}-hatch)" stroke="{bar}" '
                    'stroke-width="1.5" stroke-dasharray="4 3"/>',
                    y=top + BAR_TOP,
                    w=length,
                    h=BAR_HEIGHT,
                    id=chart_id,
                    bar=BAR,
                )
            )
        else:
            length = round(count * scale, 1)
            parts.append(
                format_html(
                    '<rect x="0" y="{y}" width="{w}" height="{h}" fill="{bar}"/>',
                    y=top + BAR_TOP,
                    w=length,
                    h=BAR_HEIGHT,
                    bar=BAR,
                )
            )
        parts.append(
            format_html(
                '<text x="{x}" y="{y}">{value}</text>',
                x=round(length + 8, 1),
                y=top + BAR_TOP + BAR_HEIGHT - 2,
                value=count,
            )
        )
    description = "; ".join(f"{label}: {count_text(count, noun)}" for label, count in pairs) + "."
    height = len(pairs) * ROW_HEIGHT + BOTTOM_MARGIN
    return _svg(chart_id, title, description, height, mark_safe("".join(parts)))  # noqa: S308 - built by format_html


def duration_text(value, unit):
    if value is None:
        return "not enough cases to say"
    shown = f"{value:.1f}".removesuffix(".0")
    return f"{shown} {unit[:-1] if shown == '1' else unit}"


def timing_chart_svg(title, rows, *, unit="hours", promise=None, chart_id=None):
    """Bars of durations (``[(label, value or None), ...]``, e.g. the median and the 90th percentile time to
    acknowledgement), with the team's promise (``promise``, in ``unit``) drawn as a dashed line when given.

    A ``None`` value (too few cases to say) gets words, not a bar. Returns safe markup.
    """
    chart_id = chart_id or f"chart-{slugify(title) or 'timing'}"
    pairs = _rows(rows)
    known = [value for _label, value in pairs if value is not None]
    if not known:
        return _empty_chart(chart_id, title, "Not enough cases to say.")
    longest = max(known + ([promise] if promise else []))
    scale = (WIDTH - VALUE_ROOM) / (longest or 1)
    promise_room = ROW_HEIGHT // 2 if promise else 0
    parts = []
    for index, (label, value) in enumerate(pairs):
        top = promise_room + index * ROW_HEIGHT
        # The value goes with the label above the bar: beside the bar it could sit on the promise line.
        parts.append(
            format_html(
                '<text x="0" y="{y}">{label}: {value}</text>',
                y=top + LABEL_BASELINE,
                label=label,
                value=duration_text(value, unit),
            )
        )
        if value is not None:
            parts.append(
                format_html(
                    '<rect x="0" y="{y}" width="{w}" height="{h}" fill="{bar}"/>',
                    y=top + BAR_TOP,
                    w=round(value * scale, 1),
                    h=BAR_HEIGHT,
                    bar=BAR,
                )
            )
    height = promise_room + len(pairs) * ROW_HEIGHT + BOTTOM_MARGIN
    description = "; ".join(f"{label}: {duration_text(value, unit)}" for label, value in pairs)
    if promise:
        x = round(promise * scale, 1)
        promise_label = f"promise: {duration_text(promise, unit)}"
        description += f"; the team's {promise_label}"
        parts.append(
            format_html(
                '<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" stroke="{guide}" stroke-width="2" '
                'stroke-dasharray="5 4"/><text x="{text_x}" y="{text_y}" text-anchor="{anchor}" fill="{guide}">'
                "{label}</text>",
                x=x,
                top=promise_room - 4,
                bottom=height - BOTTOM_MARGIN,
                guide=GUIDE,
                text_x=x,
                text_y=promise_room - 8,
                anchor="end" if x > WIDTH / 2 else "start",
                label=promise_label[0].upper() + promise_label[1:],
            )
        )
    return _svg(chart_id, title, description + ".", height, mark_safe("".join(parts)))  # noqa: S308 - format_html
