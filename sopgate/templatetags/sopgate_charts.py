"""`{% chart %}`: draws a chart of `sopgate.dashboard.charts` (a `BarChart` or a `LineChart`, geometry only) with
templates/charts/chart.html, which picks the bar or line template by the chart's kind. A page writes
`{% chart charts.ppap.chart %}` whatever the chart's kind; the chart renders in a context of its own."""

from django import template

register = template.Library()


@register.inclusion_tag("charts/chart.html")
def chart(chart):
    return {"chart": chart}
