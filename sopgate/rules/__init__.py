"""The gate rules, top to bottom, as DOMAIN.md states them: `evaluate_program` finds every violation.

Each rule is ONE SQL condition on one kind of object, named after the rule (PART_RULES, TEST_RULES and
ITEM_RULES in `sql.py`). All rules of a kind are evaluated for a whole program in one hand-written,
parametrized statement that selects every object violating at least one rule, with one bit per rule
violated. Python here only turns those rows into findings whose message names the numbers. The number of
queries never depends on the program's size.

A scan (`violations`) reads just (id, rule bits, row hash) per violating object and fingerprints each violation
from the hash; it asks for the findings themselves (`findings_of`: label, owners, the facts of the message) only
for the violations that are new or whose fingerprint changed. `evaluate_program` gives every finding at once.

Hand-written rather than built with the ORM: compiling the ORM query (a Case/When per rule, repeated in the
filter and the annotations) took longer than the database took to run it.
"""

import math
import zlib
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import NamedTuple

from django.utils import timezone

from parts.choices import PPAPStatus
from validation.choices import TestStatus

from ..choices import RULE_SEVERITY, ObjectType, Rule
from ..models import Program
from .sql import (
    DETAILS,
    KINDS,
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


# Per rule, its name and severity as one stable int: a fingerprint covers the rule (part of the key) and
# the severity it is stored with.
_RULE_CODE = {rule: zlib.crc32(f"{rule}/{severity}".encode()) for rule, severity in _SEVERITY.items()}
# The rules whose messages may count days from today: their fingerprints change with the date, the others' don't.
_RULES_COUNTING_FROM_TODAY = frozenset(
    {
        Rule.PART_LATE,
        Rule.PPAP_OVERDUE,
        Rule.SUPPLIER_UPDATE_STALE,
        Rule.TEST_OVERDUE,
        Rule.HANDOVER_ITEM_OVERDUE,
    }
)
# 40 bits: a program's open blockers are compared by the SUM of their fingerprints (see program_scan), and
# SQLite refuses a sum past 63 bits; 2**23 blockers of 40 bits stay below that.
FINGERPRINT_BITS = 40
_FINGERPRINT_MASK = (1 << FINGERPRINT_BITS) - 1


class Violation(NamedTuple):
    """One rule violated by one object, as a scan first reads it. `fingerprint` is a hash of everything its
    blocker would store (rule, severity, object, label, message, owners, supplier, clear-by date), the same in
    every process: equal fingerprints, equal blockers. It hashes the database's hash of the object's row with
    the program's figures that the message may name, so the message itself need not be written to compare."""

    rule: str
    object_type: str
    object_id: int
    fingerprint: int


class Finding(NamedTuple):
    """One rule violated by one object, with what its blocker says. A tuple: a scan builds thousands, and a
    frozen dataclass took a third of the scan's Python time just to construct them.

    The message is written only when asked for (`message`). `facts` is (format, *its arguments): everything
    the message says besides the label. `fingerprint` is its `Violation`'s."""

    rule: str
    object_type: str
    object_id: int
    object_label: str
    owner_id: int | None
    co_owner_id: int | None
    supplier_id: int | None
    clear_by: date | None
    facts: tuple
    fingerprint: int

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

    @cached_property
    def rule_codes(self) -> dict[str, int]:
        """Per rule, a stable int of the rule, its severity and every figure of the program (and for the rules
        counting days, today) that its findings may state: owner by default, dates, limits, the peak step,
        the time zone. A violation's fingerprint is its rule's code XOR the row hash (as good a hash as either,
        and the cheapest way to combine them: a scan does it thousands of times), cut to FINGERPRINT_BITS."""
        program, peak = self.program, self.peak
        figures = hash(
            (
                program.owner_id or 0,
                program.sop_date.toordinal(),
                program.part_lead_days,
                program.ppap_lead_days,
                program.at_risk_days,
                program.stale_update_days,
                program.signoff_days,
                peak.month.toordinal() if peak else 0,
                peak.planned_vehicles if peak else 0,
                zlib.crc32(timezone.get_current_timezone_name().encode()),
            )
        )
        today = self.today.toordinal()
        return {
            rule: hash((code, figures, today if rule in _RULES_COUNTING_FROM_TODAY else 0))
            for rule, code in _RULE_CODE.items()
        }


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
# (number, *arguments). Written only on demand: a re-scan writes only the messages of new or changed findings.
# Dates are passed as ordinals (`_d` turns one back into a date).

_d = date.fromordinal

_FORMATS = (
    # 0 part_unsourced: need
    lambda label, need: f"{label}: no supplier yet, needed {_d(need)}",
    # 1 part_late, no promise, overdue: need, today
    lambda label, need, today: f"{label}: no promised date, needed {_d(need)} ({days_text(today - need)} overdue)",
    # 2 part_late, no promise, due soon: need, today
    lambda label, need, today: (
        f"{label}: no promised date, needed {_d(need)} ({f'in {days_text(need - today)}' if need > today else 'today'})"
    ),
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
# Other texts go into facts as their place in one of these tuples.
_PPAP_STATUS_CODES = {status.value: n for n, status in enumerate(PPAPStatus)}
_PPAP_STATUS_TEXTS = tuple(status.label.lower() for status in PPAPStatus)
_TEST_STATUS_CODES = {status.value: n for n, status in enumerate(TestStatus)}
_TEST_STATUS_TEXTS = tuple(status.value.replace("_", " ") for status in TestStatus)
_MISSING_SIGNOFFS = ("", "R&D", "production", "R&D and production")  # by bits: 1 R&D, 2 production

_REJECTED_FACTS, _UNCONFIRMED_FACTS, _FAILED_FACTS = (6,), (11,), (14,)


# --- Findings ----------------------------------------------------------------------------------------
#
# One loop per kind over the flagged rows (id, rule bits, row hash, *details); each rule that a row violates
# adds a finding with the facts of its message, through the row's `found(rule, clear_by, facts)`.

# Each kind's rules with the bit of each in its statement's rule bits (`bits`), as `sql.KINDS` lists them; the
# checklist statement flags its one rule as 1.
_KIND_RULES = {kind: bits(rules) if rules else {Rule.HANDOVER_UNSIGNED: 1} for kind, (*_, rules) in KINDS.items()}
_PART, _TEST, _ITEM = _KIND_RULES["part"], _KIND_RULES["test"], _KIND_RULES["item"]
_KIND_TYPES = {
    "part": ObjectType.PART,
    "test": ObjectType.VALIDATION_TEST,
    "item": ObjectType.HANDOVER_ITEM,
    "checklist": ObjectType.HANDOVER_CHECKLIST,
}
_TYPE_KINDS = {str(object_type): kind for kind, object_type in _KIND_TYPES.items()}


def _finder(scan: _Scan, object_type: str, pk: int, row_hash: int, label: str, owner, co_owner, supplier):
    """`found(rule, clear_by, facts)`: the finding of a rule for one row. (`new(Finding, (...))` is
    Finding(...) without the Python-level __new__ of a NamedTuple, which cost a third of building them.)"""
    codes, mask, new = scan.rule_codes, _FINGERPRINT_MASK, tuple.__new__

    def found(rule: str, clear_by: date | None, facts: tuple) -> Finding:
        fingerprint = (codes[rule] ^ row_hash) & mask  # see `_Scan.rule_codes`
        return new(Finding, (rule, object_type, pk, label, owner, co_owner, supplier, clear_by, facts, fingerprint))

    return found


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
    findings = []
    add = findings.append
    for row in part_rows:
        pk, rules, row_hash, label, owner, supplier, qty, promised, need, ppap_due, status, expires, capacity, last = (
            row
        )
        found = _finder(scan, ObjectType.PART, pk, row_hash, label, owner or program.owner_id, None, supplier)
        need = need or default_need
        need_o = need.toordinal()
        if rules & _PART[Rule.PART_UNSOURCED]:
            add(found(Rule.PART_UNSOURCED, None, (0, need_o)))
        if rules & _PART[Rule.PART_LATE]:
            if promised is None:
                add(found(Rule.PART_LATE, None, (1 if need < today else 2, need_o, today_o)))
            else:
                late = (
                    (3, promised.toordinal(), need_o) if promised > need else (4, promised.toordinal(), need_o, today_o)
                )
                add(found(Rule.PART_LATE, promised + lead_time, late))
        if rules & _PART[Rule.PART_AT_RISK]:
            add(found(Rule.PART_AT_RISK, None, (5, promised.toordinal(), need_o)))
        if rules & _PART[Rule.PPAP_REJECTED]:
            add(found(Rule.PPAP_REJECTED, None, _REJECTED_FACTS))
        if rules & _PART[Rule.PPAP_OVERDUE]:
            due = ppap_due.toordinal() if ppap_due else need_o - ppap_lead
            add(found(Rule.PPAP_OVERDUE, None, (7, _PPAP_STATUS_CODES[status], due, today_o)))
        if rules & _PART[Rule.PPAP_INTERIM_EXPIRING]:
            facts = (8, interim_limit) if expires is None else (9, expires.toordinal(), interim_limit)
            add(found(Rule.PPAP_INTERIM_EXPIRING, None, facts))
        if rules & _PART[Rule.CAPACITY_SHORTFALL]:
            facts = (10, capacity, peak.month.toordinal(), peak.weekly_demand(qty), peak.planned_vehicles, qty)
            add(found(Rule.CAPACITY_SHORTFALL, None, facts))
        if rules & _PART[Rule.CAPACITY_UNCONFIRMED]:
            add(found(Rule.CAPACITY_UNCONFIRMED, None, _UNCONFIRMED_FACTS))
        if rules & _PART[Rule.SUPPLIER_UPDATE_STALE]:
            add(found(Rule.SUPPLIER_UPDATE_STALE, None, (12, _local_date(last, tz).toordinal(), today_o, stale_days)))
    return findings


def _test_findings(scan: _Scan, test_rows: list[tuple]) -> list[Finding]:
    program, today, sop = scan.program, scan.today.toordinal(), scan.program.sop_date.toordinal()
    findings = []
    for pk, rules, row_hash, label, owner, end, status, note in test_rows:
        found = _finder(scan, ObjectType.VALIDATION_TEST, pk, row_hash, label, owner or program.owner_id, None, None)
        if rules & _TEST[Rule.TEST_FAILED]:
            findings.append(found(Rule.TEST_FAILED, None, (13, note) if note else _FAILED_FACTS))
        if rules & _TEST[Rule.TEST_AFTER_SOP]:
            findings.append(found(Rule.TEST_AFTER_SOP, end, (15, end.toordinal(), sop)))
        if rules & _TEST[Rule.TEST_OVERDUE]:
            findings.append(found(Rule.TEST_OVERDUE, end, (16, end.toordinal(), today, _TEST_STATUS_CODES[status])))
    return findings


def _item_findings(scan: _Scan, item_rows: list[tuple]) -> list[Finding]:
    program, today, sop = scan.program, scan.today.toordinal(), scan.program.sop_date.toordinal()
    findings = []
    for pk, rules, row_hash, label, owner, due in item_rows:
        found = _finder(scan, ObjectType.HANDOVER_ITEM, pk, row_hash, label, owner or program.owner_id, None, None)
        if rules & _ITEM[Rule.HANDOVER_ITEM_OVERDUE]:
            findings.append(found(Rule.HANDOVER_ITEM_OVERDUE, due, (17, due.toordinal(), today)))
        if rules & _ITEM[Rule.HANDOVER_ITEM_AFTER_SOP]:
            findings.append(found(Rule.HANDOVER_ITEM_AFTER_SOP, due, (18, due.toordinal(), sop)))
    return findings


def _checklist_findings(scan: _Scan, checklist_rows: list[tuple]) -> list[Finding]:
    program, signoff_due = scan.program, scan.signoff_due.toordinal()
    findings = []
    for pk, _, row_hash, area, rd_owner, production_owner, rd_missing, production_missing in checklist_rows:
        owner = rd_owner or production_owner or program.owner_id
        co_owner = production_owner if rd_owner else None
        found = _finder(scan, ObjectType.HANDOVER_CHECKLIST, pk, row_hash, f"Handover {area}", owner, co_owner, None)
        missing = bool(rd_missing) + 2 * bool(production_missing)
        findings.append(found(Rule.HANDOVER_UNSIGNED, None, (19, missing, signoff_due, program.signoff_days)))
    return findings


_FINDINGS_OF_KIND = {
    "part": _part_findings,
    "test": _test_findings,
    "item": _item_findings,
    "checklist": _checklist_findings,
}


def _kinds(program: Program, today: date) -> list[str]:
    """The kinds of objects a scan as of `today` looks at: checklists only from their sign-off due date on."""
    return ["part", "test", "item"] + (["checklist"] if _signoff_due(program) <= today else [])


def violations(program: Program, today: date) -> list[Violation]:
    """Every violation of every rule for one program as of `today`, in one query (see `batch`)."""
    return violations_after((), {}, program, today)[1]


def violations_after(
    first: tuple[str, ...], params: dict, program: Program, today: date
) -> tuple[list[list[tuple]], list[Violation]]:
    """`violations`, with other statements (`first`, taking `params`) run before them in the same round trip:
    the rows of those, and the violations."""
    kinds = _kinds(program, today)
    first_rows, peak, kind_rows = _run(program, today, kinds, first=first, params=params)
    return first_rows, _violations(_Scan(program, today, peak), kinds, kind_rows)


# Per program, the peak step of its ramp plan as this process last read it (None: no plan). The rule statements
# take the peak as parameters: sent with the statement that reads the ramp plan, in the same round trip, with the
# peak as last read, and run again in the rare case the plan read says otherwise. The peak as subqueries in
# the part statement instead took a fifth of its time (eight of them, to plan and run).
_PEAKS: dict[int, PeakDemand | None] = {}
_UNKNOWN = object()


def _run(
    program: Program, today: date, kinds: list[str], *, first=(), params=None, only=None
) -> tuple[list[list[tuple]], PeakDemand | None, list[list[tuple]]]:
    """Run the `first` statements, the ramp plan's and the `kinds`' (see `batch`): the rows of the first ones,
    the peak step, and the rows of each kind, read with that peak."""
    assumed = _PEAKS.get(program.pk, _UNKNOWN)
    if assumed is _UNKNOWN:  # the first time: the ramp plan, then the rules
        *first_rows, ramp_rows = batch(["ramp"], {**(params or {}), "program": program.pk}, first=first)
        peak = _peak(ramp_rows)
        kind_rows = batch(kinds, statement_params(program, today, peak), only=only)
    else:
        results = batch(
            ["ramp", *kinds], {**(params or {}), **statement_params(program, today, assumed)}, first=first, only=only
        )
        first_rows, (ramp_rows, *kind_rows) = results[: len(first)], results[len(first) :]
        peak = _peak(ramp_rows)
        if peak != assumed:
            kind_rows = batch(kinds, statement_params(program, today, peak), only=only)
    _PEAKS[program.pk] = peak
    return first_rows, peak, kind_rows


def _violations(scan: _Scan, kinds: list[str], kind_rows: list[list[tuple]]) -> list[Violation]:
    """The violations of the rows (id, rule bits, row hash) of each kind's statement."""
    codes, mask, new = scan.rule_codes, _FINGERPRINT_MASK, tuple.__new__
    found: list[Violation] = []
    add = found.append
    for kind, object_rows in zip(kinds, kind_rows, strict=True):
        object_type, rules_of_bits = _KIND_TYPES[kind], _RulesOfBits(_KIND_RULES[kind], codes)
        for pk, rules, row_hash in object_rows:
            # new(Violation, ...) is Violation(...) without the Python-level __new__ of a NamedTuple: most of
            # the cost of building the thousands of violations of a scan. The fingerprint: see `_Scan.rule_codes`.
            for rule, code in rules_of_bits[rules]:
                add(new(Violation, (rule, object_type, pk, (code ^ row_hash) & mask)))
    return found


class _RulesOfBits(dict):
    """rule bits -> ((rule, its code), ...) of the rules they set; each combination worked out once."""

    def __init__(self, bit_of: dict[str, int], codes: dict[str, int]):
        super().__init__()
        self._bit_of, self._codes = bit_of, codes

    def __missing__(self, rules: int) -> tuple:
        value = self[rules] = tuple((rule, self._codes[rule]) for rule, bit in self._bit_of.items() if rules & bit)
        return value


def findings_of(program: Program, today: date, keys) -> dict[tuple[str, str, int], Finding]:
    """The findings, by key, of the given (rule, object_type, object_id) keys that still hold as of `today`:
    one query, for just those objects."""
    ids: dict[str, set[int]] = {}
    for _, object_type, object_id in keys:
        ids.setdefault(_TYPE_KINDS[object_type], set()).add(object_id)
    kinds = [kind for kind in _kinds(program, today) if kind in ids]
    if not kinds:
        return {}
    wanted = set(keys)
    only = {kind: sorted(ids[kind]) for kind in kinds}
    return {finding.key: finding for finding in _evaluate(program, today, kinds, only) if finding.key in wanted}


def evaluate_program(program: Program, today: date) -> list[Finding]:
    """Every finding of every rule for one program as of `today`, with its message, in one query."""
    return _evaluate(program, today, _kinds(program, today))


def _evaluate(program: Program, today: date, kinds: list[str], only: dict | None = None) -> list[Finding]:
    _, peak, kind_rows = _run(program, today, [f"{kind}{DETAILS}" for kind in kinds], only=only)
    scan = _Scan(program, today, peak)
    findings = []
    for kind, object_rows in zip(kinds, kind_rows, strict=True):
        findings.extend(_FINDINGS_OF_KIND[kind](scan, object_rows))
    return findings
