"""The "what the gate thinks" panel of an admin change page: the object's effective dates, its open and resolved
blockers and, for a part, its supplier-update history, rendered by templates/admin/gate_panel.html; and a part's
ramp week by week (templates/admin/ramp_panel.html)."""

from django.template.loader import render_to_string

from .admin_badges import badge, person
from .choices import Rule, Severity
from .dashboard.week_charts import PartWeek, part_ramp_chart
from .gate.coverage import program_ramp
from .selectors import blockers_about

RESOLVED_SHOWN = 10


def gate_panel(object_type: str, object_id: int | None, *, dates=(), updates=None, updates_total=0, updates_url=""):
    if object_id is None:
        return "Shown once saved."
    open_rows, resolved = [], []
    for blocker in blockers_about(object_type, object_id):
        blocker.rule_label = Rule(blocker.rule).label if blocker.rule in Rule.values else blocker.rule
        blocker.badge = badge(
            Severity(blocker.severity).label, "bad" if blocker.severity == Severity.BLOCKING else "warn"
        )
        blocker.owner_name = ", ".join(filter(None, (person(blocker.owner), person(blocker.co_owner))))
        (resolved if blocker.resolved_at else open_rows).append(blocker)
    context = {
        "dates": list(dates),
        "open_blockers": open_rows,
        "resolved_blockers": resolved[:RESOLVED_SHOWN],
        "resolved_more": len(resolved) > RESOLVED_SHOWN,
        "updates": updates,
        "updates_total": updates_total,
        "updates_url": updates_url,
    }
    return render_to_string("admin/gate_panel.html", context)


def ramp_panel(part) -> str:
    """A part's weekly demand against its capacity over its program's ramp, as the gate counts them (four
    queries), with the week table the chart is drawn from."""
    ramp = program_ramp(part.program, part_ids={part.pk})
    weeks = ramp.parts[part.pk]
    rows = [
        PartWeek(monday, weeks.demands[n], weeks.capacities[n] if weeks.capacities is not None else None)
        for n, monday in enumerate(ramp.weeks)
    ]
    short_week = weeks.short.week if weeks.short else None
    context = {
        "chart": part_ramp_chart(f"{part.part_number} {part.revision}", rows, short_week) if rows else None,
        "rows": rows,
        "short": weeks.short,
        "closed": weeks.closed,
        "calendar": weeks.calendar.code,
    }
    return render_to_string("admin/ramp_panel.html", context)
