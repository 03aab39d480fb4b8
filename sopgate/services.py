"""Writes of the gate: the scan that reconciles blockers, the outbox of re-scans, snapshots."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from operator import itemgetter

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from parts.models import Supplier

from .choices import RULE_SEVERITY, SUPPLIER_RULES, AlertStatus, ObjectType, Severity
from .models import Alert, Blocker, Program, ReadinessSnapshot, ScanRequest
from .rows import columns_of, instance_from_row
from .rules import Finding, Violation, findings_of, violations, violations_after
from .rules.sql import batch
from .selectors import open_blocker_rows

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

_BLOCKING_RULES = frozenset(str(rule) for rule, severity in RULE_SEVERITY.items() if severity == Severity.BLOCKING)


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

    Opens blockers for new findings, refreshes those still true, resolves those no longer true, and records
    the immediate alerts of newly opened blocking blockers, all in one transaction. The program row is
    locked for the duration, so two scans of one program run one after the other and the second changes
    nothing; the partial unique index on open blockers backs that up. The number of queries does not
    depend on the program's size. Called outside a transaction (as the worker does) for a program this process
    scanned before, a scan that finds nothing to change is one round trip (`_scan_if_unchanged`).
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    result = None
    if not connection.in_atomic_block and program_id in _PROGRAMS_SEEN:
        result = _scan_if_unchanged(program_id, now, today)
    if result is None:
        result = _scan_and_reconcile(program_id, now, today)
    logger.info(
        "scan %s: %d opened, %d still open, %d resolved",
        result.program_code,
        result.opened,
        result.refreshed,
        result.resolved,
    )
    return result


def _scan_if_unchanged(program_id: int, now: datetime, today: date) -> ScanResult | None:
    """A re-scan outside any transaction that finds the open blockers as they should be: lock the program,
    evaluate and compare in one round trip, with no BEGIN and COMMIT round trips (PostgreSQL runs the statements
    of one query string as one transaction of their own). None, having changed nothing but `last_scanned_at`,
    when the blockers must be reconciled: the scan then runs again, in a transaction (`_scan_and_reconcile`).

    The pending re-scan request is read before the rules are evaluated, so consuming it afterwards, only if
    no change arrived since (`_consume_scan_request`), loses no change, as in a transaction."""
    program, found = _lock_and_evaluate(program_id, now, today)
    if not _blockers_match(program, found):
        return None
    result = _unchanged_result(program, found)
    if program.pending_changes is not None and not _consume_scan_request(program_id, program.pending_changes):
        _dispatch_scan(program_id)
    return result


def _blockers_match(program: Program, found: list[Violation]) -> bool:
    """Whether the open blockers are exactly the violations as the scan would write them (up to a 2**-40 chance
    that a change goes unseen): then there is nothing to read back, resolve, refresh or open."""
    return program.open_blockers_digest == _digest(list(map(itemgetter(3), found)))  # their fingerprints


def _unchanged_result(program: Program, found: list[Violation]) -> ScanResult:
    return _with_open_counts(ScanResult(program.code, refreshed=len(found)), found)


def _with_open_counts(result: ScanResult, found: list[Violation]) -> ScanResult:
    """`result` with its counts of open blocking blockers and warnings: those of the violations found."""
    result.open_blocking = sum(map(_BLOCKING_RULES.__contains__, map(itemgetter(0), found)))
    result.open_warning = len(found) - result.open_blocking
    return result


def _scan_and_reconcile(program_id: int, now: datetime, today: date) -> ScanResult:
    with transaction.atomic():
        program, found = _lock_and_evaluate(program_id, now, today)
        pending_changes = program.pending_changes
        if _blockers_match(program, found):
            result, created = _unchanged_result(program, found), []
        else:
            result = _with_open_counts(ScanResult(program.code), found)
            created = _reconcile(program, today, found, now, result)
        result.alert_ids = _record_alerts(program, [b for b in created if b.severity == Severity.BLOCKING])
        if result.alert_ids:
            _alerts_durable()
            transaction.on_commit(lambda: dispatch_alerts(result.alert_ids))
        if pending_changes is not None and not _consume_scan_request(program_id, pending_changes):
            # Data changed while this scan ran and the writer saw a pending request, so it queued nothing:
            # the follow-up scan is ours to queue.
            transaction.on_commit(lambda: _dispatch_scan(program_id))
    return result


def _digest(fingerprints: list[int]) -> str:
    """What `_lock_statements` read as `open_blockers_digest`, for blockers with these fingerprints:
    how many there are, how many have a fingerprint, and the sum of the fingerprints."""
    return f"{len(fingerprints)}:{len(fingerprints)}:{sum(fingerprints)}"


def _reconcile(
    program: Program, today: date, found: list[Violation], now: datetime, result: ScanResult
) -> list[Blocker]:
    """Open blockers for new violations, rewrite those whose fingerprint changed, resolve those no longer found.
    Returns the blockers opened."""
    by_key = {violation[:3]: violation for violation in found}
    # Tuples, not model instances: each open blocker as (rule, object_type, object_id, id, fingerprint). The
    # fingerprint stands for everything else the blocker says, so findings (and their messages) are read only
    # for violations that are new or changed, and no blocker is read back.
    open_rows = {row[:3]: row for row in open_blocker_rows(program_id=program.pk)}

    resolved_ids = [row[3] for key, row in open_rows.items() if key not in by_key]
    if resolved_ids:
        result.resolved = Blocker.objects.filter(id__in=resolved_ids).update(resolved_at=now, last_seen_at=now)
    result.refreshed = len(open_rows) - len(resolved_ids)

    changed_keys = [key for key, row in open_rows.items() if key in by_key and by_key[key].fingerprint != row[4]]
    new_keys = [key for key in by_key if key not in open_rows]
    # A finding that no longer holds here (its object changed since `violations` read it) is left for the
    # re-scan that change queued.
    findings = findings_of(program, today, changed_keys + new_keys) if changed_keys or new_keys else {}
    changed = [
        Blocker(pk=open_rows[key][3], last_seen_at=now, **_blocker_fields(findings[key]))
        for key in changed_keys
        if key in findings
    ]
    if changed:
        # last_seen_at moves only with a change: rewriting every open row on each scan would make a
        # scan with nothing new write thousands of rows; Program.last_scanned_at says when it last ran.
        Blocker.objects.bulk_update(changed, [*_REFRESHED_FIELDS, "last_seen_at"], batch_size=1000)

    new = [
        Blocker(program=program, opened_at=now, last_seen_at=now, **_blocker_fields(findings[key]))
        for key in new_keys
        if key in findings
    ]
    if new:
        _resolve_moved_objects(program, now)
    created = Blocker.objects.bulk_create(new, batch_size=1000)
    result.opened = len(created)
    return created


# Per program, its row as this process's last scan of it read it (`_lock_and_evaluate`).
_PROGRAMS_SEEN: dict[int, Program] = {}


def forget_program(program_id: int) -> None:
    """Drop what this process keeps of a program that is gone (its settings as its last scan here read them)."""
    _PROGRAMS_SEEN.pop(program_id, None)


def _lock_and_evaluate(program_id: int, now: datetime, today: date) -> tuple[Program, list[Violation]]:
    """Lock the program (`_lock_statements`) and find its violations as of `today`, in one round trip when
    this process has scanned the program before.

    The rule statements take the program's dates and limits as parameters, and the program is read by the
    statement that locks it: so they go in the same round trip with the figures of the program as the last
    scan here read it, which are checked against the locked row afterwards (a program whose settings changed
    since is evaluated again, with the new ones): one round trip fewer than lock, then evaluate."""
    statements, params = _lock_statements(program_id, now)
    known = _PROGRAMS_SEEN.get(program_id)
    if known is not None:
        (lock_rows, *_), found = violations_after(statements, params, known, today)
        program = _program_from_lock_row(program_id, lock_rows)
        if _figures(program) != _figures(known):
            found = violations(program, today)
    else:
        lock_rows, *_ = batch([], params, first=statements)
        program = _program_from_lock_row(program_id, lock_rows)
        found = violations(program, today)
    _PROGRAMS_SEEN[program_id] = program
    return program, found


def _figures(program: Program) -> tuple:
    """Every field of the program except when it was last scanned: what the rule statements may depend on."""
    return tuple(
        getattr(program, field.attname) for field in Program._meta.concrete_fields if field.name != "last_scanned_at"
    )


def _lock_statements(program_id: int, now: datetime) -> tuple[tuple[str, ...], dict]:
    """The statements that lock the program for its scan (see `_lock_sql`), and their parameters."""
    return _lock_sql(connection.vendor), {
        "scan_now": connection.ops.adapt_datetimefield_value(now),
        "program": program_id,
    }


@cache
def _lock_sql(vendor: str) -> tuple[str, ...]:
    """The statements that lock the program for its scan, stamp its `last_scanned_at` and read its pending
    re-scan request's `changes` (as `pending_changes`) and the digest of its open blockers (as
    `open_blockers_digest`, see `_digest`).

    The UPDATE takes the row lock of SELECT ... FOR NO KEY UPDATE (it changes no key): two scans of one
    program run one after the other, without blocking inserts of parts, tests or checklists that reference
    it (their foreign-key check takes KEY SHARE, which FOR UPDATE would block). Others see the new time when
    the scan commits. The three ORM queries this replaces took a third of a re-scan with nothing new.
    """
    quote = connection.ops.quote_name
    program, request, blocker = Program._meta, ScanRequest._meta, Blocker._meta
    fingerprint = quote(blocker.get_field("fingerprint").column)
    columns = columns_of(Program)
    statements = [
        f"UPDATE {quote(program.db_table)} SET {quote(program.get_field('last_scanned_at').column)} = %(scan_now)s "
        f"WHERE {quote(program.pk.column)} = %(program)s RETURNING {columns}, "
        f"(SELECT {quote(request.get_field('changes').column)} FROM {quote(request.db_table)} "
        f"WHERE {quote(request.get_field('program').column)} = %(program)s) AS pending_changes, "
        f"(SELECT COUNT(*) || ':' || COUNT({fingerprint}) || ':' || COALESCE(SUM({fingerprint}), 0) "
        f"FROM {quote(blocker.db_table)} WHERE {quote(blocker.get_field('program').column)} = %(program)s "
        f"AND {quote(blocker.get_field('resolved_at').column)} IS NULL) AS open_blockers_digest"
    ]
    if vendor == "postgresql":
        # The scan's commit need not wait for the disk: if the server crashes right after, the scan is lost
        # whole, its scan request comes back and the next scan redoes it. Scans that record alerts wait
        # again (`_alerts_durable`): an email must not go out for a blocker that a crash takes back.
        statements.append("SET LOCAL synchronous_commit TO OFF")
    return tuple(statements)


def _program_from_lock_row(program_id: int, rows: list[tuple]) -> Program:
    """The program the lock statement returned, with `pending_changes` and `open_blockers_digest`."""
    if not rows:
        raise Program.DoesNotExist(f"Program {program_id} does not exist.")
    program, (pending_changes, digest) = instance_from_row(Program, rows[0])
    program.pending_changes, program.open_blockers_digest = pending_changes, digest
    return program


def _alerts_durable() -> None:
    """Make the scan's commit wait for the disk again (see `_lock_statements`)."""
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
    from parts.models import Part
    from validation.models import HandoverChecklist, HandoverItem, ValidationTest

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
    """The fields of the blocker of a finding: its message is written here, and only here."""
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "object_type": finding.object_type,
        "object_id": finding.object_id,
        "object_label": finding.object_label[:300],
        "message": finding.message,
        "owner_id": finding.owner_id,
        "co_owner_id": finding.co_owner_id,
        "supplier_id": finding.supplier_id,
        "clear_by": finding.clear_by,
        "fingerprint": finding.fingerprint,
    }


