"""Reads behind the dashboard, through the ORM. Every function runs a fixed number of queries, whatever the number
of programs, parts, tests or items; decision, readiness and forecast come from `sopgate.selectors.readiness`, late
and stale parts from the gate's rules (`sopgate.gate.rules`)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, F, Q

from parts.choices import PPAPStatus
from parts.models import Part
from parts.selectors import effective_need_date_expression
from validation.choices import TestPhase, TestStatus
from validation.models import HandoverChecklist, HandoverItem, ValidationTest

from ..choices import Decision, ObjectType, Rule, Severity
from ..gate.findings import kind_queryset
from ..gate.rules import ITEM_DONE, PART_DONE, PART_LATE, RULE
from ..models import Blocker, Program, ReadinessSnapshot
from ..selectors import (
    forecast_blockers,
    open_blocker_counts,
    readiness,
    readiness_items,
    readiness_percent,
)

__all__ = ["readiness_percent"]

# --- All programs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramSummary:
    program: Program
    as_of: date
    decision: str
    readiness_pct: Decimal
    blocking_count: int
    warning_count: int
    forecast_sop_date: date | None
    forecast_reason: str

    @property
    def days_to_sop(self) -> int:
        return (self.program.sop_date - self.as_of).days


def program_summaries(*, today: date, archived: bool = False) -> list[ProgramSummary]:
    """Decision, readiness and forecast of every program (not archived ones, unless `archived`) in six queries."""
    programs = Program.objects if archived else Program.objects.active()
    programs = list(programs.select_related("owner").order_by("sop_date", "code"))
    ids = [program.pk for program in programs]
    counts, items, forecast = open_blocker_counts(ids), readiness_items(ids), forecast_blockers(ids)
    summaries = []
    for program in programs:
        answer = readiness(
            program,
            today=today,
            counts=counts.get(program.pk, {}),
            items=items[program.pk],
            forecast_blockers=forecast.get(program.pk, []),
            blockers=[],
        )
        summaries.append(
            ProgramSummary(
                program=program,
                as_of=today,
                decision=answer.decision,
                readiness_pct=answer.readiness_pct,
                blocking_count=answer.blocking_count,
                warning_count=answer.warning_count,
                forecast_sop_date=answer.forecast_sop_date,
                forecast_reason=answer.forecast_reason,
            )
        )
    return summaries


# --- One program --------------------------------------------------------------------------------------


def program_with_owner_name(code: str) -> Program | None:
    """The program with this code, and its owner's full name or username as `owner_name` (None without one)."""
    program = Program.objects.select_related("owner").filter(code=code).first()
    if program is not None:
        owner = program.owner
        program.owner_name = (owner.get_full_name() or owner.get_username()) if owner else None
    return program


# --- One program: chart data -----------------------------------------------------------------------------


TREND_DAYS = 90  # the trend chart's days


class TrendPoint(NamedTuple):
    """A daily `ReadinessSnapshot`, the columns the trend chart and its table show."""

    date: date
    decision: str
    readiness_pct: Decimal
    blocking_count: int
    warning_count: int
    forecast_sop_date: date | None

    @property
    def decision_label(self) -> str:
        return Decision(self.decision).label


def readiness_trend(program: Program, *, days: int = TREND_DAYS) -> list[TrendPoint]:
    """The last `days` snapshots, oldest first."""
    rows = ReadinessSnapshot.objects.filter(program=program).order_by("-date")[:days]
    fields = ("date", "decision", "readiness_pct", "blocking_count", "warning_count", "forecast_sop_date")
    return [TrendPoint._make(row) for row in reversed(rows.values_list(*fields))]


@dataclass(frozen=True)
class PartCounts:
    by_ppap_status: dict[str, int]  # every PPAP status, zero when no part has it
    done: int  # parts done for readiness

    @property
    def total(self) -> int:
        return sum(self.by_ppap_status.values())


def part_counts(program: Program) -> PartCounts:
    """Parts per PPAP status and parts done for readiness, in one query."""
    counts, done = {}, 0
    rows = (
        Part.objects.filter(program=program)
        .alias(effective_need_date=effective_need_date_expression())
        .values_list("ppap_status")
        .annotate(n=Count("id"), done=Count("id", filter=PART_DONE))
        .order_by()
    )
    for status, n, n_done in rows:
        counts[status] = n
        done += n_done
    return PartCounts({status.value: counts.get(status.value, 0) for status in PPAPStatus}, done)


