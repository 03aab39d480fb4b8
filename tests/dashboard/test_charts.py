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
