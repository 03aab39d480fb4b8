"""The gate rules, top to bottom, as DOMAIN.md states them.

Each rule is a condition on one kind of object (part, validation test, handover item, checklist). All rules
of a kind are evaluated for a whole program in ONE set-based query: the query selects every object that
violates at least one rule and annotates one boolean per rule. Python only turns the violating rows into
findings with a message that names the numbers. The number of queries never depends on the program's size.
"""

import math
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import BigIntegerField, BooleanField, Case, DateTimeField, F, Q, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from parts.choices import PPAP_ACCEPTED, PPAPStatus
from parts.expressions import DateAddDays
from parts.models import Part
from parts.selectors import parts_with_status
from validation.choices import TEST_DONE, TEST_RUNNING, TestStatus
from validation.models import HandoverChecklist, HandoverItem, ValidationTest

from .choices import RULE_SEVERITY, ObjectType, Rule
from .models import Program, RampStep

# Blocking rules whose blocker has no date to clear by: while one is open, the forecast SOP date is unknown.
FORECAST_UNKNOWN_RULES = frozenset({Rule.PART_UNSOURCED, Rule.TEST_FAILED})


@dataclass(frozen=True)
class Finding:
    rule: str
    object_type: str
    object_id: int
    object_label: str
    message: str
    owner_id: int | None
    co_owner_id: int | None = None
    supplier_id: int | None = None
    clear_by: date | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.rule, self.object_type, self.object_id)

    @property
    def severity(self) -> str:
        return RULE_SEVERITY[Rule(self.rule)]


@dataclass(frozen=True)
class PeakDemand:
    """The ramp step with the highest weekly vehicle rate: every part's capacity is checked against it."""

    month: date
    planned_vehicles: int
    days_in_month: int

    def weekly_demand(self, qty_per_vehicle: int) -> int:
        return math.ceil(self.planned_vehicles * qty_per_vehicle * 7 / self.days_in_month)


def peak_demand(program: Program) -> PeakDemand | None:
    steps = [
        PeakDemand(month, vehicles, monthrange(month.year, month.month)[1])
        for month, vehicles in RampStep.objects.filter(program=program).values_list("month", "planned_vehicles")
    ]
    # Highest vehicles per day; ceil() keeps that order, so this step also has the highest weekly demand.
    return max(steps, key=lambda s: (s.planned_vehicles / s.days_in_month, s.month), default=None)


def _d(value: date | None) -> str:
    return value.isoformat() if value else "none"


def days_text(n: int) -> str:
    return f"{n} day" if abs(n) == 1 else f"{n} days"


def _flagged(conditions: dict[str, Q]) -> dict:
    return {
        f"is_{rule}": Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())
        for rule, condition in conditions.items()
    }


def _any_of(conditions: dict[str, Q]) -> Q:
    combined = Q(pk__in=[])
    for condition in conditions.values():
        combined |= condition
    return combined


# --- Parts ---------------------------------------------------------------------------------------


def part_conditions(program: Program, today: date, peak: PeakDemand | None) -> dict[str, Q]:
    is_open = Q(received_on__isnull=True)
    late = Q(late=True)
    at_risk_from = F("effective_need_date")
    conditions = {
        Rule.PART_UNSOURCED: Q(supplier__isnull=True),
        Rule.PART_LATE: late,
        Rule.PART_AT_RISK: is_open
        & Q(late=False, promised_date__isnull=False)
        & Q(promised_date__gte=_minus_days(at_risk_from, program.at_risk_days)),
        Rule.PPAP_REJECTED: Q(ppap_status=PPAPStatus.REJECTED),
        Rule.PPAP_OVERDUE: ~Q(ppap_status__in=PPAP_ACCEPTED) & Q(effective_ppap_due_date__lt=today),
        Rule.PPAP_INTERIM_EXPIRING: Q(ppap_status=PPAPStatus.INTERIM_APPROVED)
        & (Q(interim_expires_on__isnull=True) | Q(interim_expires_on__lt=program.sop_date + timedelta(days=90))),
        Rule.CAPACITY_SHORTFALL: Q(pk__in=[]),
        Rule.CAPACITY_UNCONFIRMED: Q(pk__in=[]),
        Rule.SUPPLIER_UPDATE_STALE: is_open
        & Q(supplier__isnull=False)
        & Q(last_update_or_creation__lt=_start_of(today - timedelta(days=program.stale_update_days))),
    }
    if peak is not None:
        # capacity < ceil(demand) <=> capacity < demand for whole units; compared without division:
        # capacity * days_in_month < planned_vehicles * qty_per_vehicle * 7.
        conditions[Rule.CAPACITY_SHORTFALL] = Q(capacity_per_week__isnull=False) & Q(
            capacity_times_days__lt=Cast("qty_per_vehicle", BigIntegerField()) * (peak.planned_vehicles * 7)
        )
        conditions[Rule.CAPACITY_UNCONFIRMED] = Q(capacity_per_week__isnull=True)
    return conditions


