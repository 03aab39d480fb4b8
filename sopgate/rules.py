"""The gate rules, top to bottom, as DOMAIN.md states them.

Each rule is ONE SQL condition on one kind of object, named after the rule: PART_RULES, TEST_RULES and
ITEM_RULES below. All rules of a kind are evaluated for a whole program in one hand-written, parametrized
statement that selects every object violating at least one rule, with one flag per rule. Python only turns
the flagged rows into findings whose message names the numbers. The number of queries never depends on the
program's size.

Hand-written rather than built with the ORM: compiling the ORM query (a Case/When per rule, repeated in the
filter and the annotations) took longer than the database took to run it. The statements run on PostgreSQL
and SQLite alike: dates are compared with per-program constants computed in Python (`_params`), and the one
per-row date offset goes through `_minus_days`. Tables and columns are named through the models' _meta
(`{part.need_date}`), so a renamed field breaks the scan loudly instead of silently.
"""

import math
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from parts.choices import PPAP_ACCEPTED, PPAPStatus
from parts.models import Part
from validation.choices import TEST_DONE, TEST_RUNNING, TestStatus
from validation.models import HandoverChecklist, HandoverItem, ValidationTest

from .choices import RULE_SEVERITY, ObjectType, Rule
from .models import Program, RampStep

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
        for month, vehicles in _rows("ramp", {"program": program.pk})
    ]
    # Highest vehicles per day; ceil() keeps that order, so this step also has the highest weekly demand.
    return max(steps, key=lambda s: (s.planned_vehicles / s.days_in_month, s.month), default=None)


def _d(value: date | None) -> str:
    return value.isoformat() if value else "none"


def days_text(n: int) -> str:
    return f"{n} day" if abs(n) == 1 else f"{n} days"


# --- The rules ---------------------------------------------------------------------------------------
#
# `{part.need_date}` is a column, `{need}` a shorthand defined just above the rules (and
# `{need_minus_at_risk_days}`, written per database by `_minus_days`), `{part_late}` another
# rule's condition, `{rejected}` a choice value, `%(today)s` a parameter (see `_params`). NULL counts as false.

PART_TERMS = {
    "open": "{part.received_on} IS NULL",
    "need": "COALESCE({part.need_date}, %(default_need_date)s)",
    # As text: the database driver turns text into a datetime ten times faster than it reads a timestamp.
    "last_update_text": "CAST(COALESCE({part.last_supplier_update_at}, {part.created_at}) AS TEXT)",
}
PART_RULES = {
    Rule.PART_UNSOURCED: "{part.supplier} IS NULL",
    Rule.PART_LATE: (
        "{open} AND ({part.promised_date} > {need} OR {need} < %(today)s"
        " OR ({part.promised_date} IS NULL AND {need} <= %(at_risk_horizon)s))"
    ),
    Rule.PART_AT_RISK: (
        "{open} AND NOT {part_late} AND {part.promised_date} IS NOT NULL"
        " AND {part.promised_date} >= {need_minus_at_risk_days}"
    ),
    Rule.PPAP_REJECTED: "{part.ppap_status} = {rejected}",
    # PPAP due < today, where a missing due date is need - ppap_lead_days, i.e. need < today + ppap_lead_days.
    Rule.PPAP_OVERDUE: (
        "{part.ppap_status} NOT IN ({accepted})"
        " AND COALESCE({part.ppap_due_date} < %(today)s, {need} < %(ppap_need_before)s)"
    ),
    Rule.PPAP_INTERIM_EXPIRING: (
        "{part.ppap_status} = {interim_approved}"
        " AND ({part.interim_expires_on} IS NULL OR {part.interim_expires_on} < %(interim_limit)s)"
    ),
    # capacity < ceil(demand) <=> capacity < demand for whole units; compared without division, in 64 bits
    # (a capacity of a few million a week times 31 days overflows 32 and PostgreSQL would refuse the scan).
    Rule.CAPACITY_SHORTFALL: (
        "%(has_ramp_plan)s AND {part.capacity_per_week} IS NOT NULL"
        " AND CAST({part.capacity_per_week} AS BIGINT) * %(peak_days_in_month)s"
        " < CAST({part.qty_per_vehicle} AS BIGINT) * %(peak_vehicles_times_7)s"
    ),
    Rule.CAPACITY_UNCONFIRMED: "%(has_ramp_plan)s AND {part.capacity_per_week} IS NULL",
    Rule.SUPPLIER_UPDATE_STALE: (
        "{open} AND {part.supplier} IS NOT NULL"
        " AND COALESCE({part.last_supplier_update_at}, {part.created_at}) < %(stale_before)s"
    ),
}

