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
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

from ..choices import Rule, Severity
from ..models import Program
from ..selectors import Readiness, _forecast
from . import sql
from .selectors import Fetch, decision_for, readiness_percent

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
    position: int  # among the open blockers of its rule, oldest first, from 1
    rule_total: int  # open blockers of its rule


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


def gate_params(program: Program, *, today: date, warnings_per_rule: int | None = None) -> dict:
    """The gate statement's parameters: the program's as of `today` (`sql.page_params`, which the page's other
    statements take too) and the warnings to show per rule (at least one: a row of each rule carries the rule's
    total)."""
    if warnings_per_rule is None:
        warnings_per_rule = WARNINGS_SHOWN_PER_RULE
    return {**sql.page_params(program, today), "shown": max(1, warnings_per_rule)}


def program_gate(
    program: Program,
    *,
    today: date,
    items: dict,
    warnings_per_rule: int | None = None,
    fetch: Fetch = sql.fetch,
) -> ProgramGate:
    """Readiness and the open blockers to show, in one query.

    `items` are the item counts of `program_readiness` (`{"parts": {"total": n, "done": n}, "tests": ...,
    "handover_items": ...}`); the page has them from its charts' datasets (`charts_page.program_charts`).
    `fetch` reads the statement's rows (`sql.fetch`, or the page's `sql.Prefetched`).
    """
    params = gate_params(program, today=today, warnings_per_rule=warnings_per_rule)
    shown_warnings = params["shown"]
    # Every blocking one in order, the one that clears last, and the shown warnings: what the forecast reads.
    forecast_rows = list(map(BlockerRow._make, fetch("gate", params)))
    groups: list[BlockerGroup] = []
    blocking = Severity.BLOCKING.value
    for rule, rule_rows in groupby(forecast_rows, key=attrgetter("rule")):
        first, *rest = rule_rows
        if first.severity == blocking:
            group_rows = [first, *rest]
        else:  # leave out the warning that clears last when it is beyond the oldest few
            group_rows = [first, *(row for row in rest if row.position <= shown_warnings)]
        groups.append(BlockerGroup(rule, first.severity, first.rule_total, group_rows))
    shown = [row for group in groups for row in group.rows]

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
