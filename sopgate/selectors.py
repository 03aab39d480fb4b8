"""Reads of the gate. `readiness` is the one answer to "can we start production?": the API, the
dashboard, the command and the emails all call it, so they never disagree."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter

from django.db.models import Count, F, Q, QuerySet
from django.template.defaultfilters import pluralize
from django.utils import timezone

from parts.models import Part
from parts.selectors import effective_need_date_expression
from validation.models import HandoverItem, ValidationTest

from .choices import Decision, ObjectType, Rule, Severity
from .gate.rules import ITEM_DONE, PART_DONE, RULE, RULES, TEST_DONE_Q, days_text
from .models import Blocker, Program, ReadinessSnapshot
from .roles import supplier_id_for_user, user_is_engineer


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
    blocking_by_rule: dict[str, int] = field(default_factory=dict)  # open blocking blockers per rule, in rule order

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


def program_readiness(program: Program, *, today: date | None = None) -> Readiness:
    """Decision, readiness percent, counts, every open blocker and the forecast SOP date, in six queries."""
    today = today or timezone.localdate()
    ids = [program.pk]
    return readiness(
        program,
        today=today,
        counts=open_blocker_counts(ids).get(program.pk, {}),
        items=readiness_items(ids)[program.pk],
        forecast_blockers=forecast_blockers(ids).get(program.pk, []),
        blockers=list(open_blockers(program)),
    )


def readiness(
    program: Program, *, today: date, counts: dict, items: dict, forecast_blockers: list, blockers: list
) -> Readiness:
    """THE answer to "can we start production?", from its pieces: the open blockers counted per (rule, severity)
    (`open_blocker_counts`), the items and those done (`readiness_items`), the blockers the forecast looks at
    (`forecast_blockers`) and the blockers to show. Every reader (API, reports, dashboard, snapshots) calls it."""
    by_severity = {s.value: 0 for s in Severity}
    by_rule: dict[str, int] = {}
    blocking_by_rule: dict[str, int] = {}
    for (rule, severity), n in counts.items():
        by_severity[severity] += n
        by_rule[rule] = by_rule.get(rule, 0) + n
        if severity == Severity.BLOCKING:
            blocking_by_rule[rule] = blocking_by_rule.get(rule, 0) + n
    rule_order = {r.value: n for n, r in enumerate(Rule)}
    by_rule = dict(sorted(by_rule.items(), key=lambda item: rule_order[item[0]]))
    blocking_by_rule = dict(sorted(blocking_by_rule.items(), key=lambda item: rule_order[item[0]]))
    if by_severity[Severity.BLOCKING]:
        decision = Decision.NO_GO
    elif by_severity[Severity.WARNING]:
        decision = Decision.CONDITIONAL
    else:
        decision = Decision.GO
    done = sum(kind["done"] for kind in items.values())
    total = sum(kind["total"] for kind in items.values())
    forecast, reason = _forecast(program, forecast_blockers)
    return Readiness(
        program=program,
        as_of=today,
        decision=decision.value,
        readiness_pct=readiness_percent(done, total),
        done_items=done,
        total_items=total,
        forecast_sop_date=forecast,
        forecast_reason=reason,
        blockers=blockers,
        counts={"by_severity": by_severity, "by_rule": by_rule, "items": items},
        blocking_by_rule=blocking_by_rule,
    )


def readiness_percent(done: int, total: int) -> Decimal:
    """One decimal, half up; 100 % when there is nothing to do."""
    return (Decimal(100 * done) / total).quantize(Decimal("0.1"), ROUND_HALF_UP) if total else Decimal("100.0")


def open_blocker_counts(program_ids) -> dict[int, dict[tuple[str, str], int]]:
    """Per program, its open blockers counted per (rule, severity): one query."""
    counts: dict[int, dict] = defaultdict(dict)
    rows = (
        Blocker.objects.filter(program_id__in=program_ids, resolved_at__isnull=True)
        .values_list("program_id", "rule", "severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    for program_id, rule, severity, n in rows:
        counts[program_id][(rule, severity)] = n
    return counts


def readiness_items(program_ids) -> dict[int, dict]:
    """Per program, its parts, required tests and required handover items, and those done (`gate.rules`): three
    queries."""
    items = {pk: {} for pk in program_ids}
    for name, queryset, key, done in (
        ("parts", Part.objects.alias(effective_need_date=effective_need_date_expression()), "program_id", PART_DONE),
        ("tests", ValidationTest.objects.filter(required_for_sop=True), "program_id", TEST_DONE_Q),
        ("handover_items", HandoverItem.objects.filter(required=True), "checklist__program_id", ITEM_DONE),
    ):
        rows = (
            queryset.filter(**{f"{key}__in": program_ids})
            .values_list(key)
            .annotate(total=Count("id"), done=Count("id", filter=done))
            .order_by()
        )
        found = {program_id: {"total": total, "done": n} for program_id, total, n in rows}
        for pk in items:
            items[pk][name] = found.get(pk, {"total": 0, "done": 0})
    return items


def forecast_blockers(program_ids) -> dict[int, list[Blocker]]:
    """Per program, the open blockers the forecast looks at: blocking ones of a rule that cannot clear without a
    date (`GateRule.unknown_forecast`) and have none, and those clearing after SOP. One query."""
    undated = [rule.code for rule in RULES if rule.unknown_forecast]
    found = defaultdict(list)
    for blocker in (
        Blocker.objects.filter(program_id__in=program_ids, resolved_at__isnull=True)
        .filter(
            Q(severity=Severity.BLOCKING, rule__in=undated, clear_by__isnull=True)
            | Q(clear_by__gt=F("program__sop_date"))
        )
        .only("id", "program_id", "rule", "severity", "clear_by", "object_label")
        .order_by("severity", "rule", "opened_at", "id")
    ):
        found[blocker.program_id].append(blocker)
    return found


def _forecast(program: Program, blockers) -> tuple[date | None, str]:
    """The forecast SOP date and its reason, from the blockers `forecast_blockers` gives (or more)."""
    unknown = [b for b in blockers if b.clear_by is None and RULE[b.rule].blocking and RULE[b.rule].unknown_forecast]
    if unknown:
        first = unknown[0]
        more = f" and {len(unknown) - 1} more" if len(unknown) > 1 else ""
        why = RULE[first.rule].unknown_forecast
        return None, f"Unknown: {first.object_label} {why}{more}, so there is no date it can clear by."
    dated = [b for b in blockers if b.clear_by is not None and b.clear_by > program.sop_date]
    if not dated:
        return program.sop_date, "On plan: no known blocker clears after the SOP date."
    latest = max(dated, key=lambda b: (b.clear_by, b.id))
    describe = RULE[latest.rule].forecast_driver
    if describe is not None:
        driver = describe(latest.object_label, latest.clear_by, program)
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


def blocker_list_for_user(user) -> QuerySet[Blocker]:
    """Blockers a user may read: every one for engineers; for a supplier user, those about its own parts (what to
    fix and by when); none otherwise."""
    queryset = Blocker.objects.select_related("program", "owner")
    supplier_id = supplier_id_for_user(user)
    if supplier_id is not None:
        own_parts = Part.objects.filter(supplier_id=supplier_id).values("pk")
        return queryset.filter(object_type=ObjectType.PART, object_id__in=own_parts)
    return queryset if user_is_engineer(user) else queryset.none()


def with_open_blockers(queryset: QuerySet, object_type: str) -> QuerySet:
    """`queryset` with `open_blocking` and `open_warnings`: the open gate blockers about each row, as correlated
    subqueries (the admin's lists count and filter on them without joining every blocker)."""
    from django.db.models import IntegerField, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    def count(severity):
        rows = (
            Blocker.objects.filter(
                object_type=object_type, object_id=OuterRef("pk"), resolved_at__isnull=True, severity=severity
            )
            .order_by()
            .values("object_id")
            .annotate(n=Count("id"))
            .values("n")
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))

    return queryset.annotate(open_blocking=count(Severity.BLOCKING), open_warnings=count(Severity.WARNING))


def blockers_about(object_type: str, object_id: int) -> QuerySet[Blocker]:
    """Every blocker, open or resolved, about one object: open first, newest first."""
    return (
        Blocker.objects.filter(object_type=object_type, object_id=object_id)
        .select_related("owner", "co_owner")
        .order_by(F("resolved_at").desc(nulls_first=True), "-opened_at")
    )
