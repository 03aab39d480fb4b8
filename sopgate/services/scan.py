"""The scan: evaluate every rule of a program and reconcile the stored blockers with the findings, recording the
immediate alerts of new blocking ones."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from parts.models import Part, Supplier
from validation.models import HandoverChecklist, HandoverItem, ValidationTest

from ..choices import ObjectType, Severity
from ..gate.findings import Finding, program_findings
from ..gate.rules import RULE
from ..models import Alert, Blocker, Program, ScanRequest
from .outbox import _dispatch_scan, dispatch_alerts

logger = logging.getLogger(__name__)

_REFRESHED_FIELDS = (
    "severity",
    "object_label",
    "message",
    "owner_id",
    "co_owner_id",
    "supplier_id",
    "clear_by",
    "fingerprint",
)


@dataclass
class ScanResult:
    program_code: str
    opened: int = 0
    refreshed: int = 0
    resolved: int = 0
    open_blocking: int = 0
    open_warning: int = 0
    alert_ids: list[int] = field(default_factory=list)


def program_scan(*, program_id: int, today: date | None = None, now: datetime | None = None) -> ScanResult:
    """Evaluate every rule for one program and reconcile the stored blockers with the findings.

    Opens blockers for new findings, refreshes those that say something new, resolves those no longer true,
    and records the immediate alerts of newly opened blocking blockers, all in one transaction. The program row
    is locked for the duration, so two scans of one program run one after the other and the second changes
    nothing; the partial unique index on open blockers backs that up. The number of queries does not depend on
    the program's size; a scan whose findings match the open blockers (by their fingerprints) writes nothing
    but the program's `last_scanned_at`.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    with transaction.atomic():
        program = _lock_program(program_id, now)
        pending_changes = program.pending_changes
        findings = program_findings(program, today)
        result = ScanResult(program.code)
        result.open_blocking = sum(RULE[f.rule].blocking for f in findings)
        result.open_warning = len(findings) - result.open_blocking
        if _blockers_match(program, findings):
            result.refreshed, created = len(findings), []
        else:
            created = _reconcile(program, findings, now, result)
        result.alert_ids = _record_alerts(program, [b for b in created if b.severity == Severity.BLOCKING])
        if result.alert_ids:
            _alerts_durable()
            transaction.on_commit(lambda: dispatch_alerts(result.alert_ids))
        if pending_changes is not None and not _consume_scan_request(program_id, pending_changes):
            # Data changed while this scan ran and the writer saw a pending request, so it queued nothing:
            # the follow-up scan is ours to queue.
            transaction.on_commit(lambda: _dispatch_scan(program_id))
    logger.info(
        "scan %s: %d opened, %d still open, %d resolved",
        result.program_code,
        result.opened,
        result.refreshed,
        result.resolved,
    )
    return result


def _lock_program(program_id: int, now: datetime) -> Program:
    """Lock the program for its scan, stamp its `last_scanned_at`, and read its pending re-scan request's
    `changes` (as `pending_changes`, None without one).

    FOR NO KEY UPDATE: two scans of one program run one after the other, without blocking inserts of parts,
    tests or checklists that reference it (their foreign-key check takes KEY SHARE, which FOR UPDATE blocks).
    Others see the new time when the scan commits."""
    pending = ScanRequest.objects.filter(program=OuterRef("pk")).values("changes")
    program = (
        Program.objects.select_for_update(no_key=True).annotate(pending_changes=Subquery(pending)).get(pk=program_id)
    )
    Program.objects.filter(pk=program_id).update(last_scanned_at=now)  # not save(): no history row for a scan
    program.last_scanned_at = now
    _commit_asynchronously()
    return program


def _blockers_match(program: Program, findings: list[Finding]) -> bool:
    """Whether the open blockers are exactly the findings as the scan would write them (up to a 2**-40 chance
    that a change goes unseen): compared by the count and the sum of their fingerprints, one aggregate query
    (an index-only scan of `blocker_open_fingerprints`)."""
    stored = Blocker.objects.filter(program=program, resolved_at__isnull=True).aggregate(
        count=Count("id"), fingerprinted=Count("fingerprint"), total=Sum("fingerprint")
    )
    return stored["count"] == stored["fingerprinted"] == len(findings) and (stored["total"] or 0) == sum(
        f.fingerprint for f in findings
    )


