"""The ramp's week charts: the layout's numbers (sopgate.dashboard.week_charts) and their markup
(templates/charts/weeks.html)."""

from datetime import date, timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from sopgate.dashboard.week_charts import (
    BOTTOM,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    PartWeek,
    nice_step,
    part_ramp_chart,
    program_ramp_chart,
)

MONDAY = date(2027, 3, 1)  # 2027-W09


def _weeks(planned, achievable):
    return [
        {
            "week": f"2027-W{9 + n:02d}",
            "starts_on": MONDAY + timedelta(weeks=n),
            "planned_vehicles": p,
            "achievable_vehicles": a,
            "bottleneck": [{"part": 7, "part_number": "BM-1", "revision": "A", "capacity": 4, "demand": 5}]
            if a
            else [],
        }
        for n, (p, a) in enumerate(zip(planned, achievable, strict=True))
    ]


@pytest.mark.parametrize(
    ("top", "step"), [(0, 1), (3, 1), (10, 5), (40, 10), (100, 25), (2250, 1000), (1800, 500), (10001, 5000)]
)
def test_the_grid_steps_are_round_and_at_most_five(top, step):
    assert nice_step(top) == step
    assert -(-top // step) <= 4 or top == 0


def test_planned_against_achievable_tones_the_weeks_below_plan_and_calls_out_the_first():
    chart = program_ramp_chart("SU7", _weeks([500, 600, 700], [520, 450, None]))
    assert [bar.tone for bar in chart.bars] == ["good", "bad"]  # no bar where nothing is achievable
    assert chart.bars[1].title == "2027-W10: 450 vehicles achievable, 600 planned; bottleneck BM-1 A"
    assert chart.summary == "Below plan in 1 of 3 weeks, first in 2027-W10."
    assert chart.marker.label == "first below plan: 2027-W10"
    slot = (WIDTH - RIGHT - LEFT) / 3
    assert chart.marker.x == pytest.approx(LEFT + slot, abs=0.1) and chart.marker.width == pytest.approx(slot, abs=0.1)
    # Bars stand on the axis and scale with the grid: 520 of an 800 top (steps of 200).
    assert [tick.label for tick in chart.y_ticks] == ["0", "200", "400", "600", "800"]
    first = chart.bars[0]
    assert first.y + first.height == pytest.approx(BOTTOM, abs=0.2)
    assert first.height == pytest.approx((BOTTOM - TOP) * 520 / 800, abs=0.2)
    # The plan is a step line: flat across each week, then up or down to the next week's figure.
    assert chart.line_path.startswith(f"M{LEFT:.1f} ") and chart.line_path.count("V") == 2
    assert [point.title for point in chart.points][2] == "2027-W11: 700 vehicles planned"


def test_a_ramp_the_supply_base_supports_says_so_and_an_unconfirmed_one_too():
    assert program_ramp_chart("SU7", _weeks([500, 600], [600, 600])).summary == (
        "The supply base supports the plan in all 2 weeks."
    )
    unconfirmed = program_ramp_chart("SU7", _weeks([500], [None]))
    assert unconfirmed.bars == [] and "nothing is achievable" in unconfirmed.summary
    assert program_ramp_chart("SU7", []).summary == "No ramp plan yet."


def test_a_parts_bars_are_good_then_covered_by_stock_then_short():
    weeks = [PartWeek(MONDAY + timedelta(weeks=n), demand, capacity) for n, (demand, capacity) in enumerate(
        [(100, 150), (200, 150), (300, 150), (300, 150)])]  # fmt: skip
    chart = part_ramp_chart("BM-1 A", weeks, short_week=weeks[2].starts_on)
    assert [bar.tone for bar in chart.bars] == ["good", "warn", "bad", "bad"]
    assert chart.summary == "Short from 2027-W11: cumulative demand exceeds cumulative capacity."
    assert chart.bars[1].title == "2027-W10: capacity 150, demand 200"
    assert part_ramp_chart("BM-1 A", weeks[:1], short_week=None).summary == (
        "Capacity covers the demand in every week of the ramp."
    )


def test_the_markup_has_unlocalised_coordinates_and_escaped_text():
    """A German page must not write "12,5" into SVG coordinates; titles are escaped by the template."""
    weeks = _weeks([1500, 2500], [1234, 2500])
    weeks[0]["bottleneck"][0]["part_number"] = "<BM>&1"
    with translation.override("de"):
        chart = program_ramp_chart("SU7", weeks)
        html = render_to_string("charts/weeks.html", {"chart": chart})
    bar = chart.bars[0]
    assert f'<rect x="{bar.x}" y="{bar.y}" width="{bar.width}" height="{bar.height}"' in html
    assert "," not in html.split('<path d="', 2)[2].split('"')[0]  # the plan's line
    assert "&lt;BM&gt;&amp;1 A" in html and "<BM>" not in html
    assert "1.234 Fahrzeuge erreichbar, 1.500 geplant" in html  # labels in the reader's language and format
    assert html.count("<title") == 1 + len(chart.bars) + len(chart.points)
    assert 'role="img"' in html and f'aria-labelledby="{chart.uid}-t {chart.uid}-s"' in html
    assert "style=" not in html and "<script" not in html
