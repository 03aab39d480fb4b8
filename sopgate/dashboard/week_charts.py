"""The ramp's week charts as numbers: a bar per ISO week against a line, laid out for
templates/charts/weeks.html (the markup lives there, STYLE §14).

Two charts use it: the program page's "planned vs achievable" (bars: the vehicles the supply base can make each
week; line: the vehicles planned) and a part's "demand vs capacity" (bars: what its supplier can make each week;
line: what the plant needs), on the admin's part page and the suppliers' portal. A bar's tone says how the week
stands, and its pattern says it again for greyscale prints and colour-blind eyes; every bar and point carries a
tooltip with its numbers.
"""

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sopgate.ramp import week_label

WIDTH, HEIGHT = 720, 276
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 16, 236  # the plot area; the week labels and the call-out go below
MAX_X_LABELS = 9
_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    tone: str  # good / warn / bad: the fill class and pattern in weeks.html
    title: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Tick:
    at: float  # y of a grid line, or x of a week label
    label: str


@dataclass(frozen=True)
class Marker:
    """A week called out under the axis, e.g. the first week short."""

    x: float
    width: float
    label: str
    anchor: str  # start / end: which way its text runs from text_x

    @property
    def text_x(self) -> float:
        return self.x + self.width if self.anchor == "end" else self.x


@dataclass(frozen=True)
class LegendEntry:
    kind: str  # "bar" or "line"
    tone: str
    label: str


@dataclass(frozen=True)
class WeekChart:
    uid: str
    title: str
    summary: str  # one sentence read out with the title
    width: int
    height: int
    left: int
    right: int  # x where the plot ends
    top: int
    bottom: int
    plot_height: int
    bars: list[Bar]
    line_path: str  # an SVG path through the points, "" with fewer than two
    points: list[Point]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    marker: Marker | None
    legend: list[LegendEntry]

    @property
    def tones(self) -> list[str]:
        return sorted({bar.tone for bar in self.bars} | {entry.tone for entry in self.legend if entry.kind == "bar"})


