"""The gate rules, top to bottom, as DOMAIN.md states them: `evaluate_program` finds every violation.

Each rule is ONE SQL condition on one kind of object, named after the rule (PART_RULES, TEST_RULES and
ITEM_RULES in `sql.py`). All rules of a kind are evaluated for a whole program in one hand-written,
parametrized statement that selects every object violating at least one rule, with one bit per rule
violated. Python here only turns those rows into findings whose message names the numbers. The number of
queries never depends on the program's size.

Hand-written rather than built with the ORM: compiling the ORM query (a Case/When per rule, repeated in the
filter and the annotations) took longer than the database took to run it.
"""

import math
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from django.utils import timezone

from parts.choices import PPAPStatus

from ..choices import RULE_SEVERITY, ObjectType, Rule
from ..models import Program
from .sql import ITEM_RULES, PART_RULES, TEST_RULES, bits, default_need_date, interim_limit, rows, statement_params

# Blocking rules whose blocker has no date to clear by: while one is open, the forecast SOP date is unknown.
FORECAST_UNKNOWN_RULES = frozenset({Rule.PART_UNSOURCED, Rule.TEST_FAILED})

_SEVERITY = {str(rule): str(severity) for rule, severity in RULE_SEVERITY.items()}


class Finding(NamedTuple):
    """One rule violated by one object. A tuple: a scan builds thousands, and a frozen dataclass took a
    third of the scan's Python time just to construct them."""

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
        return _SEVERITY[self.rule]


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
        for month, vehicles in rows("ramp", {"program": program.pk})
    ]
    # Highest vehicles per day; ceil() keeps that order, so this step also has the highest weekly demand.
    return max(steps, key=lambda s: (s.planned_vehicles / s.days_in_month, s.month), default=None)


def days_text(n: int) -> str:
    return f"{n} day" if abs(n) == 1 else f"{n} days"


@dataclass(frozen=True)
class _Scan:
    """One program's scan as of `today`: the dates every rule compares with, computed once."""

    program: Program
    today: date
    peak: PeakDemand | None

    @property
    def default_need_date(self) -> date:
        return default_need_date(self.program)

    @property
    def interim_limit(self) -> date:
        return interim_limit(self.program)

    @property
    def signoff_due(self) -> date:
        return self.program.sop_date - timedelta(days=self.program.signoff_days)


def _local_date(text: str, tz) -> date:
    """The local date of a timestamp read as text: PostgreSQL writes it with its UTC offset, SQLite stores
    UTC without one."""
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz).date()


# --- Findings ----------------------------------------------------------------------------------------
#
# One loop per kind over the flagged rows; each rule that a row violates adds a finding with its message.

_PART = bits(PART_RULES)
_TEST = bits(TEST_RULES)
_ITEM = bits(ITEM_RULES)
_PPAP_STATUS_TEXT = {status.value: status.label.lower() for status in PPAPStatus}


def _part_findings(scan: _Scan, params: dict) -> list[Finding]:
    program, today, peak = scan.program, scan.today, scan.peak
    default_need, lead_days, ppap_lead = scan.default_need_date, program.part_lead_days, program.ppap_lead_days
    interim_limit, stale_days, tz = scan.interim_limit, program.stale_update_days, timezone.get_current_timezone()
    unsourced, late, at_risk = _PART[Rule.PART_UNSOURCED], _PART[Rule.PART_LATE], _PART[Rule.PART_AT_RISK]
    rejected, ppap_overdue = _PART[Rule.PPAP_REJECTED], _PART[Rule.PPAP_OVERDUE]
    interim, shortfall = _PART[Rule.PPAP_INTERIM_EXPIRING], _PART[Rule.CAPACITY_SHORTFALL]
    unconfirmed, stale = _PART[Rule.CAPACITY_UNCONFIRMED], _PART[Rule.SUPPLIER_UPDATE_STALE]
    findings = []
    for row in rows("part", params):
        pk, label, owner, supplier, qty, promised, need, ppap_due, ppap_status, expires, capacity, last, rules = row
        need = need or default_need
        hits = []  # (rule, message, clear by)
        if rules & unsourced:
            hits.append((Rule.PART_UNSOURCED, f"no supplier yet, needed {need}", None))
        if rules & late:
            if promised is None and need < today:
                message = f"no promised date, needed {need} ({days_text((today - need).days)} overdue)"
            elif promised is None:
                message = f"no promised date, needed {need} (in {days_text((need - today).days)})"
            elif promised > need:
                message = f"promised {promised}, needed {need} ({days_text((promised - need).days)} late)"
            else:
                message = f"promised {promised}, needed {need}, not received ({days_text((today - need).days)} overdue)"
            hits.append((Rule.PART_LATE, message, promised + timedelta(days=lead_days) if promised else None))
        if rules & at_risk:
            margin = days_text((need - promised).days)
            hits.append((Rule.PART_AT_RISK, f"promised {promised}, needed {need} (only {margin} of margin)", None))
        if rules & rejected:
            hits.append((Rule.PPAP_REJECTED, "PPAP rejected", None))
        if rules & ppap_overdue:
            due = ppap_due or need - timedelta(days=ppap_lead)
            status = _PPAP_STATUS_TEXT[ppap_status]
            message = f"PPAP {status}, due {due} ({days_text((today - due).days)} overdue)"
            hits.append((Rule.PPAP_OVERDUE, message, None))
        if rules & interim:
            if expires is None:
                message = f"interim PPAP approval has no expiry date (must hold past {interim_limit})"
            else:
                message = f"interim PPAP approval expires {expires}, before {interim_limit} (SOP + 90 days)"
            hits.append((Rule.PPAP_INTERIM_EXPIRING, message, None))
        if rules & shortfall:
            message = (
                f"capacity {capacity:,}/week below {peak.month:%B %Y} demand of {peak.weekly_demand(qty):,}/week "
                f"({peak.planned_vehicles:,} vehicles × {qty} per vehicle)"
            )
            hits.append((Rule.CAPACITY_SHORTFALL, message, None))
        if rules & unconfirmed:
            hits.append(
                (Rule.CAPACITY_UNCONFIRMED, "supplier has not confirmed a weekly capacity for the ramp plan", None)
            )
        if rules & stale:
            last = _local_date(last, tz)
            ago, limit = days_text((today - last).days), days_text(stale_days)
            hits.append(
                (Rule.SUPPLIER_UPDATE_STALE, f"no supplier update since {last} ({ago} ago, limit {limit})", None)
            )
        owner = owner or program.owner_id
        for rule, message, clear_by in hits:
            findings.append(
                Finding(rule, ObjectType.PART, pk, label, f"{label}: {message}", owner, None, supplier, clear_by)
            )
    return findings


