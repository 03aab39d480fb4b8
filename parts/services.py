"""Writes to parts. Set-based: a batch of N parts costs a fixed number of queries, not N.

Every write records who made it (simple-history rows carry the actor) and tells the gate which programs
changed, so a re-scan follows after the commit.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from itertools import repeat
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.template.defaultfilters import pluralize
from django.utils import timezone

from .bulk import bulk_history_snapshot, bulk_insert_columns, bulk_merge, bulk_set, pk_in
from .choices import PPAP_CUSTOMER_DECISIONS, PPAPStatus
from .models import IdempotencyRecord, Part, SupplierUpdate
from .signals import program_data_changed

# Fields of a part that a supplier update may change, in the order they are applied.
SUPPLIER_UPDATE_FIELDS = ("promised_date", "ppap_status", "capacity_per_week", "tooling_stage")
# The columns of a stored supplier update, in the model's field order (the id first), and those an item reports.
UPDATE_COLUMNS = tuple(field.attname for field in SupplierUpdate._meta.concrete_fields)
_REPORTED_COLUMNS = ("part_id", "promised_date", "ppap_status", "capacity_per_week", "tooling_stage", "note")


def _locked_parts(part_ids: Iterable[int], *fields: str) -> dict[int, Part]:
    # Row locks in primary-key order, so concurrent batches touching the same parts never deadlock.
    # Only the columns the caller reads are loaded (not the update times: every service overwrites
    # `updated_at`); history rows are copied from the table afterwards.
    queryset = Part.objects.select_for_update().filter(pk_in(Part, set(part_ids))).order_by("pk")
    return {p.pk: p for p in queryset.only("id", "program_id", *fields)}


def _recorded(part_ids: Sequence[int], program_ids: set[int], actor) -> None:
    """History rows for parts just written, and word to the gate that their programs changed."""
    bulk_history_snapshot(Part, part_ids, actor=actor, reason="bulk change", when=timezone.now())
    program_data_changed.send(sender=Part, program_ids=program_ids)


def _save_parts(parts: Sequence[Part], fields: Sequence[str], actor) -> None:
    if not parts:
        return
    parts = list(parts)
    bulk_set(parts, [*fields, "updated_at"])
    _recorded([p.pk for p in parts], {p.program_id for p in parts}, actor)


class LockedParts(NamedTuple):
    # Part id -> (program code, part number, revision), as locked: what an echo of the updates shows of the part.
    names: dict[int, tuple[str, str, str]]
    program_ids: set[int]
    ppap_statuses: dict[int, str]  # part id -> its PPAP status, as locked


def part_program_change_refusal(part: Part, program_id: int | None) -> str | None:
    """Why `part` may not move to the program with id `program_id`, or None: its validation tests stay in its
    program (a test and its part are in one program), so a part with tests does not move."""
    if part.pk is None or program_id is None or program_id == part.program_id:
        return None
    tests = part.validation_tests.count()
    if not tests:
        return None
    return (
        f"{part.part_number} rev {part.revision} has {tests} validation test{pluralize(tests)} in its "
        "program; move or delete them before moving the part."
    )


def supplier_membership_refusal(user) -> str | None:
    """Why `user` may not become a supplier's login, or None: an engineer (staff) stays one, and a person who
    owns something of the program (a program, part, test, checklist or handover item) would receive alerts
    about other suppliers' parts."""
    from sopgate.models import Program
    from validation.models import HandoverChecklist, HandoverItem, ValidationTest

    if user.is_staff or user.is_superuser:
        return f"{user.get_username()} is an engineer (staff); a supplier's login must be a separate user."
    owned = {
        "programs": Program.objects.filter(owner=user),
        "parts": Part.objects.filter(owner=user),
        "validation tests": ValidationTest.objects.filter(owner=user),
        "handover checklists": HandoverChecklist.objects.filter(Q(rd_owner=user) | Q(production_owner=user)),
        "handover items": HandoverItem.objects.filter(responsible=user),
    }
    held = [name for name, queryset in owned.items() if queryset.exists()]
    if held:
        return (
            f"{user.get_username()} owns {', '.join(held)}; give those to someone else before making this login "
            "a supplier's."
        )
    return None


def supplier_ppap_refusal(current: str, reported: str) -> str | None:
    """Why a supplier may not report PPAP status `reported` for a part whose status is `current`, or None.

    The decisions are the customer's: a supplier never sets approved, interim-approved or rejected, never moves a
    part away from an approval (nor an interim one), and answers a rejection only by submitting again."""
    if reported in PPAP_CUSTOMER_DECISIONS:
        return (
            f"Suppliers may not set '{reported}': approving or rejecting a PPAP is the customer's decision. "
            "Report 'submitted' when the PPAP is handed in."
        )
    if reported == current:
        return None
    if current in (PPAPStatus.APPROVED, PPAPStatus.INTERIM_APPROVED):
        return f"The PPAP is {PPAPStatus(current).label.lower()}: only the customer can change its status."
    if current == PPAPStatus.REJECTED and reported != PPAPStatus.SUBMITTED:
        return "The PPAP was rejected: report 'submitted' when it is handed in again."
    return None