def nice_step(top: float) -> int:
    """A round grid step (1, 2, 2.5 or 5 times a power of ten, at least 1) giving at most five lines up to `top`, so
    the grid reads 0/500/1,000/1,500/2,000 rather than 0/437/874/…"""
    wanted = max(top, 1) / 4
    magnitude = 10 ** (len(str(int(wanted))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if wanted <= step and step == int(step):  # no 2.5 below ten
            return int(step)
    return 10 * magnitude


def week_chart(
    *,
    title: str,
    summary: str,
    weeks: Sequence[date],
    bars: Sequence[int | None],
    line: Sequence[int],
    tone: Callable[[int], str],
    bar_title: Callable[[int], str],
    line_title: Callable[[int], str],
    legend: list[LegendEntry],
    marker: tuple[int, str] | None = None,
) -> WeekChart:
    """Lay out one bar (None: no bar) and one line point per week (Mondays). `tone(n)`, `bar_title(n)` and
    `line_title(n)` describe week n; `marker` calls out one week with a label."""
    n = len(weeks)
    highest = max([v for v in bars if v is not None] + list(line), default=0)
    step = nice_step(highest)
    top_value = step * max(1, -(-highest // step))
    plot_w, plot_h = WIDTH - RIGHT - LEFT, BOTTOM - TOP
    slot = plot_w / max(n, 1)
    bar_w = max(slot * 0.72, 1.0)

    def y(value: float) -> float:
        return round(BOTTOM - plot_h * value / top_value, 1)

    def centre(i: int) -> float:
        return round(LEFT + slot * (i + 0.5), 1)

    chart_bars = [
        Bar(
            round(centre(i) - bar_w / 2, 1),
            y(value),
            round(bar_w, 1),
            round(BOTTOM - y(value), 1),
            tone(i),
            bar_title(i),
        )
        for i, value in enumerate(bars)
        if value is not None
    ]
    points = [Point(centre(i), y(value), line_title(i)) for i, value in enumerate(line)]
    path = ""
    if len(points) > 1:  # a step line: the plan holds all week, then moves to the next week's figure
        half = slot / 2
        path = f"M{points[0].x - half:.1f} {points[0].y:.1f}" + "".join(
            f"H{p.x + half:.1f}" + (f"V{points[i + 1].y:.1f}" if i + 1 < len(points) else "")
            for i, p in enumerate(points)
        )
    every = max(1, -(-n // MAX_X_LABELS))
    x_ticks = [Tick(centre(i), _week_tick(weeks[i], first=i == 0)) for i in range(0, n, every)]
    y_ticks = [
        Tick(y(top_value * k / 4), number_format(round(top_value * k / 4), force_grouping=True)) for k in range(5)
    ]
    called = None
    if marker is not None:
        i, label = marker
        anchor = "end" if centre(i) > LEFT + plot_w * 0.6 else "start"
        called = Marker(round(centre(i) - slot / 2, 1), round(slot, 1), label, anchor)
    return WeekChart(
        uid=f"wc{next(_ids)}",
        title=title,
        summary=summary,
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=BOTTOM,
        plot_height=BOTTOM - TOP,
        bars=chart_bars,
        line_path=path,
        points=points,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        marker=called,
        legend=legend,
    )


def _week_tick(monday: date, *, first: bool) -> str:
    """ "W09" under the axis; the first label and every week 1 carry the year: "2027-W09"."""
    label = week_label(monday)
    return label if first or label.endswith("W01") else label[5:]


def count(value: int) -> str:
    return number_format(value, force_grouping=True)


def program_ramp_chart(program_code: str, weeks: list[dict]) -> WeekChart:
    """Planned against achievable vehicles per week (the rows of `ProgramRamp.coverage()`)."""

    def below(i: int) -> bool:
        achievable = weeks[i]["achievable_vehicles"]
        return achievable is not None and achievable < weeks[i]["planned_vehicles"]

    def bar_title(i: int) -> str:
        week = weeks[i]
        text = _("%(week)s: %(achievable)s vehicles achievable, %(planned)s planned") % {
            "week": week["week"],
            "achievable": count(week["achievable_vehicles"]),
            "planned": count(week["planned_vehicles"]),
        }
        if week["bottleneck"]:
            parts = ", ".join(f"{b['part_number']} {b['revision']}" for b in week["bottleneck"][:3])
            more = len(week["bottleneck"]) - 3
            text += _("; bottleneck %(parts)s") % {"parts": parts} + (f" (+{more})" if more > 0 else "")
        return text

    short = [i for i in range(len(weeks)) if below(i)]
    if not weeks:
        summary = _("No ramp plan yet.")
    elif not any(week["achievable_vehicles"] is not None for week in weeks):
        summary = _("No sourced part has a confirmed capacity yet, so nothing is achievable.")
    elif short:
        summary = _("Below plan in %(short)s of %(weeks)s weeks, first in %(first)s.") % {
            "short": len(short),
            "weeks": len(weeks),
            "first": weeks[short[0]]["week"],
        }
    else:
        summary = _("The supply base supports the plan in all %(weeks)s weeks.") % {"weeks": len(weeks)}
    return week_chart(
        title=_("%(program)s: planned against achievable vehicles per week") % {"program": program_code},
        summary=summary,
        weeks=[week["starts_on"] for week in weeks],
        bars=[week["achievable_vehicles"] for week in weeks],
        line=[week["planned_vehicles"] for week in weeks],
        tone=lambda i: "bad" if below(i) else "good",
        bar_title=bar_title,
        line_title=lambda i: (
            _("%(week)s: %(planned)s vehicles planned")
            % {"week": weeks[i]["week"], "planned": count(weeks[i]["planned_vehicles"])}
        ),
        legend=[
            LegendEntry("bar", "good", _("Achievable, vehicles per week")),
            LegendEntry("bar", "bad", _("Achievable, below plan")),
            LegendEntry("line", "plan", _("Planned, vehicles per week")),
        ],
        marker=(short[0], _("first below plan: %(week)s") % {"week": weeks[short[0]]["week"]}) if short else None,
    )


@dataclass(frozen=True)
class PartWeek:
    """One week of a part's ramp: what the plant needs and what the supplier can make (None: not confirmed)."""

    starts_on: date
    demand: int
    capacity: int | None

    @property
    def week(self) -> str:
        return week_label(self.starts_on)


def part_ramp_chart(part_label: str, weeks: list[PartWeek], short_week: date | None) -> WeekChart:
    """A part's weekly demand against its capacity. A bar is good while the cumulative capacity covers the
    cumulative demand and the week's capacity its demand, warn in a week short on its own but covered by what was
    built ahead, bad from the first week the gate calls short (`capacity_shortfall`)."""
    short_at = next((i for i, week in enumerate(weeks) if week.starts_on == short_week), None)

    def tone(i: int) -> str:
        if short_at is not None and i >= short_at:
            return "bad"
        return "warn" if (weeks[i].capacity or 0) < weeks[i].demand else "good"

    if not weeks:
        summary = _("No ramp plan yet.")
    elif all(week.capacity is None for week in weeks):
        summary = _("No capacity confirmed yet.")
    elif short_at is not None:
        summary = _("Short from %(week)s: cumulative demand exceeds cumulative capacity.") % {
            "week": weeks[short_at].week
        }
    else:
        summary = _("Capacity covers the demand in every week of the ramp.")
    return week_chart(
        title=_("%(part)s: weekly demand against capacity") % {"part": part_label},
        summary=summary,
        weeks=[week.starts_on for week in weeks],
        bars=[week.capacity for week in weeks],
        line=[week.demand for week in weeks],
        tone=tone,
        bar_title=lambda i: (
            _("%(week)s: capacity %(capacity)s, demand %(demand)s")
            % {"week": weeks[i].week, "capacity": count(weeks[i].capacity or 0), "demand": count(weeks[i].demand)}
        ),
        line_title=lambda i: (
            _("%(week)s: demand %(demand)s") % {"week": weeks[i].week, "demand": count(weeks[i].demand)}
        ),
        legend=[
            LegendEntry("bar", "good", _("Capacity per week")),
            LegendEntry("bar", "warn", _("Below the week's demand, covered by stock")),
            LegendEntry("bar", "bad", _("Short")),
            LegendEntry("line", "plan", _("Demand per week")),
        ],
        marker=(short_at, _("short from %(week)s") % {"week": weeks[short_at].week}) if short_at is not None else None,
    )