@dataclass(frozen=True)
class PhaseRow:
    phase: str
    label: str
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def tests_by_phase_and_status(program: Program) -> list[PhaseRow]:
    """Required validation tests (the ones that count for SOP) per phase and status."""
    counts = defaultdict(dict)
    rows = (
        ValidationTest.objects.filter(program=program, required_for_sop=True)
        .values_list("phase", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for phase, status, n in rows:
        counts[phase][status] = n
    return [
        PhaseRow(phase.value, phase.label, {s.value: counts[phase.value].get(s.value, 0) for s in TestStatus})
        for phase in TestPhase
    ]


class AreaProgress(NamedTuple):
    """A handover checklist (one area) and its required items."""

    checklist_id: int
    area: str
    rd_signed_off: bool
    production_signed_off: bool
    required_items: int
    done_items: int
    overdue_items: int

    @property
    def open_items(self) -> int:
        return self.required_items - self.done_items

    @property
    def done_pct(self) -> Decimal:
        return readiness_percent(self.done_items, self.required_items)


def handover_progress(program: Program, *, today: date) -> list[AreaProgress]:
    """Per checklist (area): its sign-offs, required items, those done and those overdue (the
    `handover_item_overdue` rule), in three queries."""
    required = {
        checklist_id: (total, done)
        for checklist_id, total, done in HandoverItem.objects.filter(checklist__program=program, required=True)
        .values_list("checklist_id")
        .annotate(total=Count("id"), done=Count("id", filter=ITEM_DONE))
        .order_by()
    }
    overdue = dict(
        kind_queryset(ObjectType.HANDOVER_ITEM, program, today)
        .filter(RULE[Rule.HANDOVER_ITEM_OVERDUE].condition)
        .values_list("checklist_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    checklists = HandoverChecklist.objects.filter(program=program).order_by("area", "id")
    return [
        AreaProgress(
            pk,
            area,
            rd_signed is not None,
            production_signed is not None,
            *required.get(pk, (0, 0)),
            overdue.get(pk, 0),
        )
        for pk, area, rd_signed, production_signed in checklists.values_list(
            "id", "area", "rd_signed_off_at", "production_signed_off_at"
        )
    ]


class SupplierScore(NamedTuple):
    supplier_id: int
    code: str
    name: str
    parts: int
    late: int
    stale: int
    promises_due: int  # settled promises: part received, or promised date passed without it
    promises_kept: int  # ... of which the part arrived on or before the promised date
    blocking: int
    warnings: int

    @property
    def kept_pct(self) -> Decimal | None:
        return readiness_percent(self.promises_kept, self.promises_due) if self.promises_due else None

    @property
    def promises_broken(self) -> int:
        return self.promises_due - self.promises_kept

    @property
    def has_issues(self) -> bool:
        return bool(self.late or self.stale or self.blocking or self.warnings or self.promises_broken)


def supplier_scorecard(program: Program, *, today: date) -> list[SupplierScore]:
    """Per supplier of the program: late parts (`part_late`), stale updates (`supplier_update_stale`), promises
    kept and open blockers, in three queries; worst first (late parts, then broken promises, then stale updates,
    then other open blockers, then by code), so the suppliers without issues come last.

    A promise is settled when the part has arrived or its promised date has passed; it is kept when the part
    arrived on or before the promised date on record. Open parts whose promised date is still ahead don't count.
    """
    promise_due = Q(promised_date__isnull=False) & (Q(received_on__isnull=False) | Q(promised_date__lt=today))
    parts = (
        kind_queryset(ObjectType.PART, program, today)
        .filter(supplier__isnull=False)
        .values_list("supplier_id", "supplier__code", "supplier__name")
        .annotate(
            parts=Count("id"),
            late=Count("id", filter=PART_LATE.condition),
            stale=Count("id", filter=RULE[Rule.SUPPLIER_UPDATE_STALE].condition),
            promises_due=Count("id", filter=promise_due),
            promises_kept=Count("id", filter=promise_due & Q(received_on__lte=F("promised_date"))),
        )
        .order_by()
    )
    blockers = {
        supplier_id: (blocking, warnings)
        for supplier_id, blocking, warnings in Blocker.objects.filter(
            program=program, resolved_at__isnull=True, supplier__isnull=False
        )
        .values_list("supplier_id")
        .annotate(
            blocking=Count("id", filter=Q(severity=Severity.BLOCKING)),
            warnings=Count("id", filter=Q(severity=Severity.WARNING)),
        )
        .order_by()
    }
    scores = [SupplierScore(*row, *blockers.get(row[0], (0, 0))) for row in parts]
    scores.sort(key=lambda s: (-s.late, s.promises_kept - s.promises_due, -s.stale, -s.blocking, -s.warnings, s.code))
    return scores
