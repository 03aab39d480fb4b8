import re

from django.template import engines
from django.utils import translation

from sopgate.dashboard.charts import BarRow, LineSeries, Segment, bar_chart, line_chart

PAGE = engines["django"].from_string("{% load sopgate_charts %}{% chart chart %}")


def draw(chart) -> str:
    """The chart as a page draws it: `{% chart %}`, with templates/charts/."""
    return PAGE.render({"chart": chart})


def test_bar_chart_labels_every_bar_and_explains_it_in_a_tooltip():
    svg = draw(
        bar_chart(
            title="Parts by PPAP status",
            rows=[
                BarRow("Approved", [Segment("Approved", 154, "good")], "154 (58.8 %)"),
                BarRow("Rejected", [Segment("Rejected", 1, "bad")], "1 (0.4 %)"),
            ],
            unit="parts",
        )
    )
    assert svg.startswith('<svg class="sg-chart"') and 'role="img"' in svg
    title_id = re.search(r'aria-labelledby="([^"]+)"', svg)[1]
    assert f'<title id="{title_id}">Parts by PPAP status</title>' in svg
    assert "<title>Approved &mdash; Approved: 154 parts</title>" in svg
    assert ">154 (58.8 %)</text>" in svg and ">Rejected</text>" in svg
    # Rejected bars carry a cross-hatch pattern as well as a colour; the solid approved bar needs no pattern.
    pattern_id = re.search(r'<rect [^>]*fill="url\(#([^)]+)\)"', svg)[1]
    assert f'<pattern id="{pattern_id}"' in svg and pattern_id.endswith("-bad")
    assert svg.count("<pattern ") == 1
    assert not re.search(r"\sstyle=|<script", svg)  # the page's Content-Security-Policy allows neither


def test_two_charts_on_a_page_have_ids_of_their_own():
    rows = [BarRow("Rejected", [Segment("Rejected", 1, "bad")])]
    first, second = (draw(bar_chart(title="t", rows=rows, unit="parts")) for _ in range(2))
    ids = [re.findall(r' id="([^"]+)"', svg) for svg in (first, second)]
    assert ids[0] and not set(ids[0]) & set(ids[1])


def test_stacked_bars_have_a_legend_and_shares():
    svg = draw(
        bar_chart(
            title="Handover",
            rows=[BarRow("Battery pack", [Segment("Done", 4, "good"), Segment("Overdue", 2, "bad")])],
            unit="items",
        )
    )
    assert "Battery pack &mdash; Overdue: 2 items (33 % of 6)" in svg
    assert 'class="sg-legend">Done</text>' in svg and 'class="sg-legend">Overdue</text>' in svg


