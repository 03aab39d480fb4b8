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

from django.db.models import Count, F, Q, Subquery, Window
from django.db.models.functions import RowNumber, TruncDate

from ..choices import Rule, Severity
from ..models import Blocker, Program
from ..selectors import Readiness, _forecast
from .selectors import decision_for, readiness_percent

WARNINGS_SHOWN_PER_RULE = 25


@dataclass(frozen=True, slots=True)
class BlockerRow:
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
    owners: str


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


def _person(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """`report.person` from the joined columns: the full name, else the username."""
    if username is None:
        return ""
    return f"{first_name} {last_name}".strip() or username


def program_gate(program: Program, *, today: date, items: dict, warnings_per_rule: int | None = None) -> ProgramGate:
    """Readiness and the open blockers to show, in one query.

    `items` are the item counts of `program_readiness` (`{"parts": {"total": n, "done": n}, "tests": ...,
    "handover_items": ...}`); the page has them from its charts' datasets (`charts_page.program_charts`).
    """
    if warnings_per_rule is None:
        warnings_per_rule = WARNINGS_SHOWN_PER_RULE
    shown_warnings = max(1, warnings_per_rule)  # at least one row per rule carries the rule's total
    open_blockers = Blocker.objects.filter(program=program, resolved_at__isnull=True)
    clears_last = open_blockers.filter(clear_by__gt=program.sop_date).order_by("-clear_by", "-id").values("id")[:1]
    rows = (
        open_blockers.annotate(
            position=Window(RowNumber(), partition_by=[F("rule")], order_by=[F("opened_at").asc(), F("id").asc()]),
            rule_total=Window(Count("id"), partition_by=[F("rule")]),
            clears_last=Subquery(clears_last),
            # The local date it opened, converted by the database: cheaper than parsing timestamps per row.
            opened_on=TruncDate("opened_at"),
        )
        .filter(Q(severity=Severity.BLOCKING) | Q(position__lte=shown_warnings) | Q(id=F("clears_last")))
        .order_by("severity", "rule", "opened_at", "id")
        .values_list(
            "id",
            "rule",
            "severity",
            "object_type",
            "object_id",
            "object_label",
            "message",
            "clear_by",
            "opened_on",
            "owner__first_name",
            "owner__last_name",
            "owner__username",
            "co_owner__first_name",
            "co_owner__last_name",
            "co_owner__username",
            "position",
            "rule_total",
        )
    )
    groups: list[BlockerGroup] = []
    shown: list[BlockerRow] = []
    forecast_rows: list[BlockerRow] = []
    for *fields, opened_on, first, last, username, co_first, co_last, co_username, position, rule_total in rows:
        owners = " & ".join(
            name for name in (_person(first, last, username), _person(co_first, co_last, co_username)) if name
        )
        row = BlockerRow(*fields, age_days=max(0, (today - opened_on).days), owners=owners or "unassigned")
        if not groups or groups[-1].rule != row.rule:
            groups.append(BlockerGroup(row.rule, row.severity, rule_total, []))
        if row.severity == Severity.BLOCKING or position <= shown_warnings:
            groups[-1].rows.append(row)
            shown.append(row)
        forecast_rows.append(row)  # every blocking one in order, the one that clears last, and shown warnings

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
    )
    return ProgramGate(readiness, groups)
