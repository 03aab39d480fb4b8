"""End to end on real services: a supplier slip -> re-scan on a real Celery worker over the real Redis
broker -> one email each to the part owner and the supplier's alert contact, over real SMTP; then a
second scan sends nothing more."""

import time
from datetime import timedelta

import pytest
from celery.signals import task_postrun
from django.conf import settings as django_settings
from django.db import connections
from django.utils import timezone

from parts.services import supplier_updates_apply
from sopgate.models import Alert, Blocker, Program, ScanRequest
from sopgate.services import program_scan
from tests.factories import EngineerFactory, PartFactory, ProgramFactory, SupplierFactory, SupplierUserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DEADLINE_S = 60


def wait_for(condition, *, timeout: float = DEADLINE_S, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _close_worker_db_connections(**kwargs):
    # The worker thread's connections would otherwise outlive the test and block dropping the test database.
    connections.close_all()


@pytest.fixture
def celery_worker_on_redis():
    if not django_settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: this test needs the real Redis broker")
    import redis
    from celery.contrib.testing.worker import start_worker

    from sopgate.celery import app

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    client.flushdb()  # only this run's own Redis db
    task_postrun.connect(_close_worker_db_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"):
            yield app
    finally:
        task_postrun.disconnect(_close_worker_db_connections)
        client.flushdb()
        client.close()


def test_supplier_slip_emails_owner_and_supplier_contact_once(settings, smtp_server, request):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    today = timezone.localdate()
    program = ProgramFactory(code="SU7", sop_date=today + timedelta(days=60))
    owner = EngineerFactory(username="anna", email="anna@oem.example")
    supplier = SupplierFactory(code="CATL-NB", alert_emails=["quality@catl.example"])
    need = program.sop_date - timedelta(days=program.part_lead_days)
    part = PartFactory(
        program=program,
        owner=owner,
        supplier=supplier,
        name="Battery module",
        part_number="BM-107",
        promised_date=need - timedelta(days=20),
        last_supplier_update_at=timezone.now(),
    )
    assert program_scan(program_id=program.pk).opened == 0  # healthy before the slip
    actor = SupplierUserFactory(supplier=supplier).user
    scanned_before = Program.objects.get(pk=program.pk).last_scanned_at
    ScanRequest.objects.all().delete()  # the set-up's own saves; the worker starts with an empty queue
    request.getfixturevalue("celery_worker_on_redis")

    supplier_updates_apply(actor=actor, items=[{"part_id": part.pk, "promised_date": need + timedelta(days=9)}])
    wait_for(lambda: len(smtp_server.messages) >= 2, what="two alert emails")
    time.sleep(1)  # anything else the worker might (wrongly) send

    assert sorted(rcpt for rcpts, _ in smtp_server.messages for rcpt in rcpts) == [
        "anna@oem.example",
        "quality@catl.example",
    ]
    for _, message in smtp_server.messages:
        assert "BM-107" in message["Subject"]
        assert message["Subject"] == "[SOPGate SU7] Part late: Battery module BM-107 rev A"
        assert "(9 days late)" in message.get_body(("plain",)).get_content()
    blocker = Blocker.objects.get(resolved_at__isnull=True)
    assert blocker.rule == "part_late"
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}
    assert Program.objects.get(pk=program.pk).last_scanned_at > scanned_before
    assert not ScanRequest.objects.exists()

    # A second scan on the worker finds the same blocker and sends nothing.
    from sopgate.tasks import scan_program

    scanned = Program.objects.get(pk=program.pk).last_scanned_at
    scan_program.delay(program.pk)
    wait_for(lambda: Program.objects.get(pk=program.pk).last_scanned_at > scanned, what="the second scan")
    time.sleep(1)
    assert len(smtp_server.messages) == 2
    assert Alert.objects.count() == 2
    assert Blocker.objects.get().pk == blocker.pk
