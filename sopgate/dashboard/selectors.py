"""Reads behind the dashboard. Every function runs a fixed number of GROUP BY queries, whatever the number of
programs, parts, tests or items; decision, readiness and forecast follow `sopgate.selectors` exactly."""

import math
from calendar import monthrange
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, DateField, F, Q
from django.db.models.functions import Coalesce

from parts.choices import PPAPStatus
from parts.expressions import date_minus_days
from parts.models import Part
from validation.choices import TEST_DONE, TestPhase, TestStatus
from validation.models import HandoverItem, ValidationTest

from ..choices import Decision, Rule, Severity
from ..models import Blocker, Program
from ..rows import instance_from_row
from ..rules import FORECAST_UNKNOWN_RULES
from ..selectors import _forecast
from . import sql

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


def readiness_percent(done: int, total: int) -> Decimal:
    """The same rounding as `program_readiness`: one decimal, half up, 100 % when there is nothing to do."""
    return (Decimal(100 * done) / total).quantize(Decimal("0.1"), ROUND_HALF_UP) if total else Decimal("100.0")


def decision_for(blocking: int, warnings: int) -> str:
    if blocking:
        return Decision.NO_GO.value
    return Decision.CONDITIONAL.value if warnings else Decision.GO.value


def program_summaries(*, today: date, archived: bool = False) -> list[ProgramSummary]:
    """Decision, readiness and forecast of every program (not archived ones, unless `archived`) in six queries
    (program_readiness takes five per program)."""
    programs = Program.objects if archived else Program.objects.active()
    programs = list(programs.select_related("owner").order_by("sop_date", "code"))
    severities = defaultdict(dict)
    for row in (
        Blocker.objects.filter(resolved_at__isnull=True)
        .values("program_id", "severity")
        .annotate(n=Count("id"))
        .order_by()
    ):
        severities[row["program_id"]][row["severity"]] = row["n"]

    effective_need = Coalesce(
        F("need_date"), date_minus_days(F("program__sop_date"), F("program__part_lead_days")), output_field=DateField()
    )
    part_done = part_done_q(effective_need)
    done_total = defaultdict(lambda: [0, 0])
    for queryset, key, done in (
        (Part.objects.all(), "program_id", part_done),
        (ValidationTest.objects.filter(required_for_sop=True), "program_id", Q(status__in=TEST_DONE)),
        (HandoverItem.objects.filter(required=True), "checklist__program_id", Q(done_at__isnull=False)),
    ):
        for row in queryset.values(key).annotate(total=Count("id"), done=Count("id", filter=done)).order_by():
            done_total[row[key]][0] += row["done"]
            done_total[row[key]][1] += row["total"]

    # Only the blockers `_forecast` can look at: blocking ones without a date, and those clearing after SOP.
    forecast_blockers = defaultdict(list)
    for blocker in (
        Blocker.objects.filter(resolved_at__isnull=True)
        .filter(
            Q(severity=Severity.BLOCKING, rule__in=FORECAST_UNKNOWN_RULES)
            | Q(severity=Severity.BLOCKING, rule=Rule.PART_LATE, clear_by__isnull=True)
            | Q(clear_by__gt=F("program__sop_date"))
        )
        .only("id", "program_id", "rule", "severity", "clear_by", "object_label")
        .order_by("severity", "rule", "opened_at", "id")
    ):
        forecast_blockers[blocker.program_id].append(blocker)

    summaries = []
    for program in programs:
        counts = severities.get(program.pk, {})
        blocking, warnings = counts.get(Severity.BLOCKING, 0), counts.get(Severity.WARNING, 0)
        done, total = done_total[program.pk]
        forecast, reason = _forecast(program, forecast_blockers.get(program.pk, []))
        summaries.append(
            ProgramSummary(
                program=program,
                as_of=today,
                decision=decision_for(blocking, warnings),
                readiness_pct=readiness_percent(done, total),
                blocking_count=blocking,
                warning_count=warnings,
                forecast_sop_date=forecast,
                forecast_reason=reason,
            )
        )
    return summaries


# --- One program --------------------------------------------------------------------------------------


def program_with_owner_name(code: str) -> Program | None:
    """The program with this code, and its owner's full name or username as `owner_name` (None without an
    owner). Read raw: building the same query through the ORM with `select_related("owner")` took ~0.4 ms
    longer, a twentieth of the program page's Python."""
    with connection.cursor() as cursor:
        cursor.execute(sql.program_statement(connection.vendor), [code])
        row = cursor.fetchone()
    if row is None:
        return None
    program, (owner_name,) = instance_from_row(Program, row)
    program.owner_name = owner_name
    return program


# --- One program: chart data -----------------------------------------------------------------------------
#
# Read through the hand-written statements of `.sql`, as tuples: the program page runs all of them on every
# request, and compiling them through the ORM cost as much as running them.


TREND_DAYS = 90  # the trend chart's days
# How a selector reads a statement's rows: `sql.fetch`, or the program page's `sql.Prefetched`.
Fetch = Callable[[str, dict], list[tuple]]


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


def _decimal(value) -> Decimal:
    """A one-decimal column: PostgreSQL returns a Decimal, SQLite a float or an int."""
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(Decimal("0.1"))


