import re

from sopgate.dashboard.charts import BarRow, LineSeries, Segment, bar_chart, line_chart


def test_bar_chart_labels_every_bar_and_explains_it_in_a_tooltip():
    svg = bar_chart(
        title="Parts by PPAP status",
        rows=[
            BarRow("Approved", [Segment("Approved", 154, "good")], "154 (58.8 %)"),
            BarRow("Rejected", [Segment("Rejected", 1, "bad")], "1 (0.4 %)"),
        ],
        unit="parts",
    )
    assert svg.startswith('<svg class="sg-chart"') and 'role="img"' in svg
    assert "<title>Approved &mdash; Approved: 154 parts</title>" in svg
    assert ">154 (58.8 %)</text>" in svg and ">Rejected</text>" in svg
    # Rejected bars carry a cross-hatch pattern as well as a colour.
    assert 'fill="url(#' in svg and "<pattern" in svg


def test_stacked_bars_have_a_legend_and_shares():
    svg = bar_chart(
        title="Handover",
        rows=[BarRow("Battery pack", [Segment("Done", 4, "good"), Segment("Overdue", 2, "bad")])],
        unit="items",
    )
    assert "Battery pack &mdash; Overdue: 2 items (33 % of 6)" in svg
    assert 'class="sg-legend">Done</text>' in svg and 'class="sg-legend">Overdue</text>' in svg


def test_text_is_escaped():
    svg = bar_chart(title="<b>x</b>", rows=[BarRow("<script>", [Segment("a&b", 1)])], unit="parts")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg


def test_line_chart_marks_each_point_and_handles_gaps_and_no_data():
    svg = line_chart(
        title="Capacity",
        x_labels=["Feb 27", "Mar 27", "Apr 27"],
        series=[
            LineSeries("Demand, vehicles/week", [500, 904, 1400], "info"),
            LineSeries("Bottleneck", [None, 1800, 1800], "warn", dashed=True),
        ],
        unit="vehicles/week",
    )
    assert "<title>Demand, vehicles/week, Mar 27: 904 vehicles/week</title>" in svg
    assert "Bottleneck, Feb 27" not in svg and "<title>Bottleneck, Apr 27: 1,800 vehicles/week</title>" in svg
    assert 'stroke-dasharray="6 4"' in svg
    empty = line_chart(title="Trend", x_labels=[], series=[LineSeries("Readiness %", [])], unit="%")
    assert "No data yet" in empty


def test_bars_end_where_their_totals_do_and_leave_room_for_the_label_after_them():
    # The longest bar ends in six values too small to see, each drawn 2 units wide: the bar must still end where
    # its total does, and the total written after it must stay inside the chart.
    tiny = [Segment(f"Tiny {n}", 1, "bad") for n in range(6)]
    svg = bar_chart(
        title="Geometry",
        rows=[BarRow("Big", [Segment("Most", 5000, "good"), *tiny]), BarRow("Small", [Segment("One", 1, "good")])],
        unit="parts",
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
    from sopgate.dashboard.charts import BarRow, Segment, bar_chart

    svg = str(
        bar_chart(title="t", rows=[BarRow("Jul", [Segment("a", 40, "good"), Segment("b", 60, "warn")])], unit="parts")
    )
    assert svg.count('class="sg-inbar-bg"') == 2  # a white label under each number, on the hatched one too
    assert svg.index('class="sg-inbar-bg"') < svg.index('class="sg-inbar"')
