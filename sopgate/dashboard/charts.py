"""Small server-side SVG charts for the dashboard: the geometry here, the markup in templates/charts/.

No JavaScript and no inline styles, so the page works offline and under a strict Content-Security-Policy.
Every mark carries a <title> with its numbers (a tooltip on hover, read out by screen readers), every series
has a text label, and series differ by pattern and marker shape as well as colour, so the charts survive a
greyscale printout, a washed-out projector and colour-blind eyes.

`bar_chart` and `line_chart` compute where everything goes (scales, positions, rounding, clipped labels, the
legend's rows, each tone's pattern and marker) and return it as plain data: numbers and plain text, no markup.
`{% chart %}` (sopgate/templatetags/sopgate_charts.py) draws it with templates/charts/, whose autoescaping
escapes every text. Coordinates are ints, or floats rounded to a tenth of a unit where the chart needs the
precision; the templates print them as they are (`{% localize off %}`: no locale's decimal comma in SVG).

A patterned mark is one rectangle filled with its tone's pattern, whose tile carries the tone's colour under
the strokes: one element per mark instead of a coloured one with a patterned copy on top.
"""

import itertools
from dataclasses import dataclass, field
from typing import NamedTuple

# A tone names a colour (in static/dashboard/dashboard.css), a fill pattern and a line marker.
TONES = {
    "good": ("solid", "circle"),
    "info": ("vertical", "square"),
    "warn": ("hatch", "triangle"),
    "bad": ("cross", "cross"),
    "neutral": ("dots", "diamond"),
    "muted": ("horizontal", "circle"),
}
WIDTH = 640
_ids = itertools.count(1)


# --- What a page passes in -------------------------------------------------------------------------------


class Segment(NamedTuple):
    label: str
    value: float
    tone: str = "info"


class BarRow(NamedTuple):
    label: str
    segments: list[Segment]
    note: str = ""  # shown after the bar instead of the total, e.g. "80 %"

    @property
    def total(self) -> float:
        return sum(s.value for s in self.segments)


@dataclass(frozen=True)
class LineSeries:
    label: str
    values: list[float | None]
    tone: str = "info"
    dashed: bool = False


# --- What the templates draw -------------------------------------------------------------------------------


class Pattern(NamedTuple):
    """A fill pattern in the chart's <defs>: a tile in the tone's colour under the pattern's strokes."""

    id: str
    tone: str
    shape: str  # "vertical", "hatch", "cross", "dots" or "horizontal"


class Text(NamedTuple):
    x: float
    y: float
    text: str


class Pill(NamedTuple):
    """A number inside a stacked bar, on a white label of its own so it reads on a hatched segment too."""

    x: int
    y: int
    width: int
    height: int
    text_x: int
    text: str


class Bar(NamedTuple):
    """One segment of a bar. `pattern` is the id of its fill pattern, "" for a solid fill in its tone's colour."""

    x: int
    width: int
    tone: str
    pattern: str
    title: str  # after the row's label: "Overdue: 2 items (33 % of 6)"
    pill: Pill | None


class Row(NamedTuple):
    label: str  # in full, the tooltip of the label
    short_label: str  # clipped to the room left of the bars
    y: int  # the top of its bars
    text_y: int  # the baseline of its texts
    bars: list[Bar]
    end: Text  # the total (or note) after the bar


class Point(NamedTuple):
    x: float
    y: float
    title: str  # the tooltip with its numbers; "" for a legend's marker


class LegendEntry(NamedTuple):
    """A series' key: a swatch (bar charts) or a stretch of line with its marker (line charts), and its label."""

    x: float
    y: float
    line_y: float  # the height of a line chart's key
    markers: list[Point]  # its marker, in the middle of the line
    text: Text
    tone: str
    pattern: str
    marker: str
    dashed: bool


class Line(NamedTuple):
    tone: str
    marker: str  # "circle", "square", "triangle", "cross" or "diamond"
    dashed: bool
    points: list[Point]
    end: Text | None  # the last point's value, written beside it
    end_anchor: str