def _reconcile(program: Program, findings: list[Finding], now: datetime, result: ScanResult) -> list[Blocker]:
    """Open blockers for new findings, rewrite those whose fingerprint changed, resolve those no longer found.
    Returns the blockers opened."""
    by_key = {finding.key: finding for finding in findings}
    open_rows = {
        (rule, object_type, object_id): (pk, stored)
        for rule, object_type, object_id, pk, stored in Blocker.objects.filter(
            program=program, resolved_at__isnull=True
        ).values_list("rule", "object_type", "object_id", "id", "fingerprint")
    }

    resolved_ids = [pk for key, (pk, _) in open_rows.items() if key not in by_key]
    if resolved_ids:
        result.resolved = Blocker.objects.filter(id__in=resolved_ids).update(resolved_at=now, last_seen_at=now)
    result.refreshed = len(open_rows) - len(resolved_ids)

    changed = [
        Blocker(pk=pk, last_seen_at=now, **_blocker_fields(by_key[key]))
        for key, (pk, stored) in open_rows.items()
        if key in by_key and by_key[key].fingerprint != stored
    ]
    if changed:
        # last_seen_at moves only with a change: rewriting every open row on each scan would make a
        # scan with nothing new write thousands of rows; Program.last_scanned_at says when it last ran.
        Blocker.objects.bulk_update(changed, [*_REFRESHED_FIELDS, "last_seen_at"], batch_size=1000)

    returning = {key: finding for key, finding in by_key.items() if key not in open_rows}
    last_resolved = _last_resolved(program, returning) if returning else {}
    quiet_since = now - timedelta(hours=settings.SOPGATE_REOPEN_QUIET_HOURS)
    reopened = [
        Blocker(pk=pk, resolved_at=None, reopened_at=now, last_seen_at=now, **_blocker_fields(returning[key]))
        for key, (pk, resolved_at) in last_resolved.items()
        if resolved_at >= quiet_since
    ]
    if reopened:
        # Back within the quiet hours: the same blocker, open again, and no second alert (it had one).
        fields = [*_REFRESHED_FIELDS, "resolved_at", "reopened_at", "last_seen_at"]
        Blocker.objects.bulk_update(reopened, fields, batch_size=1000)
    quiet = {key for key, (_, resolved_at) in last_resolved.items() if resolved_at >= quiet_since}
    new = [
        Blocker(
            program=program,
            opened_at=now,
            last_seen_at=now,
            reopened_at=now if key in last_resolved else None,  # came back after the quiet hours: alerts again
            **_blocker_fields(finding),
        )
        for key, finding in returning.items()
        if key not in quiet
    ]
    if new:
        _resolve_moved_objects(program, now)
    created = Blocker.objects.bulk_create(new, batch_size=1000)
    result.opened = len(created) + len(reopened)
    return created


def _last_resolved(program: Program, findings: dict) -> dict[tuple, tuple[int, datetime]]:
    """Per key of `findings` that had a blocker before, the latest one's id and resolution time: two queries,
    whatever the number of findings (the latest time per key, then the rows with those times)."""
    keys = set(findings)
    resolved = Blocker.objects.filter(program=program, resolved_at__isnull=False)
    latest = {
        (rule, object_type, object_id): at
        for rule, object_type, object_id, at in resolved.values("rule", "object_type", "object_id")
        .annotate(at=Max("resolved_at"))
        .values_list("rule", "object_type", "object_id", "at")
        if (rule, object_type, object_id) in keys
    }
    if not latest:
        return {}
    rows = resolved.filter(resolved_at__in=set(latest.values())).values_list(
        "rule", "object_type", "object_id", "id", "resolved_at"
    )
    return {
        (rule, object_type, object_id): (pk, at)
        for rule, object_type, object_id, pk, at in rows
        if latest.get((rule, object_type, object_id)) == at
    }


