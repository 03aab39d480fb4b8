"""Writes to parts. Set-based: a batch of N parts costs a fixed number of queries, not N.

Every write records who made it (simple-history rows carry the actor) and tells the gate which programs
changed, so a re-scan follows after the commit.
"""

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.template.defaultfilters import pluralize
from django.utils import timezone
from knox.models import AuthToken

from .bulk import bulk_history_snapshot, bulk_insert_columns, bulk_merge, bulk_set, pk_in
from .choices import PPAP_CUSTOMER_DECISIONS, PPAPStatus
from .models import EvidenceFile, IdempotencyRecord, Part, Supplier, SupplierUpdate
from .selectors import supplier_id_for_user
from .signals import program_data_changed

# Fields of a part that a supplier update may change, in the order they are applied.
SUPPLIER_UPDATE_FIELDS = ("promised_date", "ppap_status", "capacity_per_week", "tooling_stage")
# The columns of a stored supplier update, in the model's field order (the id first), and those an item reports.
UPDATE_COLUMNS = tuple(field.attname for field in SupplierUpdate._meta.concrete_fields)
_REPORTED_COLUMNS = (
    "part_id",
    "supplier_id",
    "promised_date",
    "ppap_status",
    "capacity_per_week",
    "tooling_stage",
    "note",
)


def _locked_parts(part_ids: Iterable[int], *fields: str) -> dict[int, Part]:
    # Row locks in primary-key order, so concurrent batches touching the same parts never deadlock.
    # Only the columns the caller reads are loaded (not the update times: every service overwrites
    # `updated_at`); history rows are copied from the table afterwards.
    queryset = Part.objects.select_for_update().filter(pk_in(Part, set(part_ids))).order_by("pk")
    return {p.pk: p for p in queryset.only("id", "program_id", *fields)}


def _recorded(part_ids: Sequence[int], program_ids: set[int], actor, *, reason: str = "bulk change") -> None:
    """History rows for parts just written, and word to the gate that their programs changed."""
    bulk_history_snapshot(Part, part_ids, actor=actor, reason=reason, when=timezone.now())
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
    supplier_ids: dict[int, int | None]  # part id -> its supplier's id, as locked: who an update belongs to


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
        .values_list("pk", "program_id", "program__code", "part_number", "revision", "ppap_status", "supplier_id")
    )
    names, program_ids, ppap_statuses, supplier_ids = {}, set(), {}, {}
    for pk, program_id, code, number, revision, ppap_status, supplier_id in rows:
        names[pk] = (code, number, revision)
        program_ids.add(program_id)
        ppap_statuses[pk] = ppap_status
        supplier_ids[pk] = supplier_id
    return LockedParts(names, program_ids, ppap_statuses, supplier_ids)


class SupplierDailyLimitExceeded(Exception):
    """A supplier's updates of today would go past `SUPPLIER_DAILY_UPDATE_LIMIT`; nothing was stored."""

    def __init__(self, *, limit: int, stored: int, requested: int, retry_after: int):
        self.limit, self.stored, self.requested, self.retry_after = limit, stored, requested, retry_after
        super().__init__(
            f"A supplier may store at most {limit:,} updates a day; {stored:,} are stored today and this request "
            f"has {requested:,}. Try again after midnight ({settings.TIME_ZONE})."
        )


def supplier_daily_limit_check(*, supplier_id: int, adding: int, now: datetime) -> None:
    """Refuse (`SupplierDailyLimitExceeded`) `adding` more updates by the supplier with id `supplier_id` when its
    updates stored since the start of today (in settings.TIME_ZONE) would go past `SUPPLIER_DAILY_UPDATE_LIMIT`.

    Takes a lock on the supplier's row first, held to the end of the caller's transaction, so two requests of
    one supplier count one after the other and cannot both slip under the limit. NO KEY: the lock does not
    hold up writes of parts that refer to the supplier. Two queries, whatever the number of updates.
    """
    limit = settings.SUPPLIER_DAILY_UPDATE_LIMIT
    list(Supplier.objects.select_for_update(no_key=True).filter(pk=supplier_id).values_list("pk"))
    zone = timezone.get_default_timezone()  # settings.TIME_ZONE, whatever zone a request activated
    day = timezone.localtime(now, zone).date()
    midnight = timezone.make_aware(datetime.combine(day, time()), zone)
    stored = SupplierUpdate.objects.filter(supplier_id=supplier_id, reported_at__gte=midnight).count()
    if stored + adding <= limit:
        return
    # Aware datetimes of one zone subtract by the wall clock; in UTC the difference is the real one (DST days).
    tomorrow = timezone.make_aware(datetime.combine(day + timedelta(days=1), time()), zone)
    seconds = (tomorrow.astimezone(UTC) - now.astimezone(UTC)).total_seconds()
    raise SupplierDailyLimitExceeded(
        limit=limit, stored=stored, requested=adding, retry_after=max(1, math.ceil(seconds))
    )


def supplier_updates_apply(*, actor, items: Sequence[dict], now: datetime | None = None) -> AppliedUpdates:
    """Store supplier updates and apply them to their parts, all or nothing.

    Each item is a validated dict with `part_id` and any of `promised_date`, `ppap_status`,
    `capacity_per_week`, `tooling_stage`, `note`. Items for the same part apply in list order. A supplier user's
    updates are refused past its daily limit (`supplier_daily_limit_check`).
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
    # Engineers are not limited; a supplier user writes only its own supplier's parts (the caller's `within`).
    actor_supplier_id = supplier_id_for_user(actor) if actor is not None else None
    if actor_supplier_id is not None:
        supplier_daily_limit_check(supplier_id=actor_supplier_id, adding=len(items), now=now)
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
                locked.supplier_ids[part_id],
                item.get("promised_date"),
                item.get("ppap_status") or "",
                item.get("capacity_per_week"),
                item.get("tooling_stage") or "",
                item.get("note") or "",
            )
        )
    # Stored column by column, without a model instance per update.
    columns = dict(zip(_REPORTED_COLUMNS, map(list, zip(*reported, strict=True)), strict=True))
    username = actor.get_username() if actor is not None else ""
    constants = {"reported_by_id": getattr(actor, "pk", None), "reported_by_username": username, "reported_at": now}
    ids = bulk_insert_columns(SupplierUpdate, columns, constants=constants)
    values = {"id": ids, **columns, **{name: repeat(value) for name, value in constants.items()}}
    rows = list(zip(*(values[name] for name in UPDATE_COLUMNS), strict=False))  # the constants repeat endlessly
    if changes:
        bulk_merge(Part, changes, constants={"last_supplier_update_at": now, "updated_at": now})
        # The reason names the reporter, so the part's history shows who it was after the user row is gone.
        _recorded(
            list(changes),
            locked.program_ids,
            actor,
            reason=f"supplier update by {username}"[:100] if username else "supplier update",
        )
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


def api_token_issue(*, user, revoke_others: bool = False) -> str:
    """A new API token for `user`, returned once: only its digest is stored (django-rest-knox), expiring after
    `API_TOKEN_TTL_DAYS`. With `revoke_others`, the user's earlier tokens stop working in the same transaction."""
    with transaction.atomic():
        if revoke_others:
            AuthToken.objects.filter(user=user).delete()
        _, token = AuthToken.objects.create(user=user)
    return token


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Forget the Idempotency-Keys older than the retention (`SOPGATE_IDEMPOTENCY_RETENTION_HOURS`); returns how
    many. A retry after that is treated as a new request, as an integration retrying days later would expect."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.SOPGATE_IDEMPOTENCY_RETENTION_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def evidence_file_refusal(upload) -> str | None:
    """Why an uploaded file cannot be kept as evidence (its size or type against EVIDENCE_MAX_MB and
    EVIDENCE_FILE_TYPES), or None."""
    limit = settings.EVIDENCE_MAX_MB
    if upload.size > limit * 2**20:
        return f"{upload.name} is {upload.size / 2**20:.1f} MB; evidence files may be up to {limit} MB."
    extension = Path(upload.name).suffix.lower().lstrip(".")
    allowed = settings.EVIDENCE_FILE_TYPES
    if extension not in allowed:
        return f"{upload.name}: a .{extension or '(no extension)'} file is not taken; allowed: {', '.join(allowed)}."
    return None


def evidence_file_add(*, part: Part, actor, kind: str, upload) -> EvidenceFile:
    """Keep `upload` as evidence of `part` (through the default storage), by `actor`. Refused with a ValidationError
    naming `file` and the limit when it is too large or of a type not taken; nothing is stored then."""
    refusal = evidence_file_refusal(upload)
    if refusal:
        raise ValidationError({"file": [refusal]})
    evidence = EvidenceFile(
        part=part,
        kind=kind,
        name=upload.name[:255],
        size=upload.size,
        uploaded_by=actor,
        uploaded_by_username=actor.get_username() if actor else "",
    )
    evidence.file.save(upload.name, upload, save=False)
    try:
        evidence.save()
    except Exception:
        evidence.file.delete(save=False)  # no file without its record
        raise
    return evidence
