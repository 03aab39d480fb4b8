"""Small server-side SVG charts for the dashboard.

No JavaScript and no inline styles, so the page works offline and under a strict Content-Security-Policy.
Every mark carries a <title> with its numbers (a tooltip on hover, read out by screen readers), every series
has a text label, and series differ by pattern and marker shape as well as colour, so the charts survive a
greyscale printout, a washed-out projector and colour-blind eyes.

A patterned mark is one rectangle filled with its tone's pattern, whose tile carries the tone's colour under
the strokes: one element per mark instead of a coloured one with a patterned copy on top. Text goes through
the standard library's `html.escape` (what Django's `escape` calls, without its lazy-string wrapper per label).
"""

import itertools
from dataclasses import dataclass, field
from html import escape
from typing import NamedTuple

from django.utils.safestring import SafeString, mark_safe

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


@dataclass
class _Svg:
    title: str
    height: int
    uid: str = field(default_factory=lambda: f"sgc{next(_ids)}")
    parts: list[str] = field(default_factory=list)

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def render(self, tones: set[str]) -> SafeString:
        title_id = f"{self.uid}-t"
        head = (
            f'<svg class="sg-chart" viewBox="0 0 {WIDTH} {self.height}" role="img" '
            f'aria-labelledby="{title_id}" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{title_id}">{escape(self.title)}</title>'
        )
        return mark_safe(head + _patterns(self.uid, tones) + "".join(self.parts) + "</svg>")  # noqa: S308 - every text is escaped above


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


def _patterns(uid: str, tones: set[str]) -> str:
    shapes = {
        "vertical": '<path d="M3 0V6" class="sg-pat"/>',
        "hatch": '<path d="M-1 1L1 -1M0 6L6 0M5 7L7 5" class="sg-pat"/>',
        "cross": '<path d="M0 0L6 6M6 0L0 6" class="sg-pat"/>',
        "dots": '<circle cx="3" cy="3" r="1.2" class="sg-pat-dot"/>',
        "horizontal": '<path d="M0 3H6" class="sg-pat"/>',
    }
    defs = []
    for tone in sorted(tones):
        pattern = TONES[tone][0]
        if pattern in shapes:
            defs.append(
                f'<pattern id="{uid}-{tone}" width="6" height="6" patternUnits="userSpaceOnUse">'
                f'<rect width="6" height="6" class="sg-fill-{tone}"/>{shapes[pattern]}</pattern>'
            )
    return f"<defs>{''.join(defs)}</defs>" if defs else ""


def _fills(uid: str) -> dict[str, str]:
    """The fill attribute of a mark per tone: its colour, or its pattern (which carries the colour)."""
    return {
        tone: f'class="sg-fill-{tone}"' if pattern == "solid" else f'fill="url(#{uid}-{tone})"'
        for tone, (pattern, _) in TONES.items()
    }


def _swatch(fill: str, x: float, y: float, w: float, h: float) -> str:
    """A legend's filled rectangle in a tone (`fill`, from `_fills`)."""
    return f'<g class="sg-mark"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" {fill}/></g>'


def _marker(x: float, y: float, tone: str) -> str:
    shape = TONES[tone][1]
    cls = f'class="sg-marker sg-stroke-{tone} sg-fill-{tone}"'
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" {cls}/>'
    if shape == "triangle":
        return f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y + 4:.1f}H{x - 5:.1f}Z" {cls}/>'
    if shape == "cross":
        return f'<path d="M{x - 4:.1f} {y - 4:.1f}L{x + 4:.1f} {y + 4:.1f}M{x + 4:.1f} {y - 4:.1f}L{x - 4:.1f} {y + 4:.1f}" {cls}/>'
    if shape == "diamond":
        return f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y:.1f}L{x:.1f} {y + 5:.1f}L{x - 5:.1f} {y:.1f}Z" {cls}/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" {cls}/>'


def _legend(svg: _Svg, y: float, entries: list[tuple[str, str, bool]], line: bool = False) -> None:
    x = 8.0
    fills = _fills(svg.uid)
    for label, tone, dashed in entries:
        if line:
            dash = ' stroke-dasharray="6 4"' if dashed else ""
            svg.add(f'<path d="M{x:.1f} {y + 6:.1f}h22" class="sg-line sg-stroke-{tone}"{dash}/>')
            svg.add(_marker(x + 11, y + 6, tone))
        else:
            svg.add(_swatch(fills[tone], x, y, 14, 12))
        text = _clip(label, 40)
        svg.add(f'<text x="{x + 28:.1f}" y="{y + 10:.1f}" class="sg-legend">{escape(text)}</text>')
        x += 40 + 7.2 * len(text)
        if x > WIDTH - 120:
            x, y = 8.0, y + 18
    svg.height = max(svg.height, int(y + 22))