@dataclass
class Chart:
    """What every chart has: its id (unique on the page), its accessible title, height, patterns and legend."""

    title: str
    height: int
    kind: str = ""
    uid: str = field(default_factory=lambda: f"sgc{next(_ids)}")
    width: int = WIDTH
    patterns: list[Pattern] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)
    empty: Text | None = None  # "No data yet"

    def use_tones(self, tones: set[str]) -> None:
        """Define the patterns of `tones` (the solid one needs none)."""
        self.patterns = [
            Pattern(self.pattern_id(tone), tone, TONES[tone][0]) for tone in sorted(tones) if TONES[tone][0] != "solid"
        ]

    def pattern_id(self, tone: str) -> str:
        return "" if TONES[tone][0] == "solid" else f"{self.uid}-{tone}"


@dataclass
class BarChart(Chart):
    kind: str = "bar"
    label_x: int = 0  # where the labels end, right-aligned
    bar_height: int = 18
    rows: list[Row] = field(default_factory=list)


class GridLine(NamedTuple):
    y: float
    label: Text  # its value, left of the axis


@dataclass
class LineChart(Chart):
    kind: str = "line"
    left: int = 64
    right: int = WIDTH - 24
    grid: list[GridLine] = field(default_factory=list)
    x_labels: list[Text] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def _fmt(value: float) -> str:
    if type(value) is int:  # nearly every value: counts
        return _count(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _count(value: int) -> str:
    """A count with thousands separators; `str` for the small ones (most of them), which is 3x faster."""
    return str(value) if -1000 < value < 1000 else f"{value:,}"


def _percent(part: float, whole: float) -> int:
    """`part` as a whole percent of `whole`, half up (the page's percentages round half up too)."""
    return int(100 * part / whole + 0.5)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tenth(value: float) -> float:
    return round(value, 1)


def _legend(chart: Chart, y: float, entries: list[tuple[str, str, bool]]) -> None:
    """Entries left to right, wrapping to a new row before the right edge; the chart grows to hold them."""
    x = 8.0
    for label, tone, dashed in entries:
        text = _clip(label, 40)
        chart.legend.append(
            LegendEntry(
                x=_tenth(x),
                y=_tenth(y),
                line_y=_tenth(y + 6),
                markers=[Point(_tenth(x + 11), _tenth(y + 6), "")],
                text=Text(_tenth(x + 28), _tenth(y + 10), text),
                tone=tone,
                pattern=chart.pattern_id(tone),
                marker=TONES[tone][1],
                dashed=dashed,
            )
        )
        x += 40 + 7.2 * len(text)
        if x > WIDTH - 120:
            x, y = 8.0, y + 18
    chart.height = max(chart.height, int(y + 22))


def bar_chart(*, title: str, rows: list[BarRow], unit: str, label_width: int = 190) -> BarChart:
    """Horizontal bars, one per row, stacked when a row has several segments; total (or note) at the end."""
    row_h, top = 28, 8
    legend_entries = list(
        {
            (s.label, s.tone): (s.label, s.tone, False) for row in rows for s in row.segments if len(row.segments) > 1
        }.values()
    )
    clip_at, bar_h = label_width // 8, row_h - 10
    chart = BarChart(title, top + row_h * max(len(rows), 1) + 8, label_x=label_width - 8, bar_height=bar_h)
    chart.use_tones({s.tone for row in rows for s in row.segments})
    pattern_ids = {tone: chart.pattern_id(tone) for tone in TONES}
    totals = [row.total for row in rows]
    total_texts = [_fmt(total) for total in totals]
    scale_max = max(totals, default=0) or 1
    # Room after the longest bar for its end label, so "154 (58.8 %)" is never cut off.
    end_room = 12 + 7.6 * max((len(row.note or text) for row, text in zip(rows, total_texts, strict=True)), default=4)
    bar_w = WIDTH - label_width - end_room
    width_per_unit = bar_w / scale_max
    if not rows:
        chart.empty = Text(8, top + 18, "No data yet")
    for i, (row, total, total_text) in enumerate(zip(rows, totals, total_texts, strict=True)):
        y = top + i * row_h
        text_y, bar_y = y + 18, y + 5
        stacked = len(row.segments) > 1
        # Whole units: each segment ends where the running total ends, rounded, so stacked segments meet
        # without a gap and the bar ends where its total does. A segment is drawn at least 2 units wide, so the
        # smallest value stays visible (over the start of the next one, if any).
        bars = []
        x = label_width
        running = 0
        for segment_label, value, tone in row.segments:
            if value <= 0:
                continue
            running += value
            end = label_width + round(width_per_unit * running)
            w = max(end - x, 2)
            value_text = _fmt(value)
            share = f" ({_percent(value, total)} % of {total_text})" if stacked else ""
            pill = None
            if stacked and w > 34:
                pill_w = 8 + 7 * len(value_text)
                pill = Pill(x + w // 2 - pill_w // 2, bar_y + 2, pill_w, bar_h - 4, x + w // 2, value_text)
            bars.append(Bar(x, w, tone, pattern_ids[tone], f"{segment_label}: {value_text} {unit}{share}", pill))
            x = end
        end_text = Text(max(x, label_width + 2) + 6, text_y, row.note or total_text)
        chart.rows.append(Row(row.label, _clip(row.label, clip_at), bar_y, text_y, bars, end_text))
    if legend_entries:
        _legend(chart, chart.height, legend_entries)
    return chart


def line_chart(
    *, title: str, x_labels: list[str], series: list[LineSeries], unit: str, y_max: float | None = None
) -> LineChart:
    """Lines over a category axis (days, months); each point has a marker and a tooltip; y starts at zero."""
    left, right, top, bottom = 64, 24, 14, 196
    chart = LineChart(title, bottom + 30, left=left, right=WIDTH - right)
    chart.use_tones({s.tone for s in series})
    values = [v for s in series for v in s.values if v is not None]
    top_value = y_max if y_max is not None else max(values, default=0)
    top_value = _nice_ceiling(top_value or 1)
    n = len(x_labels)
    if n == 0 or not values:
        chart.empty = Text(left, top + 40, "No data yet")
        return chart

    def px(i: int) -> float:
        return _tenth(left + (WIDTH - left - right) * (i / (n - 1) if n > 1 else 0.5))

    def py(v: float) -> float:
        return _tenth(bottom - (bottom - top) * v / top_value)

    for k in range(5):
        v = top_value * k / 4
        chart.grid.append(GridLine(py(v), Text(left - 6, _tenth(py(v) + 4), _fmt(v))))
    step = max(1, (n + 7) // 8)
    chart.x_labels = [
        Text(px(i), bottom + 18, label) for i, label in enumerate(x_labels) if i % step == 0 or i == n - 1
    ]
    for s in series:
        drawn = [(i, v) for i, v in enumerate(s.values) if v is not None]
        points = [Point(px(i), py(v), f"{s.label}, {x_labels[i]}: {_fmt(v)} {unit}") for i, v in drawn]
        end, anchor = None, "start"
        if drawn:
            last, value = points[-1], drawn[-1][1]
            anchor = "end" if last.x > WIDTH - 80 else "start"
            dx = -8 if anchor == "end" else 8
            end = Text(_tenth(last.x + dx), _tenth(last.y - 8), _fmt(value))
        chart.lines.append(Line(s.tone, TONES[s.tone][1], s.dashed, points, end, anchor))
    _legend(chart, bottom + 30, [(s.label, s.tone, s.dashed) for s in series])
    return chart


def _nice_ceiling(value: float) -> float:
    """The next 'round' number at or above value, so grid lines read 0/25/50/75/100 rather than 0/23.4/..."""
    magnitude = 10 ** (len(str(int(value))) - 1)
    for factor in (1, 2, 2.5, 4, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude
