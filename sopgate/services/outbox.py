"""The gate's outbox: re-scan requests and pending alert emails, queued after commit, and queued again by
`outbox_dispatch` when the broker was down."""

import logging
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from ..choices import AlertStatus
from ..models import Alert, Program, ScanRequest

logger = logging.getLogger(__name__)

# Queueing a scan or an alert email is the business of the layer above (`sopgate.tasks` connects the receivers that
# publish the tasks), so that the gate names no task. A request that no receiver takes, or whose receiver fails
# (the broker is down), stays in its outbox for `outbox_dispatch`.
scan_due = Signal()  # program_id, countdown (seconds)
alert_due = Signal()  # alert_id


def _queue(signal: Signal, **kwargs) -> None:
    if not signal.send(sender=None, **kwargs):
        raise RuntimeError("no receiver queues this request (sopgate.tasks is not loaded)")


def dispatch_alerts(alert_ids: list[int]) -> None:
    """Queue the sending of stored alerts. A broker failure leaves them pending for `outbox_dispatch`."""
    queued = []
    for alert_id in alert_ids:
        try:
            _queue(alert_due, alert_id=alert_id)
        except Exception:  # broker down: the alert stays in the outbox and goes out later
            logger.warning("could not queue alert %s; it stays pending in the outbox", alert_id, exc_info=True)
            break
        queued.append(alert_id)
    if queued:
        Alert.objects.filter(pk__in=queued, dispatched_at__isnull=True).update(dispatched_at=timezone.now())


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
    the caller's commit, as its own writes to the program's objects would. SQL because the ORM cannot say it:
    `bulk_create(update_conflicts=True)` only sets a column to the inserted value, it cannot add one to it, and
    it neither returns the column nor inserts conditionally."""
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
    try:
        _queue(scan_due, program_id=program_id, countdown=settings.SOPGATE_SCAN_DEBOUNCE_SECONDS)
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