def _minus_days(expression, days: int) -> DateAddDays:
    return DateAddDays(expression, Value(-days))


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def part_findings(program: Program, today: date) -> list[Finding]:
    peak = peak_demand(program)
    conditions = part_conditions(program, today, peak)
    rows = (
        parts_with_status(Part.objects.filter(program=program), today=today)
        .annotate(
            last_update_or_creation=Coalesce("last_supplier_update_at", "created_at", output_field=DateTimeField()),
            # In 64 bits: a capacity of a few million a week times 31 days would overflow a 32-bit integer
            # and make PostgreSQL refuse the whole scan.
            capacity_times_days=Cast("capacity_per_week", BigIntegerField()) * (peak.days_in_month if peak else 1),
        )
        .filter(_any_of(conditions))
        .annotate(**_flagged(conditions))
        .values(
            "id",
            "part_number",
            "revision",
            "name",
            "supplier_id",
            "owner_id",
            "qty_per_vehicle",
            "promised_date",
            "effective_need_date",
            "effective_ppap_due_date",
            "ppap_status",
            "interim_expires_on",
            "capacity_per_week",
            "last_update_or_creation",
            *(f"is_{rule}" for rule in conditions),
        )
        .order_by("id")
    )
    owner_fallback = program.owner_id
    findings = []
    for row in rows:
        label = f"{row['name']} {row['part_number']} rev {row['revision']}"
        owner = row["owner_id"] or owner_fallback
        for rule in conditions:
            if not row[f"is_{rule}"]:
                continue
            message, clear_by = _part_message(rule, row, program, today, peak)
            findings.append(
                Finding(
                    rule,
                    ObjectType.PART,
                    row["id"],
                    label,
                    f"{label}: {message}",
                    owner,
                    supplier_id=row["supplier_id"],
                    clear_by=clear_by,
                )
            )
    return findings


def _part_message(rule: str, row: dict, program: Program, today: date, peak: PeakDemand | None):
    need, promised = row["effective_need_date"], row["promised_date"]
    if rule == Rule.PART_UNSOURCED:
        return f"no supplier yet, needed {_d(need)}", None
    if rule == Rule.PART_LATE:
        clear_by = promised + timedelta(days=program.part_lead_days) if promised else None
        if promised and promised > need:
            return f"promised {_d(promised)}, needed {_d(need)} ({days_text((promised - need).days)} late)", clear_by
        if promised:
            overdue = (today - need).days
            return f"promised {_d(promised)}, needed {_d(need)}, not received ({days_text(overdue)} overdue)", clear_by
        if need < today:
            return f"no promised date, needed {_d(need)} ({days_text((today - need).days)} overdue)", None
        return f"no promised date, needed {_d(need)} (in {days_text((need - today).days)})", None
    if rule == Rule.PART_AT_RISK:
        return f"promised {_d(promised)}, needed {_d(need)} (only {days_text((need - promised).days)} of margin)", None
    if rule == Rule.PPAP_REJECTED:
        return "PPAP rejected", None
    if rule == Rule.PPAP_OVERDUE:
        due = row["effective_ppap_due_date"]
        status = PPAPStatus(row["ppap_status"]).label.lower()
        return f"PPAP {status}, due {_d(due)} ({days_text((today - due).days)} overdue)", None
    if rule == Rule.PPAP_INTERIM_EXPIRING:
        limit = program.sop_date + timedelta(days=90)
        if row["interim_expires_on"] is None:
            return f"interim PPAP approval has no expiry date (must hold past {_d(limit)})", None
        return (
            f"interim PPAP approval expires {_d(row['interim_expires_on'])}, before {_d(limit)} (SOP + 90 days)",
            None,
        )
    if rule == Rule.CAPACITY_SHORTFALL:
        qty = row["qty_per_vehicle"]
        demand = peak.weekly_demand(qty)
        return (
            f"capacity {row['capacity_per_week']:,}/week below {peak.month:%B %Y} demand of {demand:,}/week "
            f"({peak.planned_vehicles:,} vehicles × {qty} per vehicle)",
            None,
        )
    if rule == Rule.CAPACITY_UNCONFIRMED:
        return "supplier has not confirmed a weekly capacity for the ramp plan", None
    if rule == Rule.SUPPLIER_UPDATE_STALE:
        last = timezone.localdate(row["last_update_or_creation"])
        return (
            f"no supplier update since {_d(last)} ({days_text((today - last).days)} ago, limit {days_text(program.stale_update_days)})",
            None,
        )
    raise ValueError(rule)


# --- Validation tests ----------------------------------------------------------------------------


