"""Reads behind the program page's verdict and blocker list: the answer of `program_readiness`, read lean.

`program_readiness` loads every open blocker as a model instance with its owners and its program; on a
3,000-part program that is 1,500 blockers and most of the page's time. The page shows every blocking blocker
but only the oldest few warnings of each rule (a review cannot read a thousand warnings; the rest are one link
away in the admin). So this reads just those rows, as tuples, with each rule's total from a window count, and
builds the same `Readiness` from them. That is enough for an identical decision, sentence and forecast: they
look only at blocking blockers, at counts per rule, and at the dated blocker that clears last, which the read
always includes.
"""

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.db import connection

from ..choices import Rule, Severity
from ..models import Program
from ..selectors import Readiness, _forecast
from . import sql
from .selectors import decision_for, readiness_percent

WARNINGS_SHOWN_PER_RULE = 25


class BlockerRow(NamedTuple):
    """The columns of a `Blocker` the page, the decision sentence and the forecast read, plus the owners' names."""

    id: int
    rule: str
    severity: str
    object_type: str
    object_id: int
    object_label: str
    message: str
    clear_by: date | None
    age_days: int  # days open as of the page's date, like `report.blocker_age_days`
    owners: str  # like `report.blocker_owners`


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


def program_gate(program: Program, *, today: date, items: dict, warnings_per_rule: int | None = None) -> ProgramGate:
    """Readiness and the open blockers to show, in one query.

    `items` are the item counts of `program_readiness` (`{"parts": {"total": n, "done": n}, "tests": ...,
    "handover_items": ...}`); the page has them from its charts' datasets (`charts_page.program_charts`).
    """
    if warnings_per_rule is None:
        warnings_per_rule = WARNINGS_SHOWN_PER_RULE
    shown_warnings = max(1, warnings_per_rule)  # at least one row per rule carries the rule's total
    day = connection.ops.adapt_datefield_value
    params = {"program": program.pk, "sop": day(program.sop_date), "today": day(today), "shown": shown_warnings}
    groups: list[BlockerGroup] = []
    shown: list[BlockerRow] = []
    forecast_rows: list[BlockerRow] = []
    blocking = Severity.BLOCKING.value
    group_rows: list[BlockerRow] = []
    rule = None
    for row in sql.fetch("gate", params):
        position, rule_total = row[0], row[1]
        blocker = BlockerRow._make(row[2:])
        if blocker.rule != rule:
            rule, group_rows = blocker.rule, []
            groups.append(BlockerGroup(rule, blocker.severity, rule_total, group_rows))
        if blocker.severity == blocking or position <= shown_warnings:
            group_rows.append(blocker)
            shown.append(blocker)
        forecast_rows.append(blocker)  # every blocking one in order, the one that clears last, and shown warnings

    by_severity = {s.value: 0 for s in Severity}
    for group in groups:
        by_severity[group.severity] += group.total
    totals = {group.rule: group.total for group in groups}
    counts = {
        "by_severity": by_severity,
        "by_rule": {r.value: totals[r.value] for r in Rule if r.value in totals},
    }
    counts["items"] = items
    done = sum(kind["done"] for kind in items.values())
    total = sum(kind["total"] for kind in items.values())
    forecast, reason = _forecast(program, forecast_rows)
    readiness = Readiness(
        program=program,
        as_of=today,
        decision=decision_for(by_severity[Severity.BLOCKING], by_severity[Severity.WARNING]),
        readiness_pct=readiness_percent(done, total),
        done_items=done,
        total_items=total,
        forecast_sop_date=forecast,
        forecast_reason=reason,
        blockers=shown,
        counts=counts,
        blocking_by_rule={group.rule: group.total for group in groups if group.severity == blocking},
    )
    return ProgramGate(readiness, groups)
