"""The findings of the gate rules (`rules.RULES`) for one program as of a date: one ORM query per kind of object
(parts, tests, handover items, checklists), whatever the program's size, plus one for its ramp plan.

Each kind's query selects the objects that violate at least one of its rules, with one Case/When flag per rule;
Python then writes each finding's message from its named facts. A finding's `fingerprint` is a stable hash of
everything its blocker stores: a re-scan compares fingerprints (`services.program_scan`) and writes nothing when
they all match.
"""

import hashlib
import math
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_
from typing import NamedTuple

from django.db.models import BigIntegerField, BooleanField, Case, DateField, F, QuerySet, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from parts.expressions import date_minus_days
from parts.models import Part
from parts.selectors import part_dates
from validation.models import HandoverChecklist, HandoverItem, ValidationTest

from ..choices import ObjectType
from ..models import Program, RampStep
from .rules import Facts, GateRule, rules_of

# 40 bits: a program's open blockers are compared by the SUM of their fingerprints, which stays below 63 bits
# for up to 2**23 blockers.
FINGERPRINT_BYTES = 5


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


class Finding(NamedTuple):
    """One rule violated by one object: the fields of its blocker."""

    rule: str
    severity: str
    object_type: str
    object_id: int
    object_label: str
    message: str
    owner_id: int | None
    co_owner_id: int | None
    supplier_id: int | None
    clear_by: date | None
    fingerprint: int

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.rule, self.object_type, self.object_id)


def fingerprint(*values) -> int:
    """The same in every process (unlike `hash()`), for the same values."""
    return int.from_bytes(hashlib.blake2b(repr(values).encode(), digest_size=FINGERPRINT_BYTES).digest(), "big")


@dataclass(frozen=True)
class Kind:
    """A kind of object the rules are about: which objects count, what its rules' conditions may name (see
    `rules`), the fields its findings state, its label and its owners (the program owner where none is set)."""

    queryset: Callable[[Program, date, PeakDemand | None], QuerySet]
    fields: tuple[str, ...]
    label: str  # a format over `fields`
    owners: tuple[str, ...]  # the first set is the owner, a second one the co-owner
    supplier: str | None = None


def _gate_dates(queryset: QuerySet, program: Program, today: date) -> QuerySet:
    return queryset.alias(as_of=Value(today, DateField()), sop=Value(program.sop_date, DateField()))


def _parts(program: Program, today: date, peak: PeakDemand | None) -> QuerySet:
    stale_day = today - timedelta(days=program.stale_update_days)
    days = Value(peak.days_in_month if peak else None, BigIntegerField())
    vehicles_x7 = Value(peak.planned_vehicles * 7 if peak else None, BigIntegerField())
    parts = part_dates(Part.objects.filter(program=program), today=today)
    return _gate_dates(
        parts.annotate(last_update=Coalesce("last_supplier_update_at", "created_at")), program, today
    ).alias(
        at_risk_from=date_minus_days(F("effective_need_date"), Value(program.at_risk_days)),
        stale_before=Value(timezone.make_aware(datetime.combine(stale_day, time.min))),
        interim_limit=Value(interim_limit(program), DateField()),
        peak_capacity=Cast("capacity_per_week", BigIntegerField()) * days,
        peak_demand=Cast("qty_per_vehicle", BigIntegerField()) * vehicles_x7,
    )


def _tests(program: Program, today: date, peak) -> QuerySet:
    return _gate_dates(ValidationTest.objects.filter(program=program, required_for_sop=True), program, today)


def _items(program: Program, today: date, peak) -> QuerySet:
    items = HandoverItem.objects.filter(checklist__program=program, required=True, done_at__isnull=True)
    return _gate_dates(items, program, today).annotate(area=F("checklist__area"))


def _checklists(program: Program, today: date, peak) -> QuerySet:
    signoff_due = Value(program.sop_date - timedelta(days=program.signoff_days), DateField())
    return _gate_dates(HandoverChecklist.objects.filter(program=program), program, today).alias(signoff_due=signoff_due)


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
            "last_update",
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


def kind_queryset(kind: ObjectType, program: Program, today: date, peak: PeakDemand | None = None) -> QuerySet:
    """The objects of one kind in a program, annotated with the names its rules' conditions use."""
    return KINDS[kind].queryset(program, today, peak)


def interim_limit(program: Program) -> date:
    """An interim PPAP approval must hold until 90 days after SOP."""
    return program.sop_date + timedelta(days=90)


def _flag(rule: GateRule):
    return Case(When(rule.condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def program_findings(program: Program, today: date) -> list[Finding]:
    """Every finding of every rule for one program as of `today`: five queries (the ramp plan and one per kind)."""
    peak = peak_demand(program)
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
    tz = timezone.get_current_timezone()
    findings: list[Finding] = []
    for object_type, kind in KINDS.items():
        rules = rules_of(object_type)
        flags = {f"rule_{n}": _flag(rule) for n, rule in enumerate(rules)}
        rows = (
            kind_queryset(object_type, program, today, peak)
            .filter(reduce(or_, (rule.condition for rule in rules)))
            .annotate(**flags)
            .values("id", *kind.fields, *flags)
        )
        for row in rows:
            facts = Facts(figures, **row)
            facts["label"] = label = kind.label.format_map(row)
            if object_type == ObjectType.PART:
                facts["need"], facts["ppap_due"] = row["effective_need_date"], row["effective_ppap_due_date"]
                facts["last_update_on"] = row["last_update"].astimezone(tz).date()
            owners = [row[name] for name in kind.owners if row[name]]
            owner = owners[0] if owners else program.owner_id
            co_owner = owners[1] if len(owners) > 1 else None
            supplier = row[kind.supplier] if kind.supplier else None
            for n, rule in enumerate(rules):
                if row[f"rule_{n}"]:
                    findings.append(_finding(rule, object_type, row["id"], label, owner, co_owner, supplier, facts))
    return findings


def _finding(rule: GateRule, object_type, object_id, label, owner, co_owner, supplier, facts: Facts) -> Finding:
    fields = (
        rule.code.value,
        rule.severity.value,
        object_type.value,
        object_id,
        label[:300],
        rule.message(facts),
        owner,
        co_owner,
        supplier,
        rule.clear_by(facts),
    )
    return Finding(*fields, fingerprint(*fields))
