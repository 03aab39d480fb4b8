"""Writes to parts. Set-based: a batch of N parts costs a fixed number of queries, not N.

Every write records who made it (simple-history rows carry the actor) and tells the gate which programs
changed, so a re-scan follows after the commit.
"""

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.translation import gettext
from knox.models import AuthToken

from sopgate.roles import supplier_id_for_user

from . import selectors
from .batch_writes import bulk_insert_columns, bulk_merge
from .capacity import reported_capacities_as_lines
from .choices import PPAP_CUSTOMER_DECISIONS, PPAPStatus
from .models import EvidenceFile, IdempotencyRecord, Part, StoredEvidence, Supplier, SupplierUpdate
from .refusals import supplier_ppap_refusal, supplier_promise_refusal, supplier_run_at_rate_refusal
from .writes import LockedPart, parts_lock, parts_locked, parts_recorded

# Fields of a part that a supplier update may change, in the order they are applied.
SUPPLIER_UPDATE_FIELDS = (
    "promised_date",
    "ppap_status",
    "capacity_per_week",
    "tooling_stage",
    "run_at_rate_on",
    "run_at_rate_per_week",
)
# What a supplier update reports, and what it stores for a field it does not report.
_NOT_REPORTED = {
    "promised_date": None,
    "ppap_status": "",
    "capacity_per_week": None,
    "tooling_stage": "",
    "run_at_rate_on": None,
    "run_at_rate_per_week": None,
    "note": "",
}


def _parts_set(locked: QuerySet[Part], actor, **values) -> int:
    """Set `values` on the parts of `locked` (one statement: every part gets the same values) and record it."""
    rows = list(locked.values_list("pk", "program_id"))
    if rows:
        Part.objects.filter(pk__in=[pk for pk, _ in rows]).update(**values, updated_at=timezone.now())
        parts_recorded([pk for pk, _ in rows], {program_id for _, program_id in rows}, actor)
    return len(rows)


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


def part_save(*, part: Part, actor) -> Part:
    """Save a new or changed part (its fields set by the caller), as the API and the admin do. A part with
    validation tests keeps its program (`part_program_change_refusal`): a move is refused on `program`, changing
    nothing. A new capacity per week for a part with a capacity plan is also the plan's line from today, as a
    supplier's reported capacity is (else the daily refresh would set it back to the plan)."""
    with transaction.atomic():
        stored = None
        if part.pk is not None:
            stored = Part.objects.select_for_update().filter(pk=part.pk).first()
            refusal = stored and part_program_change_refusal(stored, part.program_id)
            if refusal:
                raise ValidationError({"program": [refusal]})
        part._history_user = actor
        part.save()
        if stored is not None and part.capacity_per_week not in (None, stored.capacity_per_week):
            reported_capacities_as_lines({part.pk: part.capacity_per_week}, actor=actor, now=timezone.now())
    return part


class SupplierUpdatesRefused(Exception):
    """A batch of supplier updates that stores nothing: per item, in order, the fields refused and why (an empty
    dict for an item that was fine)."""

    def __init__(self, errors: list[dict[str, list[str]]]):
        self.errors = errors
        super().__init__(errors)


class SupplierDailyLimitExceeded(Exception):
    """A supplier's updates of today would go past `SUPPLIER_DAILY_UPDATE_LIMIT`; nothing was stored."""

    def __init__(self, *, limit: int, stored: int, requested: int, retry_after: int):
        self.limit, self.stored, self.requested, self.retry_after = limit, stored, requested, retry_after
        counts = {"limit": f"{limit:,}", "stored": f"{stored:,}", "requested": f"{requested:,}"}
        message = gettext(
            "A supplier may store at most %(limit)s updates a day; %(stored)s are stored today and this request "
            "has %(requested)s. Try again after midnight (%(zone)s)."
        )
        super().__init__(message % {**counts, "zone": settings.TIME_ZONE})


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


