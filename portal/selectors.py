"""What the portal reads for one supplier: its parts sorted by what needs action first, their open blockers, their
weekly demand over the ramp, and the capacity plan, updates and files of one part. Every query is scoped by the
supplier's id (a part's own rows are read once the part was found among the supplier's)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from parts.models import CapacityLine, EvidenceFile, Part, SupplierUpdate
from sopgate.choices import ObjectType, Severity
from sopgate.gate.coverage import program_ramp
from sopgate.gate.part_status import parts_with_status
from sopgate.models import Blocker, Program
from sopgate.ramp import week_label


def supplier_parts(*, supplier_id: int, today: date) -> QuerySet[Part]:
    """The supplier's parts with the dates the gate uses (effective need and PPAP due dates) and `late` as of
    `today`, and `has_blocking`: open blocking blockers first, then late parts, then the soonest need date."""
    blocking = Blocker.objects.filter(
        object_type=ObjectType.PART, object_id=OuterRef("pk"), resolved_at__isnull=True, severity=Severity.BLOCKING
    )
    return (
        parts_with_status(Part.objects.filter(supplier_id=supplier_id), today=today)
        .select_related("program")
        .annotate(has_blocking=Exists(blocking))
        .order_by("-has_blocking", "-late", "effective_need_date", "part_number", "revision", "pk")
    )


def supplier_open_blockers(*, supplier_id: int, part_ids: list[int] | None = None) -> dict[int, list[Blocker]]:
    """Open blockers about the supplier's own parts (or those of `part_ids` among them), blocking first, per part
    id. One query."""
    parts = Part.objects.filter(supplier_id=supplier_id)
    if part_ids is not None:
        parts = parts.filter(pk__in=part_ids)
    blockers = (
        Blocker.objects.filter(object_type=ObjectType.PART, object_id__in=parts.values("pk"), resolved_at__isnull=True)
        .only("object_id", "rule", "severity", "message", "clear_by", "opened_at")
        .order_by("severity", "clear_by", "opened_at", "pk")  # "blocking" sorts before "warning"
    )
    by_part: dict[int, list[Blocker]] = defaultdict(list)
    for blocker in blockers:
        by_part[blocker.object_id].append(blocker)
    return by_part


@dataclass(frozen=True)
class RampDemand:
    """One ISO week of the ramp for one part: the plant's planned vehicles, the part's demand and its capacity
    (None while the supplier has confirmed none), as the gate computes them (`sopgate.gate.coverage`)."""

    week: str
    starts_on: date
    planned_vehicles: int
    weekly_demand: int
    capacity_per_week: int | None
    short: bool  # the week the gate's capacity_shortfall starts: cumulative demand over cumulative capacity


def ramp_demand(parts: list[Part]) -> dict[int, list[RampDemand]]:
    """Per part id: each week of its program's ramp (from the SOP week to the plan's end) with the part's demand
    by the plant calendar and capacity by its supplier's calendar and capacity plan. Four queries per program
    (the supplier's parts are nearly always of one), plus one for the programs."""
    by_program: dict[int, set[int]] = defaultdict(set)
    for part in parts:
        by_program[part.program_id].add(part.pk)
    demand: dict[int, list[RampDemand]] = {}
    for program in Program.objects.filter(pk__in=by_program):
        weeks = program_ramp(program, part_ids=by_program[program.pk])
        for pk, part in weeks.parts.items():
            short_week = part.short.week if part.short else None
            demand[pk] = [
                RampDemand(
                    week_label(monday),
                    monday,
                    weeks.planned(n),
                    part.demands[n],
                    part.capacities[n] if part.capacities is not None else None,
                    monday == short_week,
                )
                for n, monday in enumerate(weeks.weeks)
            ]
    return {part.pk: demand.get(part.pk, []) for part in parts}


def supplier_part_updates(*, supplier_id: int, part_id: int) -> QuerySet[SupplierUpdate]:
    """The updates this supplier reported for the part, newest first (not those of a supplier it had before)."""
    return SupplierUpdate.objects.filter(supplier_id=supplier_id, part_id=part_id).order_by("-reported_at", "-id")


def supplier_last_notes(*, supplier_id: int, part_ids: list[int]) -> dict[int, str]:
    """The note of the supplier's latest update of each part (what the spreadsheet shows, so that uploading it back
    unchanged stores nothing); "" where none. One query."""
    latest = SupplierUpdate.objects.filter(supplier_id=supplier_id, part_id=OuterRef("pk")).order_by(
        "-reported_at", "-id"
    )
    rows = Part.objects.filter(pk__in=part_ids).annotate(note=Subquery(latest.values("note")[:1]))
    return {pk: note or "" for pk, note in rows.values_list("pk", "note")}


@dataclass(frozen=True)
class PlanLine:
    line: CapacityLine
    state: str  # "past", "in_force" (the line in force today: the part's capacity per week) or "future"


def part_capacity_plan(*, part_id: int, today: date) -> list[PlanLine]:
    """The lines of the part's capacity plan by day, each told past, in force `today` or future. One query."""
    lines = list(CapacityLine.objects.filter(part_id=part_id).order_by("effective_from"))
    started = [line for line in lines if line.effective_from <= today]
    in_force = started[-1] if started else None
    return [
        PlanLine(line, "future" if line.effective_from > today else "in_force" if line is in_force else "past")
        for line in lines
    ]


def part_files(*, part_id: int) -> QuerySet[EvidenceFile]:
    return EvidenceFile.objects.filter(part_id=part_id).order_by("-uploaded_at", "-id")