TEST_RULES = {
    Rule.TEST_FAILED: "{test.status} = {failed}",
    Rule.TEST_AFTER_SOP: "{test.status} NOT IN ({done}) AND {test.planned_end} > %(sop)s",
    Rule.TEST_OVERDUE: "{test.status} IN ({running}) AND {test.planned_end} < %(today)s",
}

ITEM_RULES = {
    Rule.HANDOVER_ITEM_OVERDUE: "{item.due_date} < %(today)s",
    Rule.HANDOVER_ITEM_AFTER_SOP: "{item.due_date} > %(sop)s",
}

# Each statement selects the objects of one program that violate some rule, with `{rules}`: one bit per rule
# violated, in the order of the rules above (see `_bits`).

PART_SQL = """
SELECT {part.id}, {part.name} || ' ' || {part.part_number} || ' rev ' || {part.revision}, {part.owner},
       {part.supplier}, {part.qty_per_vehicle}, {part.promised_date}, {part.need_date}, {part.ppap_due_date},
       {part.ppap_status}, {part.interim_expires_on}, {part.capacity_per_week},
       CASE WHEN {supplier_update_stale} THEN {last_update_text} END,
       {rules}
FROM {part.table}
WHERE {part.program} = %(program)s AND ({any_rule})
ORDER BY {part.id}"""

TEST_SQL = """
SELECT {test.id}, 'Test ' || {test.code} || ' ' || {test.name}, {test.owner}, {test.planned_end}, {test.status},
       {test.result_note}, {rules}
FROM {test.table}
WHERE {test.program} = %(program)s AND {test.required_for_sop} AND ({any_rule})
ORDER BY {test.id}"""

ITEM_SQL = """
SELECT {item.id}, {checklist.area} || ': ' || {item.title}, {item.responsible}, {item.due_date}, {rules}
FROM {item.table} JOIN {checklist.table} ON {checklist.id} = {item.checklist}
WHERE {checklist.program} = %(program)s AND {item.required} AND {item.done_at} IS NULL AND ({any_rule})
ORDER BY {item.id}"""

CHECKLIST_SQL = """
SELECT {checklist.id}, {checklist.area}, {checklist.rd_owner}, {checklist.production_owner},
       {checklist.rd_signed_off_at} IS NULL, {checklist.production_signed_off_at} IS NULL
FROM {checklist.table}
WHERE {checklist.program} = %(program)s
  AND ({checklist.rd_signed_off_at} IS NULL OR {checklist.production_signed_off_at} IS NULL)
ORDER BY {checklist.id}"""

RAMP_SQL = """
SELECT {ramp.month}, {ramp.planned_vehicles} FROM {ramp.table} WHERE {ramp.program} = %(program)s"""


# --- Assembling the statements -------------------------------------------------------------------------


class _Columns:
    """`{part.need_date}`: the quoted column of a model field, qualified by the table's alias; `{part.table}`:
    the quoted table and its alias. An unknown field name raises FieldDoesNotExist."""

    def __init__(self, model, alias: str):
        self._model, self._alias = model, alias

    def __getattr__(self, name: str) -> str:
        quote = connection.ops.quote_name
        if name == "table":
            return f"{quote(self._model._meta.db_table)} {self._alias}"
        return f"{self._alias}.{quote(self._model._meta.get_field(name).column)}"


def _sql_strings(values) -> str:
    # Choice values are plain identifiers; checked anyway, since they are written into the statement.
    assert all(str(v).replace("_", "").isalnum() for v in values), values
    return ", ".join(f"'{v}'" for v in sorted(values))


def _minus_days(expression: str, days_parameter: str) -> str:
    """`expression - n days` for a date expression: PostgreSQL subtracts an integer from a date natively,
    SQLite needs its date() modifier (the parameter `<name>_modifier` holds "-n days")."""
    if connection.vendor == "sqlite":
        return f"date({expression}, %({days_parameter}_modifier)s)"
    return f"({expression} - %({days_parameter})s)"


def _bits(rules: dict) -> dict[str, int]:
    return {rule: 1 << n for n, rule in enumerate(rules)}


