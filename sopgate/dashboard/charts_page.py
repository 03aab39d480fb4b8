"""Turns the dashboard selectors' numbers into the program page's charts, each with the table it is drawn from."""

from datetime import date
from itertools import islice

from parts.choices import PPAPStatus
from validation.choices import TEST_DONE, TestStatus

from ..gate.coverage import program_ramp
from ..models import Program
from . import selectors
from .charts import BarRow, LineSeries, Segment, bar_chart, line_chart
from .week_charts import program_ramp_chart

PPAP_TONES = {
    PPAPStatus.APPROVED: "good",
    PPAPStatus.INTERIM_APPROVED: "warn",
    PPAPStatus.SUBMITTED: "info",
    PPAPStatus.NOT_SUBMITTED: "neutral",
    PPAPStatus.REJECTED: "bad",
}
TEST_TONES = {
    TestStatus.PASSED: "good",
    TestStatus.WAIVED: "muted",
    TestStatus.IN_PROGRESS: "info",
    TestStatus.PLANNED: "neutral",
    TestStatus.FAILED: "bad",
}
SUPPLIERS_IN_CHART = 12
BOTTLENECK_SHOWN = 3  # bottleneck parts named per week; the rest are counted
ITEM_CHARTS = {"parts": "ppap", "tests": "tests", "handover_items": "handover"}  # item kind -> chart counting it


def program_charts(program: Program, *, today: date) -> dict:
    """Every chart of the program page plus its data, in a fixed number of queries (see the selectors).

    "items" are the readiness item counts (`Readiness.counts["items"]`), summed from the PPAP, test and handover
    datasets, so the page need not count the same rows again."""
    charts = {
        "trend": _trend(program),
        "ppap": _ppap(program),
        "ramp": _ramp(program),
        "tests": _tests(program),
        "handover": _handover(program, today),
        "suppliers": _suppliers(program, today),
    }
    charts["items"] = {name: charts[chart].pop("items") for name, chart in ITEM_CHARTS.items()}
    return charts


def _trend(program: Program) -> dict:
    snapshots = selectors.readiness_trend(program)
    chart = line_chart(
        title=f"Readiness of {program.code} over time, percent of items done",
        x_labels=[f"{s.date:%d %b}" for s in snapshots],
        series=[LineSeries("Readiness %", [float(s.readiness_pct) for s in snapshots], "good")],
        unit="%",
        y_max=100,
    )
    return {"chart": chart, "rows": snapshots}


def _ppap(program: Program) -> dict:
    part_counts = selectors.part_counts(program)
    counts, total = part_counts.by_ppap_status, part_counts.total
    rows = [
        {
            "status": PPAPStatus(value),
            "count": n,
            "pct": selectors.readiness_percent(n, total) if total else 0,
        }
        for value, n in counts.items()
    ]
    chart = bar_chart(
        title=f"Parts of {program.code} by PPAP status",
        rows=[
            BarRow(
                r["status"].label,
                [Segment(r["status"].label, r["count"], PPAP_TONES[r["status"]])],
                f"{r['count']:,} ({r['pct']} %)",
            )
            for r in rows
        ],
        unit="parts",
    )
    return {
        "chart": chart,
        "rows": rows,
        "total": total,
        "items": {"total": total, "done": part_counts.done},
    }


def _ramp(program: Program) -> dict:
    """The ramp week by week (`sopgate.gate.coverage`, four queries): the planned against achievable chart, a row
    per week with its gap, first bottleneck parts and closed dates, and how many parts the gate finds short."""
    ramp = program_ramp(program)
    coverage = ramp.coverage()
    rows = [
        {
            **week,
            "bottleneck": week["bottleneck"][:BOTTLENECK_SHOWN],
            "more": max(0, len(week["bottleneck"]) - BOTTLENECK_SHOWN),
        }
        for week in coverage
    ]
    sourced = [part for part in ramp.parts.values() if part.supplier_id]
    return {
        "chart": program_ramp_chart(program.code, coverage),
        "rows": rows,
        "short": sum(1 for part in ramp.parts.values() if part.short is not None),
        "unconfirmed": sum(1 for part in sourced if part.capacities is None),
        "counted": sum(1 for part in sourced if part.capacities is not None),
    }


def _tests(program: Program) -> dict:
    phases = selectors.tests_by_phase_and_status(program)
    statuses = list(TestStatus)
    chart = bar_chart(
        title=f"Required validation tests of {program.code} by phase and status",
        rows=[
            BarRow(p.label, [Segment(s.label, p.by_status[s.value], TEST_TONES[s]) for s in statuses]) for p in phases
        ],
        unit="tests",
        label_width=170,
    )
    items = {"total": sum(p.total for p in phases), "done": sum(p.by_status[s] for p in phases for s in TEST_DONE)}
    return {
        "chart": chart,
        "statuses": statuses,
        # Per phase: its label, its tests per status (in the order of `statuses`) and their total.
        "rows": [(p.label, [p.by_status[s.value] for s in statuses], p.total) for p in phases],
        "items": items,
    }


def _handover(program: Program, today: date) -> dict:
    areas = selectors.handover_progress(program, today=today)
    chart = bar_chart(
        title=f"Required handover items of {program.code} per area",
        rows=[
            BarRow(
                a.area,
                [
                    Segment("Done", a.done_items, "good"),
                    Segment("Open", a.open_items - a.overdue_items, "neutral"),
                    Segment("Overdue", a.overdue_items, "bad"),
                ],
                f"{a.done_pct} % done",
            )
            for a in areas
        ],
        unit="items",
    )
    items = {"total": sum(a.required_items for a in areas), "done": sum(a.done_items for a in areas)}
    return {"chart": chart, "rows": areas, "items": items}


def _suppliers(program: Program, today: date) -> dict:
    scores = selectors.supplier_scorecard(program, today=today)
    clean = 0
    for score in reversed(scores):  # the suppliers without issues come last
        if score.has_issues:
            break
        clean += 1
    with_issues = scores[: len(scores) - clean]
    charted = list(islice((s for s in with_issues if s.late or s.promises_broken or s.stale), SUPPLIERS_IN_CHART))
    chart = bar_chart(
        title=f"Suppliers of {program.code} with late parts, broken promises or stale updates",
        rows=[
            BarRow(
                s.code,
                [
                    Segment("Late parts", s.late, "bad"),
                    Segment("Promises broken", s.promises_broken, "warn"),
                    Segment("Stale updates", s.stale, "neutral"),
                ],
            )
            for s in charted
        ],
        unit="parts",
        label_width=130,
    )
    return {
        "chart": chart,
        "rows": with_issues,
        "clean": clean,
        "suppliers": len(scores),
        "in_chart": len(charted),
    }
