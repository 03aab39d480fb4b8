"""The findings of the gate rules (`rules.RULES`) for one program as of a date: one ORM query per kind of object
(parts, tests, handover items, checklists), whatever the program's size, plus one for its ramp plan.

Each kind's query selects the objects that violate at least one of its rules, with one Case/When flag per rule;
Python then writes each finding's message from its named facts. A finding's `fingerprint` is a stable hash of
everything its blocker stores: a re-scan compares fingerprints (`services.program_scan`) and writes nothing when
they all match.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_
from typing import NamedTuple

from django.db.models import BigIntegerField, BooleanField, Case, DateField, F, QuerySet, TextField, Value, When
from django.db.models.functions import MD5, Cast, Coalesce, Concat
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

    `fingerprint` stands for everything the blocker says: the database's hash of the row's fields the finding
    may state (`row_hash`) combined with a hash of the rule and of the program's figures its message may name,
    the same in every process (`rule_code`)."""

    rule: str
    object_type: str
    object_id: int
    fingerprint: int
    row: dict
    scan: "_Scan"

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.rule, self.object_type, self.object_id)

    def blocker_fields(self) -> dict:
        rule, kind, row, scan = RULE[self.rule], KINDS[ObjectType(self.object_type)], self.row, self.scan
        facts = Facts(scan.figures, **row)
        facts["label"] = label = kind.label.format_map(row)
        if "effective_need_date" in row:
            facts["need"], facts["ppap_due"] = row["effective_need_date"], row["effective_ppap_due_date"]
            facts["last_update_on"] = timezone.localtime(row["last_update"]).date()
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
class Kind:
    """A kind of object the rules are about: which objects count, what its rules' conditions may name (see
    `rules`), the fields its findings state, its label and its owners (the program owner where none is set)."""

    queryset: Callable[[Program, date, ProgramRamp | None], QuerySet]
    fields: tuple[str, ...]
    label: str  # a format over `fields`
    owners: tuple[str, ...]  # the first set is the owner, a second one the co-owner
    supplier: str | None = None


def _gate_dates(queryset: QuerySet, program: Program, today: date) -> QuerySet:
    return queryset.alias(as_of=Value(today, DateField()), sop=Value(program.sop_date, DateField()))


def _parts(program: Program, today: date, weeks: ProgramRamp | None) -> QuerySet:
    stale_day = today - timedelta(days=program.stale_update_days)
    # The ramp's peak week (planned vehicles as an exact fraction num/den): a weekly figure is below a part's
    # peak demand when figure × den < qty × num, with no division (NULL without a ramp plan, or when not asked).
    peak = weeks.peak if weeks else None
    num = Value(peak[0].numerator if peak else None, BigIntegerField())
    den = Value(peak[0].denominator if peak else None, BigIntegerField())
    # Each part's weekly verdict, computed once per scan in Python (`coverage.program_ramp`), as columns.
    short = weeks.short_facts() if weeks else {}
    parts = part_dates(Part.objects.filter(program=program), today=today)
    return (
        _gate_dates(parts.annotate(last_update=Coalesce("last_supplier_update_at", "created_at")), program, today)
        .alias(
            at_risk_from=date_minus_days(F("effective_need_date"), Value(program.at_risk_days)),
            stale_before=Value(timezone.make_aware(datetime.combine(stale_day, time.min))),
            interim_limit=Value(interim_limit(program), DateField()),
            peak_run_at_rate=Cast("run_at_rate_per_week", BigIntegerField()) * den,
            peak_demand=Cast("qty_per_vehicle", BigIntegerField()) * num,
        )
        .annotate(
            capacity_short_week=JSONMapMember(short, F("id"), "week"),
            capacity_shortfall=Cast(JSONMapMember(short, F("id"), "units"), BigIntegerField()),
            capacity_short_closed=JSONMapMember(short, F("id"), "closed"),
        )
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
    return KINDS[kind].queryset(program, today, weeks)


def interim_limit(program: Program) -> date:
    """An interim PPAP approval must hold until 90 days after SOP."""
    return program.sop_date + timedelta(days=90)


def _row_hash(fields: tuple[str, ...]) -> MD5:
    """The database's hash of the fields a kind's findings may state: it changes whenever one of them does."""
    parts = []
    for name in fields:
        parts += [Coalesce(Cast(name, TextField()), Value("\u2205"), output_field=TextField()), Value("\x1f")]
    return MD5(Concat(*parts, output_field=TextField()))


def _flag(rule: GateRule):
    return Case(When(rule.condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def program_findings(program: Program, today: date) -> list[Finding]:
    """Every finding of every rule for one program as of `today`: eight queries (four for the ramp week by week,
    `coverage.program_ramp`, and one per kind)."""
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
    mask = (1 << 8 * FINGERPRINT_BYTES) - 1
    findings: list[Finding] = []
    add = findings.append
    for object_type, kind in KINDS.items():
        rules = rules_of(object_type)
        codes = [(rule.code.value, rule_code(rule, stated, today)) for rule in rules]
        flags = {f"rule_{n}": _flag(rule) for n, rule in enumerate(rules)}
        rows = (
            kind_queryset(object_type, program, today, weeks)
            .filter(reduce(or_, (rule.condition for rule in rules)))
            .annotate(row_hash=_row_hash(kind.fields), **flags)
            .order_by()
            .values("id", "row_hash", *kind.fields, *flags)
        )
        type_value = object_type.value
        for row in rows:
            row_hash = int(row["row_hash"][:10], 16)
            for n, (code, rule_hash) in enumerate(codes):
                if row[f"rule_{n}"]:
                    add(Finding(code, type_value, row["id"], (row_hash ^ rule_hash) & mask, row, scan))
    return findings