def supplier_updates_apply(
    *, actor, items: Sequence[dict | None], now: datetime | None = None, dry_run: bool = False
) -> list[dict]:
    """Store what a supplier (or an engineer, for one) reported, and apply it to the parts: all or nothing.

    Each item names its part by `part_id`, or by `program` (code) + `part_number` (+ `revision` where the number
    has several), and carries any of `promised_date`, `ppap_status`, `capacity_per_week`, `tooling_stage`,
    `run_at_rate_on`, `run_at_rate_per_week`, `note`, as validated values. Items for the same part apply in list
    order. A part's `capacity_per_week` is the line of its capacity plan in force today: for a part that has a
    plan, a reported capacity is also its plan's line from today (replacing one of the same day); a part without
    a plan has the one figure, all along.

    A supplier user writes only its own supplier's parts (another's is "not found", exactly like a missing one),
    never sets a PPAP status that is the customer's decision nor promises a date before today, and stores at most
    its daily limit
    (`SupplierDailyLimitExceeded`). Anything refused raises `SupplierUpdatesRefused` naming every item's problems;
    a `None` item is one the caller found malformed: nothing is stored, and the others are still checked so the
    refusal names every problem at once.

    Returns each stored update as a dict: its columns (`id`, `part_id`, `supplier_id`, `reported_by_id`,
    `reported_by_username`, `reported_at` and what it reported) and its part's `program` code, `part_number` and
    `revision`. A fixed number of queries, whatever the number of items. With `dry_run`, every check is made (and
    every refusal raised) but nothing is stored, and it returns [] (the portal's spreadsheet preview).
    """
    if not items:
        return []
    supplier_id = supplier_id_for_user(actor) if actor is not None else None
    within = Part.objects.all() if supplier_id is None else Part.objects.filter(supplier_id=supplier_id)
    errors: list[dict[str, list[str]]] = [{} for _ in items]
    if supplier_id is not None:
        today = timezone.localdate(now) if now is not None else timezone.localdate()
        for item, item_errors in zip(items, errors, strict=True):
            if item and item.get("ppap_status") in PPAP_CUSTOMER_DECISIONS:
                item_errors["ppap_status"] = [supplier_ppap_refusal(PPAPStatus.NOT_SUBMITTED, item["ppap_status"])]
            promise = item and supplier_promise_refusal(item.get("promised_date"), today=today)
            if promise:
                item_errors["promised_date"] = [promise]
            run = item and supplier_run_at_rate_refusal(item.get("run_at_rate_on"), today=today)
            if run:
                item_errors["run_at_rate_on"] = [run]
    with transaction.atomic():
        part_ids = _part_ids(items, errors, within)
        # The check that a part exists and may be written is the lock on it: it cannot vanish before the write.
        locked = parts_lock({pk for pk in part_ids if pk is not None}, within=within)
        for index, (item, part_id) in enumerate(zip(items, part_ids, strict=True)):
            if part_id is not None and part_id not in locked:
                named_by_id = "part_id" in item
                errors[index] = (
                    {"part": [gettext("No part with id %(id)s.") % {"id": part_id}]}
                    if named_by_id
                    else {"part_number": [f"No part {item['part_number']} in program {item['program']}."]}
                )
        if supplier_id is not None:
            _check_supplier_ppap(items, part_ids, errors, locked)
        if any(errors) or None in part_ids:
            raise SupplierUpdatesRefused(errors)
        # The time is taken once the rows are locked, so updates to one part are stamped in the order they apply.
        now = now or timezone.now()
        if supplier_id is not None:
            supplier_daily_limit_check(supplier_id=supplier_id, adding=len(items), now=now)
        if dry_run:
            return []
        return _supplier_updates_store(actor, items, part_ids, locked, now)


def _part_ids(items: Sequence[dict | None], errors: list[dict], within: QuerySet[Part]) -> list[int | None]:
    """The id of each item's part (None for a malformed or refused item), resolving those named by number within
    `within` in one query; why not goes into `errors`."""
    numbers = {(item["program"], item["part_number"]) for item in items if item and "part_number" in item}
    revisions = selectors.part_revisions_by_number(within, numbers) if numbers else {}
    ids: list[int | None] = []
    for item, item_errors in zip(items, errors, strict=True):
        if not item or item_errors:
            ids.append(None)
        elif "part_id" in item:
            ids.append(item["part_id"])
        else:
            ids.append(_part_id_by_number(item, item_errors, revisions))
    return ids


def _part_id_by_number(item: dict, item_errors: dict, revisions: dict[tuple[str, str], dict[str, int]]) -> int | None:
    code, number, revision = item["program"], item["part_number"], item.get("revision")
    by_revision = revisions.get((code, number), {})
    if revision is not None:
        if revision in by_revision:
            return by_revision[revision]
        item_errors["revision"] = [f"No revision {revision} of part {number} in program {code}."]
    elif len(by_revision) == 1:
        return next(iter(by_revision.values()))
    elif not by_revision:
        item_errors["part_number"] = [f"No part {number} in program {code}."]
    else:
        item_errors["revision"] = [
            f"Part {number} in program {code} has several revisions ({', '.join(sorted(by_revision))}); name one."
        ]
    return None


def _check_supplier_ppap(items, part_ids, errors: list[dict], locked: dict[int, LockedPart]) -> None:
    """Refuse the PPAP statuses a supplier may not report for the part as it stands when the item applies (the
    items of a batch apply in order)."""
    statuses = {pk: part.ppap_status for pk, part in locked.items()}
    for item, part_id, item_errors in zip(items, part_ids, errors, strict=True):
        if item_errors or part_id is None or "ppap_status" not in item:
            continue
        refusal = supplier_ppap_refusal(statuses[part_id], item["ppap_status"])
        if refusal:
            item_errors["ppap_status"] = [refusal]
        else:
            statuses[part_id] = item["ppap_status"]


