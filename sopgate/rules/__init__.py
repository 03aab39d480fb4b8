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
import zlib
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from django.utils import timezone

from parts.choices import PPAPStatus
from validation.choices import TestStatus

from ..choices import RULE_SEVERITY, ObjectType, Rule
from ..models import Program
from .sql import (
    ITEM_RULES,
    PART_RULES,
    TEST_RULES,
    batch,
    bits,
    default_need_date,
    interim_limit,
    rows,
    statement_params,
)

# Blocking rules whose blocker has no date to clear by: while one is open, the forecast SOP date is unknown.
FORECAST_UNKNOWN_RULES = frozenset({Rule.PART_UNSOURCED, Rule.TEST_FAILED})

_SEVERITY = {str(rule): str(severity) for rule, severity in RULE_SEVERITY.items()}


def _stable(value) -> int:
    """A value of a finding as an int whose hash() is the same in every process: hash() of a str, a date or
    None changes from one process to the next, hash() of an int never does."""
    kind = type(value)
    if kind is int:
        return value
    if kind is date:
        return value.toordinal()
    if value is None:
        return -1
    return zlib.crc32(str(value).encode())


# Per rule, its name and severity as one stable int: a fingerprint covers the rule (part of the key) and
# the severity it is stored with.
_RULE_CODE = {rule: zlib.crc32(f"{rule}/{severity}".encode()) for rule, severity in _SEVERITY.items()}
# 40 bits: a program's open blockers are compared by the SUM of their fingerprints (see program_scan), and
# SQLite refuses a sum past 63 bits; 2**23 blockers of 40 bits stay below that.
FINGERPRINT_BITS = 40
_FINGERPRINT_MASK = (1 << FINGERPRINT_BITS) - 1


class Finding(NamedTuple):
    """One rule violated by one object. A tuple: a scan builds thousands, and a frozen dataclass took a
    third of the scan's Python time just to construct them.

    The message is written only when asked for (`message`): a re-scan compares `fingerprint`s instead, and
    writes the messages of the few findings that changed. `facts` is (format, *its arguments): everything
    the message says besides the label."""

    rule: str
    object_type: str
    object_id: int
    object_label: str
    owner_id: int | None
    co_owner_id: int | None
    supplier_id: int | None
    clear_by: date | None
    facts: tuple

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.rule, self.object_type, self.object_id)

    @property
    def severity(self) -> str:
        return _SEVERITY[self.rule]

    @property
    def message(self) -> str:
        facts = self.facts
        return _FORMATS[facts[0]](self.object_label, *facts[1:])

    @property
    def fingerprint(self) -> int:
        """A hash of everything a blocker stores (rule, object, severity, label, message, owners, supplier,
        clear-by date), the same in every process: equal fingerprints, equal blockers."""
        return fingerprints([self])[0]


def fingerprints(findings: list[Finding]) -> list[int]:
    """`Finding.fingerprint` of each finding, in one comprehension: a re-scan fingerprints thousands of findings,
    and a property call and the global lookups per finding were a third of that. hash() of an int or a tuple
    of ints is the same in every process; of None, a str or a date it is not, hence `or 0`, crc32 and ordinals."""
    rule_codes, text_formats, stable, crc32, mask = _RULE_CODE, _TEXT_FORMATS, _stable, zlib.crc32, _FINGERPRINT_MASK
    return [
        hash(
            (
                rule_codes[rule],
                object_id,
                crc32(label.encode()),
                owner or 0,
                co_owner or 0,
                supplier or 0,
                clear_by.toordinal() if clear_by else 0,
                tuple(map(stable, facts)) if facts[0] in text_formats else facts,
            )
        )
        & mask
        for rule, _, object_id, label, owner, co_owner, supplier, clear_by, facts in findings
    ]


@dataclass(frozen=True)
class PeakDemand:
    """The ramp step with the highest weekly vehicle rate: every part's capacity is checked against it."""

    month: date
    planned_vehicles: int
    days_in_month: int

    def weekly_demand(self, qty_per_vehicle: int) -> int:
        return math.ceil(self.planned_vehicles * qty_per_vehicle * 7 / self.days_in_month)


def peak_demand(program: Program) -> PeakDemand | None:
    return _peak(rows("ramp", {"program": program.pk}))


def _peak(ramp_rows: list[tuple]) -> PeakDemand | None:
    steps = [PeakDemand(month, vehicles, monthrange(month.year, month.month)[1]) for month, vehicles in ramp_rows]
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
        return _signoff_due(self.program)


