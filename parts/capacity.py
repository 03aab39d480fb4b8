"""A part's capacity plan: its lines (from `effective_from` on, `capacity_per_week`) and the part's own
`capacity_per_week`, which is the line in force today (DOMAIN.md "The ramp, week by week"). Writing lines refreshes
the parts written; `parts_capacity_refresh`, run daily, lets a line dated in the future take over on its day.

Set-based like every write of parts: a fixed number of queries, whatever the number of lines or parts.
"""

from collections.abc import Container, Sequence
from datetime import date, datetime

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from sopgate.roles import supplier_id_for_user

from .batch_writes import bulk_merge
from .models import CapacityLine, Part
from .signals import program_data_changed
from .writes import LockedPart, parts_lock, parts_recorded

# The reason a part's history gives when its capacity follows its plan.
PLAN_REASON = "capacity plan"


class CapacityLinesRefused(Exception):
    """Capacity lines that store nothing: per item, in order, the fields refused and why ({} for a fine one)."""

    def __init__(self, errors: list[dict[str, list[str]]]):
        self.errors = errors
        super().__init__(errors)


def capacity_lines_apply(*, actor, items: Sequence[dict], now: datetime | None = None) -> list[CapacityLine]:
    """Store capacity plan lines (`part_id`, `effective_from`, `capacity_per_week`), by `actor`, all or nothing: a
    line for a day the part already has a line for replaces it. A supplier user writes lines for its own parts
    only (another's part is "not found", like a missing one). Each touched part's `capacity_per_week` becomes its
    line in force today (`_part_capacity_refresh`). A fixed number of queries, whatever the number of lines.

    A part's first plan whose lines all start after today keeps the figure the part had as a line from today: a
    supplier making 1,000 a week who says "2,500 from May" still makes 1,000 until May (a plan makes nothing
    before its first line)."""
    if not items:
        return []
    supplier_id = supplier_id_for_user(actor) if actor is not None else None
    within = Part.objects.all() if supplier_id is None else Part.objects.filter(supplier_id=supplier_id)
    now = now or timezone.now()
    with transaction.atomic():
        locked = parts_lock({item["part_id"] for item in items}, within=within)
        errors = [
            {}
            if item["part_id"] in locked
            else {"part": [gettext("No part with id %(id)s.") % {"id": item["part_id"]}]}
            for item in items
        ]
        today = timezone.localdate(now)
        if supplier_id is not None:
            for item, item_errors in zip(items, errors, strict=True):
                refusal = supplier_line_refusal(item["effective_from"], today=today)
                if refusal and not item_errors:
                    item_errors["effective_from"] = [refusal]
        if any(errors):
            raise CapacityLinesRefused(errors)
        # The last of several lines for one part and day wins, as if they had been posted one after the other.
        latest = {(item["part_id"], item["effective_from"]): item["capacity_per_week"] for item in items}
        asked = set(latest)
        first_days: dict[int, date] = {}
        for part_id, day in latest:
            first_days[part_id] = min(day, first_days.get(part_id, day))
        for part_id, first in first_days.items():
            part = locked[part_id]
            if not part.has_plan and part.capacity_per_week is not None and first > today:
                latest[(part_id, today)] = part.capacity_per_week
        lines = capacity_lines_upsert(latest, actor=actor, now=now)
        _part_capacity_refresh(locked, actor, today=today)
    return [line for line in lines if (line.part_id, line.effective_from) in asked]


def capacity_lines_upsert(lines: dict[tuple[int, date], int], *, actor, now: datetime) -> list[CapacityLine]:
    """Insert the lines {(part id, effective from): capacity per week}, replacing a part's line of the same day;
    one statement. The caller holds the parts' locks and keeps their `capacity_per_week` in step."""
    username = actor.get_username() if actor is not None else ""
    return CapacityLine.objects.bulk_create(
        [
            CapacityLine(
                part_id=part_id,
                effective_from=day,
                capacity_per_week=capacity,
                reported_by=actor,
                reported_by_username=username,
                reported_at=now,
            )
            for (part_id, day), capacity in lines.items()
        ],
        update_conflicts=True,
        unique_fields=["part", "effective_from"],
        update_fields=["capacity_per_week", "reported_by", "reported_by_username", "reported_at"],
    )


def reported_capacities_as_lines(
    reported: dict[int, int], *, actor, now: datetime, planned: Container[int] | None = None
) -> None:
    """A capacity reported for a part that has a capacity plan (by its supplier or by an engineer) is also the
    plan's line from today, so that the part's figure stays its line in force today (`parts_capacity_refresh` would
    otherwise set it back); a part without a plan keeps its one figure, all along. `reported` is {part id: capacity
    per week}; `planned`, the ids of the parts with a plan, if the caller read them under the parts' lock (else one
    query reads them). One statement where a planned part's capacity was reported, none otherwise."""
    if not reported:
        return
    if planned is None:
        planned = set(CapacityLine.objects.filter(part_id__in=reported).values_list("part_id", flat=True))
    today = timezone.localdate(now)
    lines = {(pk, today): capacity for pk, capacity in reported.items() if pk in planned}
    if lines:
        capacity_lines_upsert(lines, actor=actor, now=now)