class AppliedUpdates(NamedTuple):
    rows: list[tuple]  # per stored update, its values in UPDATE_COLUMNS order (the id first)
    parts: dict[int, tuple[str, str, str]]  # LockedParts.names

    @property
    def updates(self) -> list[SupplierUpdate]:
        """The stored updates as model instances, built when asked for (the API echoes `rows`)."""
        return [SupplierUpdate.from_db(connection.alias, UPDATE_COLUMNS, row) for row in self.rows]


def parts_lock(part_ids: Iterable[int], *, within: QuerySet[Part] | None = None) -> LockedParts:
    """Lock the parts with these ids that are within `within` (default: all parts), in primary-key order, and
    return what supplier updates need of them. An id that is missing or outside `within` is left out: the
    caller learns in one query which parts exist, may be written, and stay so until its transaction ends.

    Reads plain rows with the program code: no model instances, and not the part's own values, which the
    supplier update keeps where no item reports them (COALESCE).
    """
    queryset = Part.objects.all() if within is None else within
    rows = (
        queryset.select_for_update(of=("self",))
        .filter(pk_in(Part, set(part_ids)))
        .order_by("pk")
        .values_list("pk", "program_id", "program__code", "part_number", "revision", "ppap_status")
    )
    names, program_ids, ppap_statuses = {}, set(), {}
    for pk, program_id, code, number, revision, ppap_status in rows:
        names[pk] = (code, number, revision)
        program_ids.add(program_id)
        ppap_statuses[pk] = ppap_status
    return LockedParts(names, program_ids, ppap_statuses)


def supplier_updates_apply(*, actor, items: Sequence[dict], now: datetime | None = None) -> AppliedUpdates:
    """Store supplier updates and apply them to their parts, all or nothing.

    Each item is a validated dict with `part_id` and any of `promised_date`, `ppap_status`,
    `capacity_per_week`, `tooling_stage`, `note`. Items for the same part apply in list order.
    """
    with transaction.atomic():
        locked = parts_lock({item["part_id"] for item in items})
        return supplier_updates_apply_locked(actor=actor, items=items, locked=locked, now=now)


def supplier_updates_apply_locked(
    *, actor, items: Sequence[dict], locked: LockedParts, now: datetime | None = None
) -> AppliedUpdates:
    """`supplier_updates_apply` for parts that the caller has locked with `parts_lock` in the transaction it
    holds (the API checks and locks the named parts in one query)."""
    parts = locked.names
    if not items:
        return AppliedUpdates([], parts)
    # The time is taken once the rows are locked, so updates to one part are stamped in the order they apply.
    now = now or timezone.now()
    reported = []  # per item, its values of _REPORTED_COLUMNS
    changes: dict[int, dict[str, object]] = {}  # per part: the last reported value of each field
    for item in items:
        part_id = item["part_id"]
        if part_id not in parts:
            raise KeyError(part_id)
        part_changes = changes.setdefault(part_id, {})
        for name in SUPPLIER_UPDATE_FIELDS:
            value = item.get(name)
            if value is not None:
                part_changes[name] = value
        reported.append(
            (
                part_id,
                item.get("promised_date"),
                item.get("ppap_status") or "",
                item.get("capacity_per_week"),
                item.get("tooling_stage") or "",
                item.get("note") or "",
            )
        )
    # Stored column by column, without a model instance per update.
    columns = dict(zip(_REPORTED_COLUMNS, map(list, zip(*reported, strict=True)), strict=True))
    constants = {"reported_by_id": getattr(actor, "pk", None), "reported_at": now}
    ids = bulk_insert_columns(SupplierUpdate, columns, constants=constants)
    values = {"id": ids, **columns, **{name: repeat(value) for name, value in constants.items()}}
    rows = list(zip(*(values[name] for name in UPDATE_COLUMNS), strict=False))  # the constants repeat endlessly
    if changes:
        bulk_merge(Part, changes, constants={"last_supplier_update_at": now, "updated_at": now})
        _recorded(list(changes), locked.program_ids, actor)
    return AppliedUpdates(rows, parts)


def parts_approve_ppap(*, actor, part_ids: Iterable[int]) -> int:
    """Approve the PPAP of the given parts (the customer's decision). Returns how many changed."""
    with transaction.atomic():
        parts = [p for p in _locked_parts(part_ids, "ppap_status").values() if p.ppap_status != PPAPStatus.APPROVED]
        for part in parts:
            part.ppap_status = PPAPStatus.APPROVED
            part.updated_at = timezone.now()
        _save_parts(parts, ["ppap_status"], actor)
    return len(parts)


def parts_mark_received(*, actor, part_ids: Iterable[int], on: date | None = None) -> int:
    """Record that PPAP-conform parts arrived at the plant on `on` (default today). Returns how many changed."""
    on = on or timezone.localdate()
    with transaction.atomic():
        parts = [p for p in _locked_parts(part_ids, "received_on").values() if p.received_on is None]
        for part in parts:
            part.received_on = on
            part.updated_at = timezone.now()
        _save_parts(parts, ["received_on"], actor)
    return len(parts)


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Forget the Idempotency-Keys older than the retention (`SOPGATE_IDEMPOTENCY_RETENTION_HOURS`); returns how
    many. A retry after that is treated as a new request, as an integration retrying days later would expect."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.SOPGATE_IDEMPOTENCY_RETENTION_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