def test_text_is_escaped():
    svg = draw(bar_chart(title="<b>x</b>", rows=[BarRow("<script>", [Segment("a&b", 1)])], unit="<u>"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    assert "a&amp;b: 1 &lt;u&gt;" in svg and "<u>" not in svg


def test_long_labels_are_clipped_and_keep_their_full_text_as_a_tooltip():
    label = "Body in white and closures, Shanghai plant"
    chart = bar_chart(title="t", rows=[BarRow(label, [Segment("Done", 1, "good")])], unit="items", label_width=130)
    assert chart.rows[0].short_label == "Body in white a…"  # 130 // 8 characters
    assert f"<title>{label}</title>Body in white a…</text>" in draw(chart)


def test_line_chart_marks_each_point_and_handles_gaps_and_no_data():
    svg = draw(
        line_chart(
            title="Capacity",
            x_labels=["Feb 27", "Mar 27", "Apr 27"],
            series=[
                LineSeries("Demand, vehicles/week", [500, 904, 1400], "info"),
                LineSeries("Bottleneck", [None, 1800, 1800], "warn", dashed=True),
            ],
            unit="vehicles/week",
        )
    )
    assert "<title>Demand, vehicles/week, Mar 27: 904 vehicles/week</title>" in svg
    assert "Bottleneck, Feb 27" not in svg and "<title>Bottleneck, Apr 27: 1,800 vehicles/week</title>" in svg
    assert 'stroke-dasharray="6 4"' in svg
    # Each series has a marker shape of its own: squares for "info", triangles for "warn" (3 + 2 points, 2 keys).
    assert svg.count('<rect x="-4" y="-4" width="8" height="8"') == 4
    assert svg.count('<path d="M0 -5L5 4H-5Z"') == 3
    empty = draw(line_chart(title="Trend", x_labels=[], series=[LineSeries("Readiness %", [])], unit="%"))
    assert "No data yet" in empty and "sg-legend" not in empty


def test_line_chart_scales_to_a_round_top_and_places_points_on_it():
    chart = line_chart(title="t", x_labels=["a", "b", "c"], series=[LineSeries("s", [0, 45, 90], "good")], unit="%")
    assert [g.label.text for g in chart.grid] == ["0", "25", "50", "75", "100"]
    assert [(p.x, p.y) for p in chart.lines[0].points] == [(64.0, 196.0), (340.0, 114.1), (616.0, 32.2)]
    # The last value is written beside its point, on the side with room for it.
    assert chart.lines[0].end.text == "90" and chart.lines[0].end_anchor == "end"
    svg = draw(chart)
    assert '<path d="M64.0 196.0L340.0 114.1L616.0 32.2" class="sg-line sg-stroke-good"/>' in svg


def test_coordinates_keep_their_decimal_point_in_a_language_with_a_decimal_comma():
    chart = line_chart(title="t", x_labels=["a", "b", "c"], series=[LineSeries("s", [0, 45, 90], "good")], unit="%")
    with translation.override("de"):
        svg = draw(chart)
    assert 'cy="114.1"' in svg and "114,1" not in svg


def test_bars_end_where_their_totals_do_and_leave_room_for_the_label_after_them():
    # The longest bar ends in six values too small to see, each drawn 2 units wide: the bar must still end where
    # its total does, and the total written after it must stay inside the chart.
    tiny = [Segment(f"Tiny {n}", 1, "bad") for n in range(6)]
    svg = draw(
        bar_chart(
            title="Geometry",
            rows=[BarRow("Big", [Segment("Most", 5000, "good"), *tiny]), BarRow("Small", [Segment("One", 1, "good")])],
            unit="parts",
        )
    )
    bars = [(int(x), int(w)) for x, w in re.findall(r'<rect x="(\d+)" y="\d+" width="(\d+)" height="18"', svg)]
    assert len(bars) == 8 and all(w >= 2 for _, w in bars)
    assert bars[0][0] == 190  # the default label width: bars start right after the labels
    totals = [(int(x), text) for x, text in re.findall(r'<text x="(\d+)" y="\d+" class="sg-value">([^<]+)</text>', svg)]
    assert [text for _, text in totals] == ["5,006", "1"]
    end_room = 12 + 7.6 * len("5,006")  # what the chart keeps free for the longest end label
    assert max(x + w for x, w in bars[:7]) <= 640 - end_room + 2
    assert all(x + 7.6 * len(text) <= 640 for x, text in totals)
    assert bars[7] == (190, 2)  # the smallest bar is still drawn


def test_numbers_inside_stacked_bars_sit_on_a_label_of_their_own():
    svg = draw(
        bar_chart(title="t", rows=[BarRow("Jul", [Segment("a", 40, "good"), Segment("b", 60, "warn")])], unit="parts")
    )
    assert svg.count('class="sg-inbar-bg"') == 2  # a white label under each number, on the hatched one too
    assert svg.index('class="sg-inbar-bg"') < svg.index('class="sg-inbar"')


def test_a_legend_wraps_before_the_right_edge_and_the_chart_grows_to_hold_it():
    tones = ["good", "bad", "warn", "info"]
    segments = [Segment(f"A status with a long name {n}", 1, tone) for n, tone in enumerate(tones)]
    chart = bar_chart(title="t", rows=[BarRow("Row", segments)], unit="items")
    assert [(entry.x, entry.y) for entry in chart.legend] == [(8.0, 44), (242.4, 44), (476.8, 44), (8.0, 62)]
    assert chart.height == 62 + 22
