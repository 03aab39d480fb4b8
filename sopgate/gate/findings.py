"""The findings of the gate rules (`rules.RULES`) for one program as of a date: one ORM query per kind of object
(parts, tests, handover items, checklists), whatever the program's size, plus four for its ramp week by week
(`coverage.program_ramp`: the plan, parts, calendars and capacity lines).

Each kind's query selects the objects that violate at least one of its rules, with one boolean column per rule
(its condition) and the values its findings may state; Python hashes those values into each finding's
`fingerprint`, a stable hash of everything its blocker stores, and writes a message only when asked
(`Finding.blocker_fields`). A re-scan compares fingerprints (`services.program_scan`) and writes nothing when they
all match.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache, reduce
from itertools import compress
from operator import or_
from typing import NamedTuple

from django.db.models import BigIntegerField, DateField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from parts.expressions import JSONMapMember, date_minus_days
from parts.models import Part
from parts.selectors import part_dates
from validation.models import HandoverChecklist, HandoverItem, ValidationTest

from ..choices import ObjectType
from ..models import Program
from .coverage import ProgramRamp, program_ramp
from .rules import RULE, Facts, GateRule, rules_of

# 40 bits: a program's open blockers are compared by the SUM of their fingerprints, which stays below 63 bits
# for up to 2**23 blockers.
FINGERPRINT_BYTES = 5


class Finding(NamedTuple):
    """One rule violated by one object. What its blocker says (label, message, owners, clear-by date) is written
    only when asked for (`blocker_fields`): a re-scan compares fingerprints and writes only new or changed ones.

    `row` holds the object's id and the values of its kind's `fields`, as read. `fingerprint` stands for
    everything the blocker says: a hash of those values (`row_hash`) combined with a hash of the rule and of the
    program's figures its message may name (`rule_code`), both the same in every process."""

    rule: str
    object_type: str
    object_id: int
    fingerprint: int
    row: tuple
    scan: "_Scan"

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.rule, self.object_type, self.object_id)

    def blocker_fields(self) -> dict:
        rule, kind, scan = RULE[self.rule], KINDS[ObjectType(self.object_type)], self.scan
        row = dict(zip(("id", *kind.fields), self.row, strict=True))
        facts = Facts(scan.figures, **row)
        facts["label"] = label = kind.label.format_map(row)
        if "effective_need_date" in row:
            facts["need"], facts["ppap_due"] = row["effective_need_date"], row["effective_ppap_due_date"]
        owners = [row[name] for name in kind.owners if row[name]]
        return {
            "rule": self.rule,
            "severity": rule.severity.value,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_label": label[:300],
            "message": rule.message(facts),
            "owner_id": owners[0] if owners else scan.program.owner_id,
            "co_owner_id": owners[1] if len(owners) > 1 else None,
            "supplier_id": row[kind.supplier] if kind.supplier else None,
            "clear_by": rule.clear_by(facts),
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class _Scan:
    program: Program
    figures: dict


def rule_code(rule: GateRule, figures: tuple, today: date) -> int:
    """A stable hash of a rule and the program's figures its findings may state (and of today for the rules
    whose messages count days from today): the same in every process, unlike `hash()`."""
    values = (rule.code.value, rule.severity.value, figures, today if rule.message_changes_daily else None)
    return int.from_bytes(hashlib.blake2b(repr(values).encode(), digest_size=FINGERPRINT_BYTES).digest(), "big")


@dataclass(frozen=True)
class GateInputs:
    """Everything of a program and a day that the kind querysets below put into their SQL as values: they read
    nothing else, so a queryset built for equal inputs is the same query (`_built`)."""

    program_id: int
    today: date
    sop: date
    at_risk_days: int
    stale_before: datetime
    interim_limit: date
    signoff_due: date
    peak: tuple | None  # the ramp's peak week: (its planned vehicles as an exact fraction, its Monday)
    # Each short part's weekly verdict, computed once per scan in Python: (part id, first short week, units short,
    # closed dates that week), sorted; empty when not asked (`kind_queryset` without `weeks`).
    short: tuple[tuple[int, str, int, str], ...]

    @classmethod
    def of(cls, program: Program, today: date, weeks: ProgramRamp | None) -> "GateInputs":
        facts = weeks.short_facts() if weeks else {}
        stale_day = today - timedelta(days=program.stale_update_days)
        return cls(
            program_id=program.pk,
            today=today,
            sop=program.sop_date,
            at_risk_days=program.at_risk_days,
            stale_before=timezone.make_aware(datetime.combine(stale_day, time.min)),
            interim_limit=interim_limit(program),
            signoff_due=program.sop_date - timedelta(days=program.signoff_days),
            peak=weeks.peak if weeks else None,
            short=tuple(sorted((pk, f["week"], f["units"], f["closed"]) for pk, f in facts.items())),
        )


def _gate_dates(queryset: QuerySet, g: GateInputs) -> QuerySet:
    return queryset.alias(as_of=Value(g.today, DateField()), sop=Value(g.sop, DateField()))


def _parts(g: GateInputs) -> QuerySet:
    # The ramp's peak week (planned vehicles as an exact fraction num/den): a weekly figure is below a part's
    # peak demand when figure × den < qty × num, with no division (NULL without a ramp plan, or when not asked).
    num = Value(g.peak[0].numerator if g.peak else None, BigIntegerField())
    den = Value(g.peak[0].denominator if g.peak else None, BigIntegerField())
    short = {pk: {"week": week, "units": units, "closed": closed} for pk, week, units, closed in g.short}
    parts = part_dates(Part.objects.filter(program_id=g.program_id), today=g.today)
    return (
        _gate_dates(parts.annotate(last_update=Coalesce("last_supplier_update_at", "created_at")), g)
        .annotate(
            # The day of the last update as the message states it, in the current time zone: read as a date, it
            # needs none of the Python time-zone loading a timestamp does, and it changes only when the message does.
            last_update_on=TruncDate("last_update"),
        )
        .alias(
            at_risk_from=date_minus_days(F("effective_need_date"), Value(g.at_risk_days)),
            stale_before=Value(g.stale_before),
            interim_limit=Value(g.interim_limit, DateField()),
            peak_run_at_rate=Cast("run_at_rate_per_week", BigIntegerField()) * den,
            peak_demand=Cast("qty_per_vehicle", BigIntegerField()) * num,
        )
        .annotate(
            capacity_short_week=JSONMapMember(short, F("id"), "week"),
            capacity_shortfall=Cast(JSONMapMember(short, F("id"), "units"), BigIntegerField()),
            capacity_short_closed=JSONMapMember(short, F("id"), "closed"),
        )
    )


def _tests(g: GateInputs) -> QuerySet:
    return _gate_dates(ValidationTest.objects.filter(program_id=g.program_id, required_for_sop=True), g)


def _items(g: GateInputs) -> QuerySet:
    items = HandoverItem.objects.filter(checklist__program_id=g.program_id, required=True, done_at__isnull=True)
    return _gate_dates(items, g).annotate(area=F("checklist__area"))


def _checklists(g: GateInputs) -> QuerySet:
    checklists = HandoverChecklist.objects.filter(program_id=g.program_id)
    return _gate_dates(checklists, g).alias(signoff_due=Value(g.signoff_due, DateField()))


@dataclass(frozen=True)
class Kind:
    """A kind of object the rules are about: which objects count, what its rules' conditions may name (see
    `rules`), the fields its findings state, its label and its owners (the program owner where none is set)."""

    queryset: Callable[[GateInputs], QuerySet]
    fields: tuple[str, ...]
    label: str  # a format over `fields`
    owners: tuple[str, ...]  # the first set is the owner, a second one the co-owner
    supplier: str | None = None


KINDS = {
    ObjectType.PART: Kind(
        _parts,
        fields=(
            "name",
            "part_number",
            "revision",
            "owner_id",
            "supplier_id",
            "promised_date",
            "effective_need_date",
            "effective_ppap_due_date",
            "ppap_status",
            "interim_expires_on",
            "capacity_per_week",
            "qty_per_vehicle",
            "last_update_on",
            "run_at_rate_on",
            "run_at_rate_per_week",
            "capacity_short_week",
            "capacity_shortfall",
            "capacity_short_closed",
        ),
        label="{name} {part_number} rev {revision}",
        owners=("owner_id",),
        supplier="supplier_id",
    ),
    ObjectType.VALIDATION_TEST: Kind(
        _tests,
        fields=("code", "name", "owner_id", "planned_end", "status", "result_note"),
        label="Test {code} {name}",
        owners=("owner_id",),
    ),
    ObjectType.HANDOVER_ITEM: Kind(
        _items,
        fields=("area", "title", "responsible_id", "due_date"),
        label="{area}: {title}",
        owners=("responsible_id",),
    ),
    ObjectType.HANDOVER_CHECKLIST: Kind(
        _checklists,
        fields=("area", "rd_owner_id", "production_owner_id", "rd_signed_off_at", "production_signed_off_at"),
        label="Handover {area}",
        owners=("rd_owner_id", "production_owner_id"),
    ),
}


def kind_queryset(kind: ObjectType, program: Program, today: date, weeks: ProgramRamp | None = None) -> QuerySet:
    """The objects of one kind in a program, annotated with the names its rules' conditions use (the ramp's
    figures only when given `weeks`)."""
    return _built(kind, GateInputs.of(program, today, weeks), findings=False).all()


@lru_cache(maxsize=256)
def _built(kind: ObjectType, inputs: GateInputs, *, findings: bool) -> QuerySet:
    """A kind's queryset for `inputs`, built once per process (resolving the rules' conditions is most of the
    cost of a scan's Python); callers take a copy (`.all()`), so this one is never evaluated. `findings`: the
    scan's query, one boolean column per rule (its condition), keeping the rows where one is true; the WHERE names
    the columns, so each condition is resolved once (Django writes it out again in the WHERE, as SQL must)."""
    queryset = KINDS[kind].queryset(inputs)
    if not findings:
        return queryset
    flags = {f"rule_{n}": rule.condition for n, rule in enumerate(rules_of(kind))}
    return (
        queryset.annotate(**flags)
        .filter(reduce(or_, (Q(**{name: True}) for name in flags)))
        .order_by()
        .values_list("id", *KINDS[kind].fields, *flags)
    )


def interim_limit(program: Program) -> date:
    """An interim PPAP approval must hold until 90 days after SOP."""
    return program.sop_date + timedelta(days=90)


def row_hash(values: tuple) -> int:
    """A stable hash of the values a finding may state (the row as read): it changes whenever one of them does,
    and is the same in every process (`repr` of str, int, date and aware datetime values; unlike `hash()`)."""
    return int.from_bytes(hashlib.blake2b(repr(values).encode(), digest_size=FINGERPRINT_BYTES).digest(), "big")


def program_findings(program: Program, today: date) -> list[Finding]:
    """Every finding of every rule for one program as of `today`: eight queries (four for the ramp week by week,
    `coverage.program_ramp`, and one per kind, `_built`)."""
    weeks = program_ramp(program)
    peak = weeks.peak
    figures = {
        "today": today,
        "sop": program.sop_date,
        "part_lead_days": program.part_lead_days,
        "stale_update_days": program.stale_update_days,
        "signoff_days": program.signoff_days,
        "signoff_due": program.sop_date - timedelta(days=program.signoff_days),
        "interim_limit": interim_limit(program),
        "peak": peak,
    }
    scan = _Scan(program, figures)
    stated = (
        program.owner_id,
        *(value for name, value in figures.items() if name != "today"),
        timezone.get_current_timezone_name(),
    )
    inputs = GateInputs.of(program, today, weeks)
    findings: list[Finding] = []
    add = findings.append
    for object_type, kind in KINDS.items():
        codes = [(rule.code.value, rule_code(rule, stated, today)) for rule in rules_of(object_type)]
        type_value = object_type.value
        stated_end = len(kind.fields) + 1
        for row in _built(object_type, inputs, findings=True).all():
            values = row[:stated_end]
            hashed = row_hash(values)
            for code, rule_hash in compress(codes, row[stated_end:]):
                add(Finding(code, type_value, row[0], hashed ^ rule_hash, values, scan))
    return findings