def _test_findings(scan: _Scan, params: dict) -> list[Finding]:
    program, today, sop = scan.program, scan.today, scan.program.sop_date
    failed, after_sop, overdue = _TEST[Rule.TEST_FAILED], _TEST[Rule.TEST_AFTER_SOP], _TEST[Rule.TEST_OVERDUE]
    findings = []
    for pk, label, owner, end, status, note, rules in rows("test", params):
        hits = []  # (rule, message, clear by)
        if rules & failed:
            hits.append(
                (Rule.TEST_FAILED, f"failed ({note}); required for SOP" if note else "failed; required for SOP", None)
            )
        if rules & after_sop:
            hits.append(
                (Rule.TEST_AFTER_SOP, f"planned to end {end}, {days_text((end - sop).days)} after SOP {sop}", end)
            )
        if rules & overdue:
            late = days_text((today - end).days)
            hits.append(
                (Rule.TEST_OVERDUE, f"planned to end {end} ({late} overdue), still {status.replace('_', ' ')}", end)
            )
        owner = owner or program.owner_id
        for rule, message, clear_by in hits:
            findings.append(
                Finding(rule, ObjectType.VALIDATION_TEST, pk, label, f"{label}: {message}", owner, None, None, clear_by)
            )
    return findings


def _item_findings(scan: _Scan, params: dict) -> list[Finding]:
    program, today, sop = scan.program, scan.today, scan.program.sop_date
    overdue, after_sop = _ITEM[Rule.HANDOVER_ITEM_OVERDUE], _ITEM[Rule.HANDOVER_ITEM_AFTER_SOP]
    findings = []
    for pk, label, owner, due, rules in rows("item", params):
        owner = owner or program.owner_id
        if rules & overdue:
            message = f"{label}: due {due} ({days_text((today - due).days)} overdue), not done"
            findings.append(
                Finding(
                    Rule.HANDOVER_ITEM_OVERDUE, ObjectType.HANDOVER_ITEM, pk, label, message, owner, None, None, due
                )
            )
        if rules & after_sop:
            message = f"{label}: due {due}, {days_text((due - sop).days)} after SOP {sop}"
            findings.append(
                Finding(
                    Rule.HANDOVER_ITEM_AFTER_SOP, ObjectType.HANDOVER_ITEM, pk, label, message, owner, None, None, due
                )
            )
    return findings


def _checklist_findings(scan: _Scan) -> list[Finding]:
    program, signoff_due = scan.program, scan.signoff_due
    if signoff_due > scan.today:
        return []
    findings = []
    for pk, area, rd_owner, production_owner, rd_missing, production_missing in rows(
        "checklist", {"program": program.pk}
    ):
        missing = [side for side, absent in (("R&D", rd_missing), ("production", production_missing)) if absent]
        label = f"Handover {area}"
        message = (
            f"{label}: {' and '.join(missing)} sign-off missing, due {signoff_due} (SOP − {program.signoff_days} days)"
        )
        owner = rd_owner or production_owner or program.owner_id
        co_owner = production_owner if rd_owner else None
        findings.append(
            Finding(Rule.HANDOVER_UNSIGNED, ObjectType.HANDOVER_CHECKLIST, pk, label, message, owner, co_owner)
        )
    return findings


def evaluate_program(program: Program, today: date) -> list[Finding]:
    """Every finding of every rule for one program as of `today`, in a constant number of queries."""
    scan = _Scan(program, today, peak_demand(program))
    params = statement_params(program, today, scan.peak)
    return [
        *_part_findings(scan, params),
        *_test_findings(scan, params),
        *_item_findings(scan, params),
        *_checklist_findings(scan),
    ]