def bar_chart(*, title: str, rows: list[BarRow], unit: str, label_width: int = 190) -> SafeString:
    """Horizontal bars, one per row, stacked when a row has several segments; total (or note) at the end."""
    row_h, top = 28, 8
    legend_entries = list(
        {
            (s.label, s.tone): (s.label, s.tone, False) for row in rows for s in row.segments if len(row.segments) > 1
        }.values()
    )
    svg = _Svg(title, top + row_h * max(len(rows), 1) + 8)
    fills = _fills(svg.uid)
    tones = {s.tone for row in rows for s in row.segments}
    totals = [row.total for row in rows]
    total_texts = [_fmt(total) for total in totals]
    scale_max = max(totals, default=0) or 1
    # Room after the longest bar for its end label, so "154 (58.8 %)" is never cut off.
    end_room = 12 + 7.6 * max((len(row.note or text) for row, text in zip(rows, total_texts, strict=True)), default=4)
    bar_w = WIDTH - label_width - end_room
    width_per_unit = bar_w / scale_max
    if not rows:
        svg.add(f'<text x="8" y="{top + 18}" class="sg-label">No data yet</text>')
    # The handover chart has a row per area: each label is escaped once, each segment label once per chart.
    add = svg.parts.append
    unit = escape(unit)
    segment_labels = {label: escape(label) for label in {s.label for row in rows for s in row.segments}}
    label_x, clip_at, bar_h = label_width - 8, label_width // 8, row_h - 10
    labels = [escape(row.label) for row in rows]
    ends = [escape(row.note or text) for row, text in zip(rows, total_texts, strict=True)]
    for i, (row, total, total_text, label, end_text) in enumerate(
        zip(rows, totals, total_texts, labels, ends, strict=True)
    ):
        y = top + i * row_h
        text_y, bar_y = y + 18, y + 5
        clipped = label if len(row.label) <= clip_at else escape(_clip(row.label, clip_at))
        add(
            f'<text x="{label_x}" y="{text_y}" text-anchor="end" class="sg-label">'
            f"<title>{label}</title>{clipped}</text>"
        )
        stacked = len(row.segments) > 1
        # Whole units: each segment ends where the running total ends, rounded, so stacked segments meet
        # without a gap and the bar ends where its total does. A segment is drawn at least 2 units wide, so the
        # smallest value stays visible (over the start of the next one, if any).
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
            add(
                f'<g class="sg-mark"><title>{label} &mdash; {segment_labels[segment_label]}: {value_text} {unit}{share}</title>'
                f'<rect x="{x}" y="{bar_y}" width="{w}" height="{bar_h}" {fills[tone]}/></g>'
            )
            if stacked and w > 34:
                pill = 8 + 7 * len(value_text)
                add(
                    f'<rect x="{x + w // 2 - pill // 2}" y="{bar_y + 2}" width="{pill}" height="{bar_h - 4}" rx="3" '
                    f'class="sg-inbar-bg"/>'
                    f'<text x="{x + w // 2}" y="{text_y}" text-anchor="middle" class="sg-inbar">{value_text}</text>'
                )
            x = end
        add(f'<text x="{max(x, label_width + 2) + 6}" y="{text_y}" class="sg-value">{end_text}</text>')
    if legend_entries:
        _legend(svg, svg.height, legend_entries)
    return svg.render(tones)


def line_chart(
    *, title: str, x_labels: list[str], series: list[LineSeries], unit: str, y_max: float | None = None
) -> SafeString:
    """Lines over a category axis (days, months); each point has a marker and a tooltip; y starts at zero."""
    left, right, top, bottom = 64, 24, 14, 196
    svg = _Svg(title, bottom + 30)
    tones = {s.tone for s in series}
    values = [v for s in series for v in s.values if v is not None]
    top_value = y_max if y_max is not None else max(values, default=0)
    top_value = _nice_ceiling(top_value or 1)
    n = len(x_labels)
    if n == 0 or not values:
        svg.add(f'<text x="{left}" y="{top + 40}" class="sg-label">No data yet</text>')
        return svg.render(tones)

    def px(i: int) -> float:
        return left + (WIDTH - left - right) * (i / (n - 1) if n > 1 else 0.5)

    def py(v: float) -> float:
        return bottom - (bottom - top) * v / top_value

    for k in range(5):
        v = top_value * k / 4
        svg.add(f'<path d="M{left} {py(v):.1f}H{WIDTH - right}" class="sg-grid"/>')
        svg.add(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" class="sg-axis">{_fmt(v)}</text>')
    step = max(1, (n + 7) // 8)
    for i, label in enumerate(x_labels):
        if i % step == 0 or i == n - 1:
            svg.add(
                f'<text x="{px(i):.1f}" y="{bottom + 18}" text-anchor="middle" class="sg-axis">{escape(label)}</text>'
            )
    for s in series:
        points = [(px(i), py(v), v, x_labels[i]) for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            d = "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y, _, _ in points)
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            svg.add(f'<path d="{d}" class="sg-line sg-stroke-{s.tone}"{dash}/>')
        for x, y, v, label in points:
            svg.add(f'<g class="sg-mark"><title>{escape(f"{s.label}, {label}: {_fmt(v)} {unit}")}</title>')
            svg.add(_marker(x, y, s.tone) + "</g>")
        if points:
            x, y, v, _ = points[-1]
            anchor = "end" if x > WIDTH - 80 else "start"
            dx = -8 if anchor == "end" else 8
            svg.add(f'<text x="{x + dx:.1f}" y="{y - 8:.1f}" text-anchor="{anchor}" class="sg-value">{_fmt(v)}</text>')
    _legend(svg, bottom + 30, [(s.label, s.tone, s.dashed) for s in series], line=True)
    return svg.render(tones)


def _nice_ceiling(value: float) -> float:
    """The next 'round' number at or above value, so grid lines read 0/25/50/75/100 rather than 0/23.4/..."""
    magnitude = 10 ** (len(str(int(value))) - 1)
    for factor in (1, 2, 2.5, 4, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude
