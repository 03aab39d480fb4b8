"""SMTP faults against real servers: temporary errors are retried with backoff, permanent ones are recorded and
shown in the admin, and a server that hangs cannot pin a worker."""

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.urls import reverse

from sopgate.alerts import TemporaryDeliveryError, alert_send
from sopgate.choices import AlertStatus
from sopgate.models import Alert
from sopgate.services import program_scan
from tests.factories import EngineerFactory, PartFactory, ProgramFactory
from tests.faults.conftest import free_port

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


@pytest.fixture
def pending_alert(at_today):
    owner = EngineerFactory(username="owner", email="owner@example.com")
    program = ProgramFactory(code="SMTP", owner=owner)
    need = program.sop_date - timedelta(days=program.part_lead_days)
    PartFactory(program=program, owner=owner, part_number="BM-100", promised_date=need + timedelta(days=5))
    program_scan(program_id=program.pk, today=at_today)
    return Alert.objects.get(recipient="owner@example.com")


def use_smtp(settings, port: int, timeout: float = 3):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = timeout


def test_temporary_4xx_is_retried_with_backoff_then_delivered_once(settings, smtp_server, pending_alert):
    use_smtp(settings, smtp_server.port)
    smtp_server.behaviour.mode = "tempfail"
    with pytest.raises(TemporaryDeliveryError):
        alert_send(alert_id=pending_alert.pk)
    pending_alert.refresh_from_db()
    assert pending_alert.status == AlertStatus.PENDING
    assert pending_alert.attempts == 1
    assert "451" in pending_alert.last_error
    first_wait = pending_alert.next_attempt_at
    assert first_wait is not None

    with pytest.raises(TemporaryDeliveryError):
        alert_send(alert_id=pending_alert.pk)
    pending_alert.refresh_from_db()
    assert pending_alert.attempts == 2
    assert pending_alert.next_attempt_at - first_wait >= timedelta(seconds=30), "backoff grows between attempts"

    smtp_server.behaviour.mode = "ok"
    assert alert_send(alert_id=pending_alert.pk) == AlertStatus.SENT
    assert alert_send(alert_id=pending_alert.pk) == AlertStatus.SENT  # a retried task sends nothing again
    assert [m["to"] for m in smtp_server.messages] == ["owner@example.com"]
    assert "BM-100" in smtp_server.messages[0]["subject"]


def test_refused_connection_is_temporary(settings, pending_alert):
    use_smtp(settings, free_port())  # nothing listens there
    with pytest.raises(TemporaryDeliveryError):
        alert_send(alert_id=pending_alert.pk)
    pending_alert.refresh_from_db()
    assert pending_alert.status == AlertStatus.PENDING
    assert "refused" in pending_alert.last_error.lower()


def test_permanent_5xx_is_recorded_not_retried_and_shown_in_admin(settings, smtp_server, pending_alert, client):
    use_smtp(settings, smtp_server.port)
    smtp_server.behaviour.mode = "permfail"
    assert alert_send(alert_id=pending_alert.pk) == AlertStatus.FAILED
    pending_alert.refresh_from_db()
    assert pending_alert.status == AlertStatus.FAILED
    assert "550" in pending_alert.last_error
    smtp_server.behaviour.mode = "ok"
    assert alert_send(alert_id=pending_alert.pk) == AlertStatus.FAILED  # not retried forever
    assert smtp_server.messages == []

    admin = EngineerFactory(username="admin", is_superuser=True)
    client.force_login(admin)
    page = client.get(reverse("admin:sopgate_alert_changelist") + "?status__exact=failed")
    assert page.status_code == 200
    assert "owner@example.com" in page.content.decode()
    assert "550" in page.content.decode()


def test_hanging_server_cannot_pin_a_worker(settings, pending_alert):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    use_smtp(settings, listener.getsockname()[1], timeout=2)
    started = time.monotonic()
    try:
        with pytest.raises(TemporaryDeliveryError):
            alert_send(alert_id=pending_alert.pk)
    finally:
        listener.close()
    elapsed = time.monotonic() - started
    assert accepted, "the client did connect"
    assert elapsed < 10, f"send gave up after {elapsed:.1f} s"
    pending_alert.refresh_from_db()
    assert pending_alert.status == AlertStatus.PENDING
    assert "timed out" in pending_alert.last_error.lower() or "timeout" in pending_alert.last_error.lower()