def _signoff_due(program: Program) -> date:
    return program.sop_date - timedelta(days=program.signoff_days)


def _local_date(text: str, tz) -> date:
    """The local date of a timestamp read as text: PostgreSQL writes it with its UTC offset, SQLite stores
    UTC without one."""
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz).date()


# --- Messages ----------------------------------------------------------------------------------------
#
# One format per way a rule words its message, numbered by its place in _FORMATS; a finding's `facts` are
# (number, *arguments). Written only on demand: a re-scan with nothing new writes none. Dates are passed as
# ordinals (`_d` turns one back into a date), so that most facts are ints only and fingerprint fast.

_d = date.fromordinal

_FORMATS = (
    # 0 part_unsourced: need
    lambda label, need: f"{label}: no supplier yet, needed {_d(need)}",
    # 1 part_late, no promise, overdue: need, today
    lambda label, need, today: f"{label}: no promised date, needed {_d(need)} ({days_text(today - need)} overdue)",
    # 2 part_late, no promise, due soon: need, today
    lambda label, need, today: f"{label}: no promised date, needed {_d(need)} (in {days_text(need - today)})",
    # 3 part_late, promised after need: promised, need
    lambda label, promised, need: (
        f"{label}: promised {_d(promised)}, needed {_d(need)} ({days_text(promised - need)} late)"
    ),
    # 4 part_late, promised in time but overdue: promised, need, today
    lambda label, promised, need, today: (
        f"{label}: promised {_d(promised)}, needed {_d(need)}, not received ({days_text(today - need)} overdue)"
    ),
    # 5 part_at_risk: promised, need
    lambda label, promised, need: (
        f"{label}: promised {_d(promised)}, needed {_d(need)} (only {days_text(need - promised)} of margin)"
    ),
    # 6 ppap_rejected
    lambda label: f"{label}: PPAP rejected",
    # 7 ppap_overdue: status (its place in _PPAP_STATUS_TEXTS), due, today
    lambda label, status, due, today: (
        f"{label}: PPAP {_PPAP_STATUS_TEXTS[status]}, due {_d(due)} ({days_text(today - due)} overdue)"
    ),
    # 8 ppap_interim_expiring, no expiry: limit
    lambda label, limit: f"{label}: interim PPAP approval has no expiry date (must hold past {_d(limit)})",
    # 9 ppap_interim_expiring: expires, limit
    lambda label, expires, limit: (
        f"{label}: interim PPAP approval expires {_d(expires)}, before {_d(limit)} (SOP + 90 days)"
    ),
    # 10 capacity_shortfall: capacity, peak month, weekly demand, peak vehicles, qty per vehicle
    lambda label, capacity, month, demand, vehicles, qty: (
        f"{label}: capacity {capacity:,}/week below {_d(month):%B %Y} demand of {demand:,}/week "
        f"({vehicles:,} vehicles × {qty} per vehicle)"
    ),
    # 11 capacity_unconfirmed
    lambda label: f"{label}: supplier has not confirmed a weekly capacity for the ramp plan",
    # 12 supplier_update_stale: last update, today, limit in days
    lambda label, last, today, limit: (
        f"{label}: no supplier update since {_d(last)} ({days_text(today - last)} ago, limit {days_text(limit)})"
    ),
    # 13 test_failed with a note: note
    lambda label, note: f"{label}: failed ({note}); required for SOP",
    # 14 test_failed without a note
    lambda label: f"{label}: failed; required for SOP",
    # 15 test_after_sop: planned end, sop
    lambda label, end, sop: f"{label}: planned to end {_d(end)}, {days_text(end - sop)} after SOP {_d(sop)}",
    # 16 test_overdue: planned end, today, status (its place in _TEST_STATUS_TEXTS)
    lambda label, end, today, status: (
        f"{label}: planned to end {_d(end)} ({days_text(today - end)} overdue), still {_TEST_STATUS_TEXTS[status]}"
    ),
    # 17 handover_item_overdue: due, today
    lambda label, due, today: f"{label}: due {_d(due)} ({days_text(today - due)} overdue), not done",
    # 18 handover_item_after_sop: due, sop
    lambda label, due, sop: f"{label}: due {_d(due)}, {days_text(due - sop)} after SOP {_d(sop)}",
    # 19 handover_unsigned: sides missing (its place in _MISSING_SIGNOFFS), sign-off due, sign-off days
    lambda label, missing, due, days: (
        f"{label}: {_MISSING_SIGNOFFS[missing]} sign-off missing, due {_d(due)} (SOP − {days} days)"
    ),
)
# The formats whose facts hold text: hash() of a str changes from one process to the next. Other texts
# go into facts as their place in one of these tuples.
_TEXT_FORMATS = frozenset({13})
_PPAP_STATUS_CODES = {status.value: n for n, status in enumerate(PPAPStatus)}
_PPAP_STATUS_TEXTS = tuple(status.label.lower() for status in PPAPStatus)
_TEST_STATUS_CODES = {status.value: n for n, status in enumerate(TestStatus)}
_TEST_STATUS_TEXTS = tuple(status.value.replace("_", " ") for status in TestStatus)
_MISSING_SIGNOFFS = ("", "R&D", "production", "R&D and production")  # by bits: 1 R&D, 2 production

