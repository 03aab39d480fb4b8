"""What the portal reads for one supplier: its parts sorted by what needs action first, their open blockers, their
weekly demand over the ramp, and the updates and files of one part. Every query is scoped by the supplier's id."""

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from parts.models import EvidenceFile, Part, SupplierUpdate
from sopgate.choices import ObjectType, Severity
from sopgate.gate.findings import PeakDemand
from sopgate.gate.part_status import parts_with_status
from sopgate.models import Blocker, RampStep


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
    month: date
    planned_vehicles: int
    weekly_demand: int
    capacity_per_week: int | None

    @property
    def short(self) -> bool:
        return self.capacity_per_week is not None and self.capacity_per_week < self.weekly_demand


def ramp_demand(parts: list[Part]) -> dict[int, list[RampDemand]]:
    """Per part id: each ramp step of its program with the part's weekly demand in that step, as the gate's
    capacity rule computes it today (`sopgate.gate.findings.PeakDemand.weekly_demand`), beside the part's capacity. One
    query. The ramp week by week (calendars, capacity plans) will replace this one function."""
    steps: dict[int, list[tuple[date, int]]] = defaultdict(list)
    program_ids = {part.program_id for part in parts}
    for program_id, month, vehicles in RampStep.objects.filter(program_id__in=program_ids).values_list(
        "program_id", "month", "planned_vehicles"
    ):
        steps[program_id].append((month, vehicles))
    demand = {}
    for part in parts:
        demand[part.pk] = [
            RampDemand(
                month,
                vehicles,
                PeakDemand(month, vehicles, monthrange(month.year, month.month)[1]).weekly_demand(part.qty_per_vehicle),
                part.capacity_per_week,
            )
            for month, vehicles in sorted(steps[part.program_id])
        ]
    return demand


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


def part_files(*, part_id: int) -> QuerySet[EvidenceFile]:
    return EvidenceFile.objects.filter(part_id=part_id).order_by("-uploaded_at", "-id")