def supplier_line_refusal(effective_from: date, *, today: date) -> str | None:
    """Why a supplier may not write or delete its capacity plan's line from `effective_from`, or None: the capacity
    in force until today is what the gate counted, and a supplier does not rewrite it (DOMAIN.md "Trust": a gate
    nobody talks green); a change starts today or later. An engineer may correct the past."""
    if effective_from < today:
        return gettext("A line from %(day)s is past: your capacity changes from today (%(today)s) on.") % {
            "day": effective_from.isoformat(),
            "today": today.isoformat(),
        }
    return None


def capacity_line_delete(*, actor, line: CapacityLine, today: date | None = None) -> None:
    """Delete one line of a part's capacity plan (the caller checked that `actor` may see it); the part's
    `capacity_per_week` follows. A supplier deletes only a line from a day after `today`: one from today or before
    is the capacity in force (refused with `CapacityLinesRefused` naming `effective_from`, nothing deleted), and a
    change from today on is a new line."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = parts_lock({line.part_id}, within=Part.objects.all())
        if actor is not None and supplier_id_for_user(actor) is not None and line.effective_from <= today:
            message = gettext(
                "The line from %(day)s is in force or past and stays in the plan; add a line from today to change "
                "your capacity."
            )
            raise CapacityLinesRefused([{"effective_from": [message % {"day": line.effective_from.isoformat()}]}])
        line.delete()
        _part_capacity_refresh(locked, actor, today=today)


def _part_capacity_refresh(locked: dict[int, LockedPart], actor, *, today: date) -> None:
    """Set each locked part's `capacity_per_week` to its line in force today (the latest line from today or
    before), for the parts whose plan has such a line and whose stored figure differs; two queries and a write."""
    in_force: dict[int, int] = {}
    for part_id, capacity in (
        CapacityLine.objects.filter(part_id__in=locked, effective_from__lte=today)
        .order_by("part_id", "effective_from")
        .values_list("part_id", "capacity_per_week")
    ):
        in_force[part_id] = capacity
    stored = dict(Part.objects.filter(pk__in=in_force).values_list("pk", "capacity_per_week"))
    changes = {pk: {"capacity_per_week": capacity} for pk, capacity in in_force.items() if stored[pk] != capacity}
    if changes:
        bulk_merge(Part, changes, constants={"updated_at": timezone.now()})
        parts_recorded(list(changes), {locked[pk].program_id for pk in changes}, actor, reason=PLAN_REASON)
    else:
        program_data_changed.send(sender=Part, program_ids={part.program_id for part in locked.values()})


def _in_force(today: date) -> Subquery:
    """A part's capacity plan line in force on `today` (its latest line from `today` or before), per week."""
    lines = CapacityLine.objects.filter(part_id=OuterRef("pk"), effective_from__lte=today).order_by("-effective_from")
    return Subquery(lines.values("capacity_per_week")[:1])


def parts_capacity_refresh(*, today: date, actor=None) -> int:
    """Set every part's `capacity_per_week` to its capacity plan's line in force `today` where the two differ
    (a line dated in the future takes over on its day), recording each change in the part's history; a part
    without a line in force keeps its figure. Returns how many parts changed.

    Five queries and a write whatever the number of parts: the parts that differ are found and locked (in
    primary-key order, as every write of parts locks), then their line in force is read again under the lock, so
    a plan written meanwhile is not overwritten with what it was before."""
    differs = Q(capacity_per_week__isnull=True) | ~Q(capacity_per_week=F("in_force"))
    with transaction.atomic():
        candidates = list(
            Part.objects.filter(pk__in=CapacityLine.objects.filter(effective_from__lte=today).values("part_id"))
            .annotate(in_force=_in_force(today))
            .filter(differs)
            .select_for_update(of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not candidates:
            return 0
        rows = list(
            Part.objects.filter(pk__in=candidates)
            .annotate(in_force=_in_force(today))
            .filter(in_force__isnull=False)
            .filter(differs)
            .values_list("pk", "program_id", "in_force")
        )
        if not rows:
            return 0
        bulk_merge(
            Part,
            {pk: {"capacity_per_week": capacity} for pk, _, capacity in rows},
            constants={"updated_at": timezone.now()},
        )
        parts_recorded([pk for pk, _, _ in rows], {program_id for _, program_id, _ in rows}, actor, reason=PLAN_REASON)
    return len(rows)
