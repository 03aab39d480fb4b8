"""Reads behind the program page's verdict and blocker list.

The page shows every blocking blocker but only the oldest few warnings of each rule (a review cannot read a
thousand warnings; the rest are one link away in the admin). The verdict is `sopgate.selectors.readiness`, the
one answer, from the open blockers' counts per rule and the blockers the forecast looks at.
"""

from dataclasses import dataclass
from datetime import date
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber

from ..choices import Severity
from ..models import Blocker, Program
from ..selectors import Readiness, forecast_blockers, open_blocker_counts, readiness
from .report import blocker_age_days, blocker_owners

WARNINGS_SHOWN_PER_RULE = 25


class BlockerRow(NamedTuple):
    """The columns of a `Blocker` the page shows, plus the owners' names."""

    id: int
    rule: str
    severity: str
    object_type: str
    object_id: int
    object_label: str
    message: str
    clear_by: date | None
    age_days: int  # days open as of the page's date, `report.blocker_age_days`
    owners: str  # `report.blocker_owners`
    position: int  # among the open blockers of its rule, oldest first, from 1
    rule_total: int  # open blockers of its rule
    supplier_code: str | None = None  # the supplier the blocker is about, if any (the page bundles by it)


@dataclass(frozen=True)
class BlockerGroup:
    rule: str
    severity: str
    total: int  # open blockers of this rule, shown or not
    rows: list[BlockerRow]  # all of them for a blocking rule; the oldest `WARNINGS_SHOWN_PER_RULE` for a warning

    @property
    def not_shown(self) -> int:
        return self.total - len(self.rows)


@dataclass(frozen=True)
class ProgramGate:
    readiness: Readiness  # its `blockers` are the rows shown: every blocking one and the oldest warnings
    groups: list[BlockerGroup]  # blocking rules first, then by rule, like `open_blockers`


def shown_blockers(program: Program, *, warnings_per_rule: int) -> list[Blocker]:
    """Every open blocking blocker of the program and the oldest `warnings_per_rule` warnings of each rule, with
    each one's place in its rule (`position`): one query."""
    return list(
        Blocker.objects.filter(program=program, resolved_at__isnull=True)
        .select_related("owner", "co_owner", "supplier")
        .annotate(position=Window(RowNumber(), partition_by=F("rule"), order_by=[F("opened_at"), F("id")]))
        .filter(Q(severity=Severity.BLOCKING) | Q(position__lte=warnings_per_rule))
        .order_by("severity", "rule", "opened_at", "id")
    )


def program_gate(program: Program, *, today: date, items: dict, warnings_per_rule: int | None = None) -> ProgramGate:
    """Readiness and the open blockers to show, in three queries.

    `items` are the item counts of `readiness` (`{"parts": {"total": n, "done": n}, "tests": ...,
    "handover_items": ...}`); the page has them from its charts' datasets (`charts_page.program_charts`).
    """
    shown_warnings = WARNINGS_SHOWN_PER_RULE if warnings_per_rule is None else max(1, warnings_per_rule)
    counts = open_blocker_counts([program.pk]).get(program.pk, {})
    totals: dict[str, int] = {}
    for (rule, _), n in counts.items():
        totals[rule] = totals.get(rule, 0) + n
    rows = [
        BlockerRow(
            b.id,
            b.rule,
            b.severity,
            b.object_type,
            b.object_id,
            b.object_label,
            b.message,
            b.clear_by,
            blocker_age_days(b, today),
            blocker_owners(b),
            b.position,
            totals[b.rule],
            b.supplier.code if b.supplier else None,
        )
        for b in shown_blockers(program, warnings_per_rule=shown_warnings)
    ]
    groups = [
        BlockerGroup(rule, first.severity, first.rule_total, [first, *rest])
        for rule, (first, *rest) in ((rule, list(group)) for rule, group in groupby(rows, key=attrgetter("rule")))
    ]
    answer = readiness(
        program,
        today=today,
        counts=counts,
        items=items,
        forecast_blockers=forecast_blockers([program.pk]).get(program.pk, []),
        blockers=rows,
    )
    return ProgramGate(answer, groups)