def _with_rules(select: str, rules: dict[str, str], names: dict) -> str:
    """`select` with its rule conditions: `{rules}`, the bits of the rules violated, and `{any_rule}`.

    A rule may use the rules before it by name (`{part_late}`), and `select` any rule."""
    names = dict(names)
    for rule, template in rules.items():
        names[rule] = f"({template.format_map(names)})"
    bits = " + ".join(f"CASE WHEN {names[rule]} THEN {bit} ELSE 0 END" for rule, bit in _bits(rules).items())
    return select.format_map({**names, "rules": bits, "any_rule": " OR ".join(names[rule] for rule in rules)})


@cache
def _statements(vendor: str) -> dict[str, str]:
    names = {
        "part": _Columns(Part, "p"),
        "test": _Columns(ValidationTest, "t"),
        "item": _Columns(HandoverItem, "i"),
        "checklist": _Columns(HandoverChecklist, "c"),
        "ramp": _Columns(RampStep, "r"),
        "rejected": _sql_strings([PPAPStatus.REJECTED]),
        "interim_approved": _sql_strings([PPAPStatus.INTERIM_APPROVED]),
        "accepted": _sql_strings(PPAP_ACCEPTED),
        "failed": _sql_strings([TestStatus.FAILED]),
        "done": _sql_strings(TEST_DONE),
        "running": _sql_strings(TEST_RUNNING),
    }
    for term, template in PART_TERMS.items():
        names[term] = template.format_map(names)
    names["need_minus_at_risk_days"] = _minus_days(names["need"], "at_risk_days")
    return {
        "part": _with_rules(PART_SQL, PART_RULES, names),
        "test": _with_rules(TEST_SQL, TEST_RULES, names),
        "item": _with_rules(ITEM_SQL, ITEM_RULES, names),
        "checklist": CHECKLIST_SQL.format_map(names),
        "ramp": RAMP_SQL.format_map(names),
    }


@dataclass(frozen=True)
class _Scan:
    """One program's scan as of `today`: the dates every rule compares with, computed once."""

    program: Program
    today: date
    peak: PeakDemand | None

    @property
    def default_need_date(self) -> date:
        return self.program.sop_date - timedelta(days=self.program.part_lead_days)

    @property
    def interim_limit(self) -> date:
        return self.program.sop_date + timedelta(days=90)

    @property
    def signoff_due(self) -> date:
        return self.program.sop_date - timedelta(days=self.program.signoff_days)


def _params(scan: _Scan) -> dict:
    program, today, peak = scan.program, scan.today, scan.peak
    ops = connection.ops
    day = ops.adapt_datefield_value
    return {
        "program": program.pk,
        "today": day(today),
        "sop": day(program.sop_date),
        "default_need_date": day(scan.default_need_date),
        "at_risk_horizon": day(today + timedelta(days=program.at_risk_days)),
        "at_risk_days": program.at_risk_days,
        "at_risk_days_modifier": f"-{program.at_risk_days} days",
        "ppap_need_before": day(today + timedelta(days=program.ppap_lead_days)),
        "interim_limit": day(scan.interim_limit),
        "has_ramp_plan": peak is not None,
        "peak_days_in_month": peak.days_in_month if peak else 1,
        "peak_vehicles_times_7": peak.planned_vehicles * 7 if peak else 0,
        "stale_before": ops.adapt_datetimefield_value(
            timezone.make_aware(datetime.combine(today - timedelta(days=program.stale_update_days), time.min))
        ),
    }


def _rows(kind: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_statements(connection.vendor)[kind], params)
        return cursor.fetchall()


def _local_date(text: str, tz) -> date:
    """The local date of a timestamp read as text: PostgreSQL writes it with its UTC offset, SQLite stores
    UTC without one."""
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz).date()


# --- Findings ----------------------------------------------------------------------------------------
#
# One loop per kind over the flagged rows; each rule that a row violates adds a finding with its message.

_PART = _bits(PART_RULES)
_TEST = _bits(TEST_RULES)
_ITEM = _bits(ITEM_RULES)
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
    for row in _rows("part", params):
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
    for pk, label, owner, end, status, note, rules in _rows("test", params):
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
    for pk, label, owner, due, rules in _rows("item", params):
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
    for pk, area, rd_owner, production_owner, rd_missing, production_missing in _rows(
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
    params = _params(scan)
    return [
        *_part_findings(scan, params),
        *_test_findings(scan, params),
        *_item_findings(scan, params),
        *_checklist_findings(scan),
    ]
