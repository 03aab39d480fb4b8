"""Email alerts: one immediate message per (blocker, recipient), and a daily digest per person.

The Alert and DigestDelivery rows are the bookkeeping: a message is sent only while its row is pending,
under a row lock, and the row is marked sent in the same transaction. Temporary SMTP failures are retried
with backoff; permanent ones are recorded on the row and shown in the admin.
"""

import logging
import smtplib
import socket
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .choices import AlertStatus, Severity
from .models import Alert, Blocker, DigestDelivery

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class TemporaryDeliveryError(Exception):
    """SMTP said "try again later" (4xx), refused the connection or timed out."""


def classify_smtp_error(exc: Exception) -> str:
    """'temporary' or 'permanent' for an exception raised while sending."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return "temporary" if codes and all(400 <= c < 500 for c in codes) else "permanent"
    if isinstance(exc, smtplib.SMTPResponseException):
        return "temporary" if 400 <= exc.smtp_code < 500 else "permanent"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "temporary"
    if isinstance(exc, smtplib.SMTPException):
        # e.g. STARTTLS or AUTH not supported: a configuration problem that retrying will not fix.
        # (Checked before OSError because SMTPException is an OSError subclass.)
        return "permanent"
    if isinstance(exc, (ConnectionError, socket.timeout, TimeoutError, OSError)):
        return "temporary"
    return "permanent"


def backoff_seconds(attempts: int) -> int:
    return min(60 * 2 ** max(attempts - 1, 0), 3600)


def program_url(program_code: str) -> str:
    return settings.SITE_URL + reverse("dashboard:program", args=[program_code])


def _one_line(text: str, limit: int = 200) -> str:
    # Labels come from user input; a newline in a header would make Django refuse the whole message.
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _subject_for(blocker: Blocker) -> str:
    reopened = "Reopened: " if blocker.reopened_at else ""
    return _one_line(f"[SOPGate {blocker.program.code}] {reopened}{blocker.get_rule_display()}: {blocker.object_label}")


def build_alert_message(alert: Alert) -> EmailMultiAlternatives:
    blocker = alert.blocker
    context = {
        "blocker": blocker,
        "program": blocker.program,
        "url": program_url(blocker.program.code),
        "recipient": alert.recipient,
        "quiet_hours": settings.SOPGATE_REOPEN_QUIET_HOURS,
    }
    message = EmailMultiAlternatives(
        subject=_subject_for(blocker),
        body=render_to_string("emails/blocker_opened.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[alert.recipient],
        headers={"Message-ID": f"<alert-{alert.pk}@sopgate>", "X-SOPGate-Alert": str(alert.pk)},
    )
    message.attach_alternative(render_to_string("emails/blocker_opened.html", context), "text/html")
    return message


def alert_send(*, alert_id: int, now: datetime | None = None) -> str:
    """Send one pending alert. Returns its status afterwards; raises TemporaryDeliveryError to ask for a retry.

    The row stays locked while the message goes out, so two workers holding the same alert (a retry and
    an outbox re-dispatch) send it once. The error is raised only after the commit, so the attempt count,
    last error and next attempt time are kept.
    """
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update(of=("self",))
            .select_related("blocker__program", "blocker__owner", "blocker__co_owner", "blocker__supplier")
            .filter(pk=alert_id)
            .first()
        )
        if alert is None or alert.status != AlertStatus.PENDING:
            return alert.status if alert else "missing"
        if alert.blocker.resolved_at is not None:
            # Resolved while the alert waited (an outage of the broker or the mail server): "new blocker" would
            # no longer be true. The daily digest tells its owner it opened and was resolved.
            alert.status = AlertStatus.WITHDRAWN
            alert.save(update_fields=["status"])
            return alert.status
        status, temporary_error = _deliver(alert, build_alert_message(alert), now=now)
    if temporary_error:
        raise TemporaryDeliveryError(temporary_error)
    return status


def _deliver(row, message: EmailMultiAlternatives, *, now: datetime | None) -> tuple[str, str]:
    """Send and record the outcome on the row. Returns (status, error if the failure is temporary)."""
    now = now or timezone.now()
    row.attempts += 1
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        kind = classify_smtp_error(exc)
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if kind == "temporary" and row.attempts < MAX_ATTEMPTS:
            if hasattr(row, "next_attempt_at"):
                row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts))
            row.save()
            logger.warning("temporary failure sending to %s: %s", row.recipient, row.last_error)
            return row.status, row.last_error
        row.status = AlertStatus.FAILED
        row.save()
        logger.error("permanent failure sending to %s: %s", row.recipient, row.last_error)
        return row.status, ""
    row.status = AlertStatus.SENT
    row.sent_at = now
    row.last_error = ""
    if hasattr(row, "next_attempt_at"):
        row.next_attempt_at = None
    row.save()
    return row.status, ""


def _digest_window(day: date) -> tuple[datetime, datetime]:
    """The 24 hours the digest of `day` reports on: the whole previous day, in the project's time zone."""
    until = timezone.make_aware(datetime.combine(day, time.min))
    return until - timedelta(days=1), until


