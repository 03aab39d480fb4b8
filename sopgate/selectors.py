"""Reads of the gate. `program_readiness` is the one answer to "can we start production?": the API, the
dashboard, the command and the emails all call it, so they never disagree."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter

from django.db import connection
from django.db.models import Count, DateField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.template.defaultfilters import pluralize
from django.utils import timezone

from parts.choices import PPAPStatus
from parts.models import Part
from validation.choices import TEST_DONE
from validation.models import HandoverItem, ValidationTest

from .choices import Decision, Rule, Severity
from .models import Blocker, Program, ReadinessSnapshot
from .rules import FORECAST_UNKNOWN_RULES, days_text


@dataclass
class Readiness:
    program: Program
    as_of: date
    decision: str
    readiness_pct: Decimal
    done_items: int
    total_items: int
    forecast_sop_date: date | None
    forecast_reason: str
    blockers: list[Blocker]
    counts: dict = field(default_factory=dict)
    # Open blocking blockers per rule, in rule order, when the reader has them counted already (the program
    # page's gate read); otherwise `decision_sentence` counts `blockers`, which hold every blocking one.
    blocking_by_rule: dict[str, int] | None = None

    @property
    def blocking_count(self) -> int:
        return self.counts["by_severity"].get(Severity.BLOCKING.value, 0)

    @property
    def warning_count(self) -> int:
        return self.counts["by_severity"].get(Severity.WARNING.value, 0)

    @property
    def days_to_sop(self) -> int:
        return (self.program.sop_date - self.as_of).days

    @property
    def decision_sentence(self) -> str:
        code = self.program.code
        if self.decision == Decision.GO:
            return f"{code} can start production on {self.program.sop_date:%Y-%m-%d}: nothing stands in the way."
        by_rule = self.counts["by_rule"]
        if self.decision == Decision.CONDITIONAL:
            parts = ", ".join(f"{n} {rule_text(r)}" for r, n in by_rule.items())
            return (
                f"{code} can start production with conditions: "
                f"{count_text(self.warning_count, 'warning')} open ({parts})."
            )
        rules = self.blocking_by_rule
        if rules is None:
            rules = Counter(b.rule for b in self.blockers if b.severity == Severity.BLOCKING)
        most_first = sorted(rules.items(), key=itemgetter(1), reverse=True)  # ties in rule order, as most_common
        parts = ", ".join(f"{n} {rule_text(r)}" for r, n in most_first)
        return f"{code} cannot start production: {count_text(sum(rules.values()), 'blocking issue')} ({parts})."


def rule_text(rule: str) -> str:
    """A rule's label inside a sentence: "Test ends after SOP" -> "test ends after SOP", "PPAP rejected" stays."""
    label = str(Rule(rule).label)
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def count_text(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def open_blockers(program: Program | None = None) -> QuerySet[Blocker]:
    queryset = Blocker.objects.filter(resolved_at__isnull=True).select_related("owner", "co_owner", "program")
    if program is not None:
        queryset = queryset.filter(program=program)
    return queryset.order_by("severity", "rule", "opened_at", "id")


def open_blocker_rows(*, program_id: int) -> list[tuple]:
    """The program's open blockers as tuples (rule, object_type, object_id, id, fingerprint), for the scan to
    compare with its findings. Hand-written: the ORM took longer to build and read these rows than the database
    to return them, and a re-scan with nothing new is mostly this read."""
    quote = connection.ops.quote_name
    blocker = Blocker._meta
    names = ("rule", "object_type", "object_id", "id", "fingerprint")
    columns = ", ".join(quote(blocker.get_field(name).column) for name in names)
    sql = (
        f"SELECT {columns} FROM {quote(blocker.db_table)} "
        f"WHERE {quote(blocker.get_field('program').column)} = %s AND {quote(blocker.get_field('resolved_at').column)} IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [program_id])
        return cursor.fetchall()


def program_readiness(program: Program, *, today: date | None = None) -> Readiness:
    """Decision, readiness percent, counts, open blockers and the forecast SOP date, in five queries."""
    today = today or timezone.localdate()
    blockers = list(open_blockers(program))
    by_severity = Counter(b.severity for b in blockers)
    by_rule = Counter(b.rule for b in blockers)
    counts = {
        "by_severity": {s.value: by_severity.get(s.value, 0) for s in Severity},
        "by_rule": {r.value: by_rule[r.value] for r in Rule if by_rule.get(r.value)},
    }
    if by_severity.get(Severity.BLOCKING):
        decision = Decision.NO_GO
    elif blockers:
        decision = Decision.CONDITIONAL
    else:
        decision = Decision.GO

    done, total, item_counts = _done_items(program)
    counts["items"] = item_counts
    pct = (Decimal(100 * done) / total).quantize(Decimal("0.1"), ROUND_HALF_UP) if total else Decimal("100.0")
    forecast, reason = _forecast(program, blockers)
    return Readiness(
        program=program,
        as_of=today,
        decision=decision.value,
        readiness_pct=pct,
        done_items=done,
        total_items=total,
        forecast_sop_date=forecast,
        forecast_reason=reason,
        blockers=blockers,
        counts=counts,
    )


def _done_items(program: Program) -> tuple[int, int, dict]:
    """Parts (PPAP approved and received or promised by need), required tests (passed/waived), required items."""
    need = Coalesce(
        F("need_date"), Value(program.sop_date - timedelta(days=program.part_lead_days)), output_field=DateField()
    )
    parts = (
        Part.objects.filter(program=program)
        .annotate(effective_need=need)
        .aggregate(
            total=Count("id"),
            done=Count(
                "id",
                filter=Q(ppap_status=PPAPStatus.APPROVED)
                & (Q(received_on__isnull=False) | Q(promised_date__lte=F("effective_need"))),
            ),
        )
    )
    tests = ValidationTest.objects.filter(program=program, required_for_sop=True).aggregate(
        total=Count("id"), done=Count("id", filter=Q(status__in=TEST_DONE))
    )
    items = HandoverItem.objects.filter(checklist__program=program, required=True).aggregate(
        total=Count("id"), done=Count("id", filter=Q(done_at__isnull=False))
    )
    counts = {"parts": parts, "tests": tests, "handover_items": items}
    done = parts["done"] + tests["done"] + items["done"]
    total = parts["total"] + tests["total"] + items["total"]
    return done, total, counts


def _forecast(program: Program, blockers: list[Blocker]) -> tuple[date | None, str]:
    # The members looked up once: the program page passes ~600 blockers, and an enum member is a descriptor.
    blocking_value, late_value = Severity.BLOCKING.value, Rule.PART_LATE.value
    blocking = [b for b in blockers if b.severity == blocking_value]
    unknown = [b for b in blocking if b.rule in FORECAST_UNKNOWN_RULES or (b.rule == late_value and b.clear_by is None)]
    if unknown:
        first = unknown[0]
        more = f" and {len(unknown) - 1} more" if len(unknown) > 1 else ""
        why = {
            Rule.PART_UNSOURCED: "has no supplier",
            Rule.TEST_FAILED: "failed a required test",
            Rule.PART_LATE: "is late without a promised date",
        }[Rule(first.rule)]
        return None, f"Unknown: {first.object_label} {why}{more}, so there is no date it can clear by."
    dated = [b for b in blockers if b.clear_by is not None and b.clear_by > program.sop_date]
    if not dated:
        return program.sop_date, "On plan: no known blocker clears after the SOP date."
    latest = max(dated, key=lambda b: (b.clear_by, b.id))
    if latest.rule == Rule.PART_LATE:
        driver = f"{latest.object_label} arrives {latest.clear_by - timedelta(days=program.part_lead_days):%Y-%m-%d} + {days_text(program.part_lead_days)} lead"
    else:
        driver = f"{latest.object_label} ({rule_text(latest.rule)}) clears {latest.clear_by:%Y-%m-%d}"
    slip = (latest.clear_by - program.sop_date).days
    return latest.clear_by, f"{days_text(slip)} after plan: {driver}."


def program_delete_refusals(program_ids) -> dict[int, str]:
    """Why each of the programs with ids `program_ids` may not be deleted, for those that may not: the gate's
    history of a program (its blockers, with the alerts sent about them, and its readiness snapshots) is the
    record of what the gate decided, so such a program is archived instead. Four queries, however many."""
    program_ids = list(program_ids)
    blockers = dict(
        Blocker.objects.filter(program_id__in=program_ids)
        .values("program_id")
        .annotate(n=Count("id"))
        .values_list("program_id", "n")
    )
    alerts = dict(
        Blocker.objects.filter(program_id__in=program_ids, alerts__isnull=False)
        .values("program_id")
        .annotate(n=Count("alerts"))
        .values_list("program_id", "n")
    )
    snapshots = dict(
        ReadinessSnapshot.objects.filter(program_id__in=program_ids)
        .values("program_id")
        .annotate(n=Count("id"))
        .values_list("program_id", "n")
    )
    refusals = {}
    for program in Program.objects.filter(pk__in=program_ids).order_by("code"):
        held = [
            f"{n} {noun}{pluralize(n)}"
            for noun, n in (
                ("blocker", blockers.get(program.pk, 0)),
                ("alert", alerts.get(program.pk, 0)),
                ("readiness snapshot", snapshots.get(program.pk, 0)),
            )
            if n
        ]
        if held:
            refusals[program.pk] = (
                f"Program {program.code} has gate history ({', '.join(held)}) and is kept as the record of the "
                'gate\'s decisions: archive it instead (action "Archive selected programs").'
            )
    return refusals