_REJECTED_FACTS, _UNCONFIRMED_FACTS, _FAILED_FACTS = (6,), (11,), (14,)


# --- Findings ----------------------------------------------------------------------------------------
#
# One loop per kind over the flagged rows; each rule that a row violates adds a finding with the facts of
# its message. `new(Finding, (...))` is Finding(...) without the Python-level __new__ of a NamedTuple:
# a third of the cost of building the thousands of findings of a scan.

_PART = bits(PART_RULES)
_TEST = bits(TEST_RULES)
_ITEM = bits(ITEM_RULES)


def _part_findings(scan: _Scan, part_rows: list[tuple]) -> list[Finding]:
    program, today, peak = scan.program, scan.today, scan.peak
    today_o = today.toordinal()
    default_need, lead_time, ppap_lead = (
        scan.default_need_date,
        timedelta(program.part_lead_days),
        program.ppap_lead_days,
    )
    interim_limit, stale_days, tz = (
        scan.interim_limit.toordinal(),
        program.stale_update_days,
        timezone.get_current_timezone(),
    )
    unsourced, late, at_risk = _PART[Rule.PART_UNSOURCED], _PART[Rule.PART_LATE], _PART[Rule.PART_AT_RISK]
    rejected, ppap_overdue = _PART[Rule.PPAP_REJECTED], _PART[Rule.PPAP_OVERDUE]
    interim, shortfall = _PART[Rule.PPAP_INTERIM_EXPIRING], _PART[Rule.CAPACITY_SHORTFALL]
    unconfirmed, stale = _PART[Rule.CAPACITY_UNCONFIRMED], _PART[Rule.SUPPLIER_UPDATE_STALE]
    part_type = ObjectType.PART
    owner_default = program.owner_id
    findings = []
    add, new = findings.append, tuple.__new__
    for row in part_rows:
        pk, label, owner, supplier, qty, promised, need, ppap_due, ppap_status, expires, capacity, last, rules = row
        need = need or default_need
        need_o = need.toordinal()
        owner = owner or owner_default
        if rules & unsourced:
            add(new(Finding, (Rule.PART_UNSOURCED, part_type, pk, label, owner, None, supplier, None, (0, need_o))))
        if rules & late:
            if promised is None:
                facts = (1 if need < today else 2, need_o, today_o)
                clear_by = None
            else:
                facts = (
                    (3, promised.toordinal(), need_o) if promised > need else (4, promised.toordinal(), need_o, today_o)
                )
                clear_by = promised + lead_time
            add(new(Finding, (Rule.PART_LATE, part_type, pk, label, owner, None, supplier, clear_by, facts)))
        if rules & at_risk:
            facts = (5, promised.toordinal(), need_o)
            add(new(Finding, (Rule.PART_AT_RISK, part_type, pk, label, owner, None, supplier, None, facts)))
        if rules & rejected:
            add(new(Finding, (Rule.PPAP_REJECTED, part_type, pk, label, owner, None, supplier, None, _REJECTED_FACTS)))
        if rules & ppap_overdue:
            due = ppap_due.toordinal() if ppap_due else need_o - ppap_lead
            facts = (7, _PPAP_STATUS_CODES[ppap_status], due, today_o)
            add(new(Finding, (Rule.PPAP_OVERDUE, part_type, pk, label, owner, None, supplier, None, facts)))
        if rules & interim:
            facts = (8, interim_limit) if expires is None else (9, expires.toordinal(), interim_limit)
            add(new(Finding, (Rule.PPAP_INTERIM_EXPIRING, part_type, pk, label, owner, None, supplier, None, facts)))
        if rules & shortfall:
            facts = (10, capacity, peak.month.toordinal(), peak.weekly_demand(qty), peak.planned_vehicles, qty)
            add(new(Finding, (Rule.CAPACITY_SHORTFALL, part_type, pk, label, owner, None, supplier, None, facts)))
        if rules & unconfirmed:
            facts = _UNCONFIRMED_FACTS
            add(new(Finding, (Rule.CAPACITY_UNCONFIRMED, part_type, pk, label, owner, None, supplier, None, facts)))
        if rules & stale:
            facts = (12, _local_date(last, tz).toordinal(), today_o, stale_days)
            add(new(Finding, (Rule.SUPPLIER_UPDATE_STALE, part_type, pk, label, owner, None, supplier, None, facts)))
    return findings