def test_conditions(program: Program, today: date) -> dict[str, Q]:
    return {
        Rule.TEST_FAILED: Q(status=TestStatus.FAILED),
        Rule.TEST_AFTER_SOP: ~Q(status__in=TEST_DONE) & Q(planned_end__gt=program.sop_date),
        Rule.TEST_OVERDUE: Q(status__in=TEST_RUNNING, planned_end__lt=today),
    }


def test_findings(program: Program, today: date) -> list[Finding]:
    conditions = test_conditions(program, today)
    rows = (
        ValidationTest.objects.filter(program=program, required_for_sop=True)
        .filter(_any_of(conditions))
        .annotate(**_flagged(conditions))
        .values(
            "id",
            "code",
            "name",
            "owner_id",
            "planned_end",
            "status",
            "result_note",
            *(f"is_{rule}" for rule in conditions),
        )
        .order_by("id")
    )
    findings = []
    for row in rows:
        label = f"Test {row['code']} {row['name']}"
        owner = row["owner_id"] or program.owner_id
        end = row["planned_end"]
        for rule in conditions:
            if not row[f"is_{rule}"]:
                continue
            if rule == Rule.TEST_FAILED:
                note = f" ({row['result_note']})" if row["result_note"] else ""
                message, clear_by = f"failed{note}; required for SOP", None
            elif rule == Rule.TEST_AFTER_SOP:
                message = f"planned to end {_d(end)}, {days_text((end - program.sop_date).days)} after SOP {_d(program.sop_date)}"
                clear_by = end
            else:
                message, clear_by = (
                    f"planned to end {_d(end)} ({days_text((today - end).days)} overdue), still {row['status'].replace('_', ' ')}",
                    end,
                )
            findings.append(
                Finding(
                    rule, ObjectType.VALIDATION_TEST, row["id"], label, f"{label}: {message}", owner, clear_by=clear_by
                )
            )
    return findings


# --- Handover --------------------------------------------------------------------------------------


def item_conditions(program: Program, today: date) -> dict[str, Q]:
    return {
        Rule.HANDOVER_ITEM_OVERDUE: Q(due_date__lt=today),
        Rule.HANDOVER_ITEM_AFTER_SOP: Q(due_date__gt=program.sop_date),
    }


def item_findings(program: Program, today: date) -> list[Finding]:
    conditions = item_conditions(program, today)
    rows = (
        HandoverItem.objects.filter(checklist__program=program, required=True, done_at__isnull=True)
        .filter(_any_of(conditions))
        .annotate(**_flagged(conditions))
        .values("id", "title", "checklist__area", "responsible_id", "due_date", *(f"is_{rule}" for rule in conditions))
        .order_by("id")
    )
    findings = []
    for row in rows:
        label = f"{row['checklist__area']}: {row['title']}"
        owner = row["responsible_id"] or program.owner_id
        due = row["due_date"]
        for rule in conditions:
            if not row[f"is_{rule}"]:
                continue
            if rule == Rule.HANDOVER_ITEM_OVERDUE:
                message = f"due {_d(due)} ({days_text((today - due).days)} overdue), not done"
            else:
                message = f"due {_d(due)}, {days_text((due - program.sop_date).days)} after SOP {_d(program.sop_date)}"
            findings.append(
                Finding(rule, ObjectType.HANDOVER_ITEM, row["id"], label, f"{label}: {message}", owner, clear_by=due)
            )
    return findings


def checklist_findings(program: Program, today: date) -> list[Finding]:
    signoff_due = program.sop_date - timedelta(days=program.signoff_days)
    if signoff_due > today:
        return []
    rows = (
        HandoverChecklist.objects.filter(program=program)
        .filter(Q(rd_signed_off_at__isnull=True) | Q(production_signed_off_at__isnull=True))
        .values("id", "area", "rd_owner_id", "production_owner_id", "rd_signed_off_at", "production_signed_off_at")
        .order_by("id")
    )
    findings = []
    for row in rows:
        missing = [
            side
            for side, at in (("R&D", row["rd_signed_off_at"]), ("production", row["production_signed_off_at"]))
            if at is None
        ]
        label = f"Handover {row['area']}"
        message = f"{label}: {' and '.join(missing)} sign-off missing, due {_d(signoff_due)} (SOP − {program.signoff_days} days)"
        owner = row["rd_owner_id"] or row["production_owner_id"] or program.owner_id
        co_owner = row["production_owner_id"] if row["rd_owner_id"] else None
        findings.append(
            Finding(
                Rule.HANDOVER_UNSIGNED,
                ObjectType.HANDOVER_CHECKLIST,
                row["id"],
                label,
                message,
                owner,
                co_owner_id=co_owner,
            )
        )
    return findings


def evaluate_program(program: Program, today: date) -> list[Finding]:
    """Every finding of every rule for one program as of `today`, in a constant number of queries."""
    return [
        *part_findings(program, today),
        *test_findings(program, today),
        *item_findings(program, today),
        *checklist_findings(program, today),
    ]