def alert_recipients(blockers: list[Blocker]) -> dict[int, list[str]]:
    """Who gets the immediate alert of each blocker: its active owners with an email address, plus an active
    supplier's alert contacts for supplier-caused rules. Two queries, whatever the number of blockers."""
    user_ids = {uid for b in blockers for uid in (b.owner_id, b.co_owner_id) if uid}
    emails = dict(
        get_user_model().objects.filter(id__in=user_ids, is_active=True).exclude(email="").values_list("id", "email")
    )
    supplier_ids = {b.supplier_id for b in blockers if b.supplier_id and b.rule in SUPPLIER_RULES}
    # An inactive supplier (no longer delivering) is not written to.
    contacts = dict(Supplier.objects.filter(id__in=supplier_ids, is_active=True).values_list("id", "alert_emails"))
    recipients = {}
    for blocker in blockers:
        people = {emails[uid].strip().lower() for uid in (blocker.owner_id, blocker.co_owner_id) if uid in emails}
        if blocker.rule in SUPPLIER_RULES and isinstance(contacts.get(blocker.supplier_id), list):
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


def dispatch_alerts(alert_ids: list[int]) -> None:
    """Queue the sending of stored alerts. A broker failure leaves them pending for `outbox_dispatch`."""
    from .tasks import send_alert

    queued = []
    for alert_id in alert_ids:
        try:
            send_alert.apply_async(args=[alert_id], retry=False)
        except Exception:  # broker down: the alert stays in the outbox and goes out later
            logger.warning("could not queue alert %s; it stays pending in the outbox", alert_id, exc_info=True)
            break
        queued.append(alert_id)
    if queued:
        Alert.objects.filter(pk__in=queued, dispatched_at__isnull=True).update(dispatched_at=timezone.now())


# --- Re-scan outbox -----------------------------------------------------------------------------------


def scan_request(*, program_id: int | None, now: datetime | None = None) -> None:
    """Record that a program's data changed: a scan follows shortly after the transaction commits.

    The request row is written in the caller's transaction (it is lost only if the change is), and at most
    one row exists per program, so 500 changes in a minute lead to one queued scan. Only the change that
    creates the row queues the scan; later changes bump `changes`, which tells a scan already running that
    it must queue a follow-up (see `program_scan`). A row whose queueing failed is picked up by
    `outbox_dispatch`.
    """
    if program_id is None:
        return
    now = now or timezone.now()
    params = [program_id, connection.ops.adapt_datetimefield_value(now), program_id]
    try:
        with connection.cursor() as cursor:
            cursor.execute(_scan_request_upsert(connection.vendor), params)
            row = cursor.fetchone()
    except IntegrityError:
        if connection.in_atomic_block:
            raise
        return  # outside a transaction (an after-commit hook): the program was deleted as we wrote
    if row is None:
        return  # the program is gone: nothing to scan
    if row[0] == 1:  # the row is new: an existing one has at least one change already, and now one more
        transaction.on_commit(lambda: _dispatch_scan(program_id))


@cache
def _scan_request_upsert(vendor: str) -> str:
    """Insert a program's scan request, or count one more change on it, in one statement (PostgreSQL and
    SQLite alike); returns `changes`, or no row if the program does not exist. Inside a transaction the foreign
    key is checked at commit, as Django declares it: a program deleted by another transaction meanwhile fails
    the caller's commit, as its own writes to the program's objects would."""
    quote = connection.ops.quote_name
    meta = ScanRequest._meta
    table, program, requested, changes = (
        quote(meta.db_table),
        quote(meta.get_field("program").column),
        quote(meta.get_field("requested_at").column),
        quote(meta.get_field("changes").column),
    )
    programs, program_pk = quote(Program._meta.db_table), quote(Program._meta.pk.column)
    return (
        f"INSERT INTO {table} ({program}, {requested}, {changes}) "
        f"SELECT %s, %s, 1 WHERE EXISTS (SELECT 1 FROM {programs} WHERE {program_pk} = %s) "
        f"ON CONFLICT ({program}) DO UPDATE SET {changes} = {table}.{changes} + 1, {requested} = EXCLUDED.{requested} "
        f"RETURNING {changes}"
    )