def _supplier_updates_store(actor, items, part_ids: list[int], locked: dict[int, LockedPart], now) -> list[dict]:
    """Insert the updates and merge what they report into their parts, set-based (`parts.batch_writes`)."""
    username = actor.get_username() if actor is not None else ""
    constants = {"reported_by_id": getattr(actor, "pk", None), "reported_by_username": username, "reported_at": now}
    stored = []
    changes: dict[int, dict[str, object]] = {}  # per part: the last reported value of each field
    for item, part_id in zip(items, part_ids, strict=True):
        reported = {name: value for name, value in item.items() if name in _NOT_REPORTED and value is not None}
        stored.append({"part_id": part_id, "supplier_id": locked[part_id].supplier_id, **_NOT_REPORTED, **reported})
        changes.setdefault(part_id, {}).update(
            (name, value) for name, value in reported.items() if name in SUPPLIER_UPDATE_FIELDS
        )
    columns = {name: [row[name] for row in stored] for name in ("part_id", "supplier_id", *_NOT_REPORTED)}
    for row, pk in zip(stored, bulk_insert_columns(SupplierUpdate, columns, constants=constants), strict=True):
        part = locked[row["part_id"]]
        row.update(constants, id=pk, program=part.program, part_number=part.part_number, revision=part.revision)
    bulk_merge(Part, changes, constants={"last_supplier_update_at": now, "updated_at": now})
    reported_capacities_as_lines(
        {pk: change["capacity_per_week"] for pk, change in changes.items() if "capacity_per_week" in change},
        planned={pk for pk, part in locked.items() if part.has_plan},
        actor=actor,
        now=now,
    )
    # The reason names the reporter, so the part's history shows who it was after the user row is gone.
    parts_recorded(
        list(changes),
        {locked[part_id].program_id for part_id in changes},
        actor,
        reason=f"supplier update by {username}"[:100] if username else "supplier update",
    )
    return stored


def parts_approve_ppap(*, actor, part_ids: Iterable[int]) -> int:
    """Approve the PPAP of the given parts (the customer's decision). Returns how many changed."""
    with transaction.atomic():
        locked = parts_locked(part_ids).exclude(ppap_status=PPAPStatus.APPROVED)
        return _parts_set(locked, actor, ppap_status=PPAPStatus.APPROVED)


def parts_mark_received(*, actor, part_ids: Iterable[int], on: date | None = None) -> int:
    """Record that PPAP-conform parts arrived at the plant on `on` (default today). Returns how many changed."""
    on = on or timezone.localdate()
    with transaction.atomic():
        return _parts_set(parts_locked(part_ids).filter(received_on__isnull=True), actor, received_on=on)


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
        size = f"{upload.size / 2**20:.1f}"
        message = gettext("%(name)s is %(size)s MB; evidence files may be up to %(limit)s MB.")
        return message % {"name": upload.name, "size": size, "limit": limit}
    extension = Path(upload.name).suffix.lower().lstrip(".")
    allowed = settings.EVIDENCE_FILE_TYPES
    if extension not in allowed:
        message = gettext("%(name)s: a .%(extension)s file is not taken; allowed: %(allowed)s.")
        extension = extension or gettext("(no extension)")
        return message % {"name": upload.name, "extension": extension, "allowed": ", ".join(allowed)}
    return None


def evidence_file_keep(evidence: StoredEvidence, *, actor, upload) -> StoredEvidence:
    """Keep `upload` (through the default storage) as the file of `evidence`, an unsaved record of what it proves (a
    part's `EvidenceFile`, a handover item's file), added by `actor`. Refused with a ValidationError naming `file`
    and the limit when it is too large or of a type not taken; nothing is stored then."""
    refusal = evidence_file_refusal(upload)
    if refusal:
        raise ValidationError({"file": [refusal]})
    evidence.name, evidence.size = upload.name[:255], upload.size
    evidence.uploaded_by, evidence.uploaded_by_username = actor, actor.get_username() if actor else ""
    evidence.file.save(upload.name, upload, save=False)
    try:
        evidence.save()
    except Exception:
        evidence.file.delete(save=False)  # no file without its record
        raise
    return evidence


def evidence_file_add(*, part: Part, actor, kind: str, upload) -> EvidenceFile:
    """Keep `upload` as evidence of `part`, by `actor`, within the limits (`evidence_file_keep`)."""
    return evidence_file_keep(EvidenceFile(part=part, kind=kind), actor=actor, upload=upload)
