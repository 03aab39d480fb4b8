"""What the writes of parts share: row locks taken in primary-key order (concurrent writes touching the same parts
never deadlock) and the record of a write (history rows with the actor, and word to the gate that programs
changed, so a re-scan follows after the commit)."""

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.db.models import QuerySet
from django.utils import timezone

from .batch_writes import bulk_history_snapshot
from .models import CapacityLine, Part
from .signals import program_data_changed


class LockedPart(NamedTuple):
    program_id: int
    program: str  # code
    part_number: str
    revision: str
    ppap_status: str
    supplier_id: int | None
    has_plan: bool  # the part has capacity plan lines
    capacity_per_week: int | None


def parts_locked(part_ids: Iterable[int]) -> QuerySet[Part]:
    """The parts with these ids, to be locked (`select_for_update`) in primary-key order when evaluated."""
    return Part.objects.select_for_update().filter(pk__in=set(part_ids)).order_by("pk")


def parts_lock(part_ids: set[int], *, within: QuerySet[Part]) -> dict[int, LockedPart]:
    """Lock the parts with these ids that are within `within`, in primary-key order, and read what the writes need
    of them; a missing one is left out. Two queries: whether a part has a capacity plan is read after its lock is
    held, so a plan written by a transaction that held the lock first is seen (a subquery of the locking statement
    would read the lines as they were before the wait)."""
    if not part_ids:
        return {}
    rows = list(
        within.select_for_update(of=("self",))
        .filter(pk__in=part_ids)
        .order_by("pk")
        .values_list(
            "pk",
            "program_id",
            "program__code",
            "part_number",
            "revision",
            "ppap_status",
            "supplier_id",
            "capacity_per_week",
        )
    )
    planned = set(
        CapacityLine.objects.filter(part_id__in=[row[0] for row in rows]).values_list("part_id", flat=True).distinct()
    )
    return {
        pk: LockedPart(program_id, program, number, revision, ppap, supplier_id, pk in planned, capacity)
        for pk, program_id, program, number, revision, ppap, supplier_id, capacity in rows
    }


def parts_recorded(part_ids: Sequence[int], program_ids: set[int], actor, *, reason: str = "bulk change") -> None:
    """History rows for parts just written, and word to the gate that their programs changed."""
    bulk_history_snapshot(Part, part_ids, actor=actor, reason=reason, when=timezone.now())
    program_data_changed.send(sender=Part, program_ids=program_ids)
