"""Writes to parts. Set-based: a batch of N parts costs a fixed number of queries, not N.

Every write records who made it (simple-history rows carry the actor) and tells the gate which programs
changed, so a re-scan follows after the commit.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from .bulk import bulk_history_snapshot, bulk_insert, bulk_set, pk_in
from .choices import PPAPStatus
from .models import Part, SupplierUpdate
from .signals import program_data_changed

# Fields of a part that a supplier update may change, in the order they are applied.
SUPPLIER_UPDATE_FIELDS = ("promised_date", "ppap_status", "capacity_per_week", "tooling_stage")
_UPDATE_ATTNAMES = [field.attname for field in SupplierUpdate._meta.concrete_fields]


def _locked_parts(part_ids: Iterable[int]) -> dict[int, Part]:
    # Row locks in primary-key order, so concurrent batches touching the same parts never deadlock.
    # Only the columns the services change are loaded; history rows are copied from the table afterwards.
    queryset = Part.objects.select_for_update().filter(pk_in(Part, set(part_ids))).order_by("pk")
    return {
        p.pk: p
        for p in queryset.only(
            "id",
            "program_id",
            "part_number",
            "revision",
            *SUPPLIER_UPDATE_FIELDS,
            "received_on",
        )  # not the update times: every service overwrites `updated_at`, and loading them costs 2 ms per 500
    }


def _save_parts(parts: Sequence[Part], fields: Sequence[str], actor) -> None:
    if not parts:
        return
    parts = list(parts)
    bulk_set(parts, [*fields, "updated_at"])
    bulk_history_snapshot(
        Part, [p.pk for p in parts], user_id=getattr(actor, "pk", None), reason="bulk change", when=timezone.now()
    )
    program_data_changed.send(sender=Part, program_ids={p.program_id for p in parts})


def supplier_updates_apply(*, actor, items: Sequence[dict], now: datetime | None = None) -> list[SupplierUpdate]:
    """Store supplier updates and apply them to their parts, all or nothing.

    Each item is a validated dict with `part_id` and any of `promised_date`, `ppap_status`,
    `capacity_per_week`, `tooling_stage`, `note`. Items for the same part apply in list order.
    """
    with transaction.atomic():
        parts = _locked_parts(item["part_id"] for item in items)
        # The time is taken once the rows are locked, so updates to one part are stamped in the order they apply.
        now = now or timezone.now()
        updates = []
        changed_fields: set[str] = {"last_supplier_update_at"}
        actor_id = getattr(actor, "pk", None)
        cache_part = SupplierUpdate.part.field.set_cached_value
        for item in items:
            part = parts[item["part_id"]]
            for name in SUPPLIER_UPDATE_FIELDS:
                if item.get(name) is not None:
                    setattr(part, name, item[name])
                    changed_fields.add(name)
            part.last_supplier_update_at = now
            part.updated_at = now
            values = {
                "part_id": part.pk,
                "reported_by_id": actor_id,
                "reported_at": now,
                "promised_date": item.get("promised_date"),
                "ppap_status": item.get("ppap_status") or "",
                "capacity_per_week": item.get("capacity_per_week"),
                "tooling_stage": item.get("tooling_stage") or "",
                "note": item.get("note") or "",
            }
            # Positional arguments in field order are Django's fast path, a third of the cost of keywords.
            update = SupplierUpdate(*[values.get(name) for name in _UPDATE_ATTNAMES])
            cache_part(update, part)
            updates.append(update)
        created = bulk_insert(updates)
        _save_parts(list(parts.values()), sorted(changed_fields), actor)
    return created


def parts_approve_ppap(*, actor, part_ids: Iterable[int]) -> int:
    """Approve the PPAP of the given parts (the customer's decision). Returns how many changed."""
    with transaction.atomic():
        parts = [p for p in _locked_parts(part_ids).values() if p.ppap_status != PPAPStatus.APPROVED]
        for part in parts:
            part.ppap_status = PPAPStatus.APPROVED
            part.updated_at = timezone.now()
        _save_parts(parts, ["ppap_status"], actor)
    return len(parts)


def parts_mark_received(*, actor, part_ids: Iterable[int], on: date | None = None) -> int:
    """Record that PPAP-conform parts arrived at the plant on `on` (default today). Returns how many changed."""
    on = on or timezone.localdate()
    with transaction.atomic():
        parts = [p for p in _locked_parts(part_ids).values() if p.received_on is None]
        for part in parts:
            part.received_on = on
            part.updated_at = timezone.now()
        _save_parts(parts, ["received_on"], actor)
    return len(parts)
