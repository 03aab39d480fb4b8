"""Celery tasks: thin wrappers that take ids and ISO dates, call a service and log; and the receivers that publish
the scans and alerts the gate's services ask for (`services.scan_due`, `services.alert_due`)."""

import logging
from datetime import date

from celery import shared_task
from django.dispatch import receiver
from django.utils import timezone

from . import alerts, services
from .models import Program

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def scan_program(program_id: int) -> dict:
    try:
        result = services.program_scan(program_id=program_id)  # a scan of a missing program changes nothing
    except Program.DoesNotExist:
        return {"program_id": program_id, "skipped": "missing"}
    return {"program": result.program_code, "opened": result.opened, "resolved": result.resolved}


@shared_task
def scan_all_programs() -> int:
    program_ids = list(Program.objects.active().values_list("id", flat=True))
    for program_id in program_ids:
        scan_program.delay(program_id)
    return len(program_ids)


@shared_task
def dispatch_outbox() -> dict:
    scans, sends = services.outbox_dispatch()
    return {"scans": scans, "alerts": sends}


@shared_task(
    acks_late=True,
    autoretry_for=(alerts.TemporaryDeliveryError,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=alerts.MAX_ATTEMPTS,
)
def send_alert(alert_id: int) -> str:
    return alerts.alert_send(alert_id=alert_id)


@shared_task
def snapshot_all_programs(day: str | None = None) -> int:
    today = date.fromisoformat(day) if day else timezone.localdate()
    program_ids = list(Program.objects.active().values_list("id", flat=True))
    for program_id in program_ids:
        # Scanned first: the day's point records the gate as of that day, not as the last scan (perhaps the
        # evening before) left the blockers.
        services.program_scan(program_id=program_id, today=today)
        services.program_snapshot(program_id=program_id, today=today)
    return len(program_ids)


@shared_task
def send_daily_digests(day: str | None = None) -> int:
    today = date.fromisoformat(day) if day else timezone.localdate()
    recipients = alerts.digest_recipients(today)
    for recipient in recipients:
        send_digest.delay(recipient, today.isoformat())
    return len(recipients)


@shared_task(
    acks_late=True,
    autoretry_for=(alerts.TemporaryDeliveryError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=alerts.MAX_ATTEMPTS,
)
def send_digest(recipient: str, day: str) -> str:
    return alerts.digest_send(recipient=recipient, day=date.fromisoformat(day))


@receiver(services.scan_due, dispatch_uid="sopgate-queue-scan")
def _queue_scan(sender, *, program_id: int, countdown: float, **kwargs) -> None:
    scan_program.apply_async(args=[program_id], countdown=countdown, retry=False)


@receiver(services.alert_due, dispatch_uid="sopgate-queue-alert")
def _queue_alert(sender, *, alert_id: int, **kwargs) -> None:
    send_alert.apply_async(args=[alert_id], retry=False)