def digest_recipients(day: date) -> list[str]:
    """Everyone with something in their digest: owners (and program owners) of blockers that are open,
    or were opened or resolved in the digest's window; an archived program's blockers are in no digest."""
    since, until = _digest_window(day)
    relevant = Blocker.objects.filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=since, resolved_at__lt=until), program__archived_at=None
    )
    ids = {
        uid for row in relevant.values_list("owner_id", "co_owner_id", "program__owner_id").distinct() for uid in row
    }
    ids.discard(None)
    emails = (
        get_user_model().objects.filter(id__in=ids, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    return sorted({e.strip().lower() for e in emails})


def digest_send(*, recipient: str, day: date, now: datetime | None = None) -> str:
    """Send one person's digest for `day` once, whatever happens to the task."""
    DigestDelivery.objects.get_or_create(recipient=recipient, date=day)
    with transaction.atomic():
        row = DigestDelivery.objects.select_for_update().get(recipient=recipient, date=day)
        if row.status != AlertStatus.PENDING:
            return row.status
        message = build_digest_message(recipient, day)
        if message is None:
            row.status = AlertStatus.SENT
            row.last_error = "nothing to report"
            row.save()
            return row.status
        status, temporary_error = _deliver(row, message, now=now)
    if temporary_error:
        raise TemporaryDeliveryError(temporary_error)
    return status


def build_digest_message(recipient: str, day: date) -> EmailMultiAlternatives | None:
    user_ids = list(get_user_model().objects.filter(email__iexact=recipient).values_list("id", flat=True))
    since, until = _digest_window(day)
    mine = Q(owner_id__in=user_ids) | Q(co_owner_id__in=user_ids) | Q(program__owner_id__in=user_ids)
    base = (
        Blocker.objects.filter(mine, program__archived_at=None)
        .select_related("program", "owner")
        .order_by("program__code", "severity", "rule", "opened_at", "id")
    )
    opened = list(base.filter(opened_at__gte=since, opened_at__lt=until))
    opened_ids = {b.pk for b in opened}
    still_open = [b for b in base.filter(resolved_at__isnull=True) if b.pk not in opened_ids]
    resolved = list(base.filter(resolved_at__gte=since, resolved_at__lt=until))
    if not (opened or still_open or resolved):
        return None
    programs = sorted({b.program.code for b in opened + still_open + resolved})
    context = {
        "day": day,
        "since": since,
        "until": until,
        "recipient": recipient,
        "opened": opened,
        "still_open": still_open,
        "resolved": resolved,
        "blocking_open": sum(1 for b in opened + still_open if b.severity == Severity.BLOCKING and b.is_open),
        "links": [(code, program_url(code)) for code in programs],
    }
    message = EmailMultiAlternatives(
        subject=f"[SOPGate] Daily digest {day:%Y-%m-%d}: {len(opened)} opened, {len(still_open)} still open, "
        f"{len(resolved)} resolved",
        body=render_to_string("emails/digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
    )
    message.attach_alternative(render_to_string("emails/digest.html", context), "text/html")
    return message