def _commit_asynchronously() -> None:
    """The scan's commit need not wait for the disk (PostgreSQL): if the server crashes right after, the scan is
    lost whole, its scan request comes back and the next scan redoes it. Scans that record alerts wait again
    (`_alerts_durable`): an email must not go out for a blocker that a crash takes back. A `SET LOCAL` of a
    server setting has no ORM form, hence the one-line SQL here and in `_alerts_durable`."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _alerts_durable() -> None:
    """Make the scan's commit wait for the disk again (see `_commit_asynchronously`)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO ON")


def _consume_scan_request(program_id: int, seen_changes: int) -> bool:
    """Delete the re-scan request this scan has served. False if newer changes arrived meanwhile.

    A writer that changes data during the scan bumps `changes` (holding the row until it commits), so the
    delete skips the row and the change is not lost.
    """
    deleted, _ = ScanRequest.objects.filter(program_id=program_id, changes__lte=seen_changes).delete()
    return bool(deleted)


def _resolve_moved_objects(program: Program, now: datetime) -> None:
    """Resolve open blockers that another program holds for objects now in this one (e.g. a part moved).

    The open-blocker index is unique per (rule, object) across programs, so without this the new blocker
    of the moved object would be refused until the old program happened to be scanned first.
    """
    mine = (
        Q(object_type=ObjectType.PART, object_id__in=Part.objects.filter(program=program).values("pk"))
        | Q(
            object_type=ObjectType.VALIDATION_TEST,
            object_id__in=ValidationTest.objects.filter(program=program).values("pk"),
        )
        | Q(
            object_type=ObjectType.HANDOVER_ITEM,
            object_id__in=HandoverItem.objects.filter(checklist__program=program).values("pk"),
        )
        | Q(
            object_type=ObjectType.HANDOVER_CHECKLIST,
            object_id__in=HandoverChecklist.objects.filter(program=program).values("pk"),
        )
    )
    Blocker.objects.filter(mine, resolved_at__isnull=True).exclude(program=program).update(
        resolved_at=now, last_seen_at=now
    )


def _blocker_fields(finding: Finding) -> dict:
    return finding.blocker_fields()


def alert_recipients(blockers: list[Blocker]) -> dict[int, list[str]]:
    """Who gets the immediate alert of each blocker: its active owners with an email address, plus an active
    supplier's alert contacts for supplier-caused rules. Two queries, whatever the number of blockers."""
    user_ids = {uid for b in blockers for uid in (b.owner_id, b.co_owner_id) if uid}
    emails = dict(
        get_user_model().objects.filter(id__in=user_ids, is_active=True).exclude(email="").values_list("id", "email")
    )
    supplier_ids = {b.supplier_id for b in blockers if b.supplier_id and RULE[b.rule].alerts_supplier}
    # An inactive supplier (no longer delivering) is not written to.
    contacts = dict(Supplier.objects.filter(id__in=supplier_ids, is_active=True).values_list("id", "alert_emails"))
    recipients = {}
    for blocker in blockers:
        people = {emails[uid].strip().lower() for uid in (blocker.owner_id, blocker.co_owner_id) if uid in emails}
        if RULE[blocker.rule].alerts_supplier and isinstance(contacts.get(blocker.supplier_id), list):
            people.update(e.strip().lower() for e in contacts[blocker.supplier_id] if isinstance(e, str) and e.strip())
        recipients[blocker.pk] = sorted(people)
    return recipients


def _record_alerts(program: Program, blockers: list[Blocker]) -> list[int]:
    """One pending Alert row per (blocker, recipient), stored with the blocker: the outbox of immediate emails.

    Only called for blockers created in this transaction, so no alert row can exist for them yet; the
    unique (blocker, recipient) constraint still makes a second row impossible.
    """
    if not blockers:
        return []
    recipients = alert_recipients(blockers)
    alerts = [Alert(blocker=blocker, recipient=r) for blocker in blockers for r in recipients[blocker.pk]]
    return [alert.pk for alert in Alert.objects.bulk_create(alerts, batch_size=1000)]