def _dispatch_scan(program_id: int) -> None:
    from .tasks import scan_program

    try:
        scan_program.apply_async(args=[program_id], countdown=settings.SOPGATE_SCAN_DEBOUNCE_SECONDS, retry=False)
    except Exception:
        logger.warning("could not queue scan of program %s; it stays in the outbox", program_id, exc_info=True)
        return
    ScanRequest.objects.filter(program_id=program_id).update(dispatched_at=timezone.now())


def outbox_dispatch(*, now: datetime | None = None, redispatch_after_s: int = 300) -> tuple[int, int]:
    """Queue every re-scan and alert that is still waiting: never queued, or queued long ago and not done."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=redispatch_after_s)
    scans = list(
        ScanRequest.objects.filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale)).values_list(
            "program_id", flat=True
        )
    )
    for program_id in scans:
        _dispatch_scan(program_id)
    alerts = list(
        Alert.objects.filter(status=AlertStatus.PENDING)
        .exclude(dispatched_at__gte=stale)
        .exclude(next_attempt_at__gt=now)
        .values_list("id", flat=True)[:1000]
    )
    Alert.objects.filter(id__in=alerts).update(dispatched_at=None)
    dispatch_alerts(alerts)
    return len(scans), len(alerts)


def program_snapshot(*, program_id: int, today: date | None = None) -> ReadinessSnapshot:
    from .selectors import program_readiness

    program = Program.objects.get(pk=program_id)
    readiness = program_readiness(program, today=today)
    snapshot, _ = ReadinessSnapshot.objects.update_or_create(
        program=program,
        date=readiness.as_of,
        defaults={
            "decision": readiness.decision,
            "readiness_pct": readiness.readiness_pct,
            "blocking_count": readiness.blocking_count,
            "warning_count": readiness.warning_count,
            "counts": readiness.counts,
            "forecast_sop_date": readiness.forecast_sop_date,
        },
    )
    return snapshot


def programs_archive(*, program_ids, actor, archived: bool = True, now: datetime | None = None) -> int:
    """Archive (or, with `archived=False`, unarchive) the programs with ids `program_ids` that are not so yet;
    each change is recorded in the program's history with `actor`. Returns how many changed."""
    programs = Program.objects.filter(pk__in=list(program_ids), archived_at__isnull=archived).order_by("pk")
    when = (now or timezone.now()) if archived else None
    count = 0
    with transaction.atomic():
        for program in programs.select_for_update():
            program.archived_at = when
            program._history_user = actor
            program.save(update_fields=["archived_at", "updated_at"])
            count += 1
    return count