def readiness_trend(program: Program, *, days: int = TREND_DAYS, fetch: Fetch = sql.fetch) -> list[TrendPoint]:
    """The last `days` snapshots, oldest first."""
    rows = fetch("trend", {"program": program.pk, "trend_days": days})
    return [TrendPoint(day, decision, _decimal(pct), *rest) for day, decision, pct, *rest in reversed(rows)]


def part_done_q(effective_need) -> Q:
    """A part done for readiness, as `program_readiness` counts it: PPAP approved, and received or promised by
    its need date (`effective_need`: the need date or SOP minus the part lead time, as an expression)."""
    return Q(ppap_status=PPAPStatus.APPROVED) & (Q(received_on__isnull=False) | Q(promised_date__lte=effective_need))


@dataclass(frozen=True)
class PartCounts:
    by_ppap_status: dict[str, int]  # every PPAP status, zero when no part has it
    done: int  # parts done for readiness

    @property
    def total(self) -> int:
        return sum(self.by_ppap_status.values())


def part_counts(program: Program, *, fetch: Fetch = sql.fetch) -> PartCounts:
    """Parts per PPAP status and parts done for readiness, in one query."""
    counts, done = {}, 0
    for status, n, n_done in fetch("ppap", sql.page_params(program)):
        counts[status] = n
        done += n_done
    return PartCounts({status.value: counts.get(status.value, 0) for status in PPAPStatus}, done)


@dataclass(frozen=True)
class RampCoverage:
    month: date
    planned_vehicles: int
    weekly_vehicles: int  # vehicles per week that month, rounded up
    covered: int  # parts whose confirmed weekly capacity meets that month's weekly demand
    short: int
    unconfirmed: int
    bottleneck_vehicles: int | None  # vehicles per week the tightest confirmed part supports

    @property
    def total(self) -> int:
        return self.covered + self.short + self.unconfirmed

    @property
    def covered_pct(self) -> Decimal:
        return readiness_percent(self.covered, self.total) if self.total else Decimal("0.0")

    @property
    def gap_vehicles(self) -> int | None:
        if self.bottleneck_vehicles is None:
            return None
        return self.bottleneck_vehicles - self.weekly_vehicles


class Bottleneck(NamedTuple):
    """The confirmed part that supports the fewest vehicles a week."""

    label: str  # as `Part.__str__`
    part_number: str
    supplier_code: str | None
    capacity_per_week: int
    qty_per_vehicle: int
    vehicles_per_week: int


@dataclass(frozen=True)
class CapacityCoverage:
    months: list[RampCoverage]
    bottleneck: Bottleneck | None


def capacity_coverage(program: Program, *, fetch: Fetch = sql.fetch) -> CapacityCoverage:
    """For each ramp month: which parts' confirmed capacity meets that month's weekly demand, in three queries.

    Same arithmetic as the capacity_shortfall rule, month by month instead of at the peak only:
    capacity_per_week × days_in_month ≥ planned_vehicles × qty_per_vehicle × 7, compared without division.
    """
    params = sql.page_params(program)
    steps = [(month, vehicles, monthrange(month.year, month.month)[1]) for month, vehicles in fetch("ramp", params)]
    if not steps:
        return CapacityCoverage([], None)
    parts, unconfirmed, bottleneck_vehicles, *covered = sql.fetch_capacity(
        params, [(days, vehicles * 7) for _, vehicles, days in steps]
    )
    months = [
        RampCoverage(
            month=month,
            planned_vehicles=vehicles,
            weekly_vehicles=math.ceil(vehicles * 7 / days),
            covered=n,
            short=parts - unconfirmed - n,
            unconfirmed=unconfirmed,
            bottleneck_vehicles=bottleneck_vehicles,
        )
        for (month, vehicles, days), n in zip(steps, covered, strict=True)
    ]
    bottleneck = fetch("bottleneck", params)
    return CapacityCoverage(months, Bottleneck(*bottleneck[0]) if bottleneck else None)


@dataclass(frozen=True)
class PhaseRow:
    phase: str
    label: str
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def tests_by_phase_and_status(program: Program, *, fetch: Fetch = sql.fetch) -> list[PhaseRow]:
    """Required validation tests (the ones that count for SOP) per phase and status."""
    counts = defaultdict(dict)
    for phase, status, n in fetch("tests", {"program": program.pk}):
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


def handover_progress(program: Program, *, today: date, fetch: Fetch = sql.fetch) -> list[AreaProgress]:
    return [AreaProgress._make(row) for row in fetch("handover", sql.page_params(program, today))]


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


def supplier_scorecard(program: Program, *, today: date, fetch: Fetch = sql.fetch) -> list[SupplierScore]:
    """Per supplier of the program: late parts, stale updates, promises kept and open blockers, in one query;
    worst first (late parts, then broken promises, then stale updates, then other open blockers, then by code),
    so the suppliers without issues come last.

    A promise is settled when the part has arrived or its promised date has passed; it is kept when the part
    arrived on or before the promised date on record. Open parts whose promised date is still ahead don't count.
    """
    return list(map(SupplierScore._make, fetch("suppliers", sql.page_params(program, today))))