def _test_findings(scan: _Scan, test_rows: list[tuple]) -> list[Finding]:
    program, today, sop = scan.program, scan.today.toordinal(), scan.program.sop_date.toordinal()
    failed, after_sop, overdue = _TEST[Rule.TEST_FAILED], _TEST[Rule.TEST_AFTER_SOP], _TEST[Rule.TEST_OVERDUE]
    test_type, owner_default = ObjectType.VALIDATION_TEST, program.owner_id
    findings = []
    add, new = findings.append, tuple.__new__
    for pk, label, owner, end, status, note, rules in test_rows:
        owner = owner or owner_default
        if rules & failed:
            facts = (13, note) if note else _FAILED_FACTS
            add(new(Finding, (Rule.TEST_FAILED, test_type, pk, label, owner, None, None, None, facts)))
        if rules & after_sop:
            facts = (15, end.toordinal(), sop)
            add(new(Finding, (Rule.TEST_AFTER_SOP, test_type, pk, label, owner, None, None, end, facts)))
        if rules & overdue:
            facts = (16, end.toordinal(), today, _TEST_STATUS_CODES[status])
            add(new(Finding, (Rule.TEST_OVERDUE, test_type, pk, label, owner, None, None, end, facts)))
    return findings


def _item_findings(scan: _Scan, item_rows: list[tuple]) -> list[Finding]:
    program, today, sop = scan.program, scan.today.toordinal(), scan.program.sop_date.toordinal()
    overdue, after_sop = _ITEM[Rule.HANDOVER_ITEM_OVERDUE], _ITEM[Rule.HANDOVER_ITEM_AFTER_SOP]
    item_type, owner_default = ObjectType.HANDOVER_ITEM, program.owner_id
    findings = []
    add, new = findings.append, tuple.__new__
    for pk, label, owner, due, rules in item_rows:
        owner = owner or owner_default
        due_o = due.toordinal()
        if rules & overdue:
            add(
                new(
                    Finding,
                    (Rule.HANDOVER_ITEM_OVERDUE, item_type, pk, label, owner, None, None, due, (17, due_o, today)),
                )
            )
        if rules & after_sop:
            add(
                new(
                    Finding,
                    (Rule.HANDOVER_ITEM_AFTER_SOP, item_type, pk, label, owner, None, None, due, (18, due_o, sop)),
                )
            )
    return findings


def _checklist_findings(scan: _Scan, checklist_rows: list[tuple]) -> list[Finding]:
    program, signoff_due = scan.program, scan.signoff_due
    findings = []
    for pk, area, rd_owner, production_owner, rd_missing, production_missing in checklist_rows:
        owner = rd_owner or production_owner or program.owner_id
        co_owner = production_owner if rd_owner else None
        facts = (19, bool(rd_missing) + 2 * bool(production_missing), signoff_due.toordinal(), program.signoff_days)
        findings.append(
            Finding(
                Rule.HANDOVER_UNSIGNED,
                ObjectType.HANDOVER_CHECKLIST,
                pk,
                f"Handover {area}",
                owner,
                co_owner,
                None,
                None,
                facts,
            )
        )
    return findings


def evaluate_program(program: Program, today: date) -> list[Finding]:
    """Every finding of every rule for one program as of `today`, in a constant number of queries."""
    # Checklists are found unsigned only from their sign-off due date on.
    kinds = ["ramp", "part", "test", "item"] + (["checklist"] if _signoff_due(program) <= today else [])
    ramp_rows, part_rows, test_rows, item_rows, *checklist_rows = batch(kinds, statement_params(program, today))
    scan = _Scan(program, today, _peak(ramp_rows))
    return [
        *_part_findings(scan, part_rows),
        *_test_findings(scan, test_rows),
        *_item_findings(scan, item_rows),
        *_checklist_findings(scan, checklist_rows[0] if checklist_rows else []),
    ]
