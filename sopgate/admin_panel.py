"""The "what the gate thinks" panel of an admin change page: the object's effective dates, its open and resolved
blockers and, for a part, its supplier-update history, rendered by templates/admin/gate_panel.html."""

from django.template.loader import render_to_string

from .admin_badges import badge, person
from .choices import Rule, Severity
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
