"""A worker killed with SIGKILL in the middle of a scan, and again in the middle of sending an alert: after a
restart the scan completes and every due alert arrives exactly once per recipient."""

import threading

import pytest
from django.db import connection, connections, transaction

from sopgate.choices import AlertStatus
from sopgate.models import Alert, Blocker, Program, ScanRequest
from tests.faults.conftest import service_env, wait_for
from tests.faults.helpers import http, make_world, slip_body

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


class ProgramLock:
    """Holds the lock a running scan holds on its program, from another connection, so a new scan must wait."""

    def __init__(self, program_id: int):
        self.program_id = program_id
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self):
        try:
            with transaction.atomic():
                Program.objects.select_for_update(no_key=True).get(pk=self.program_id)
                self.locked.set()
                self.release.wait(timeout=120)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(timeout=10)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(timeout=10)


def test_worker_killed_during_scan_and_during_send_loses_and_duplicates_nothing(
    postgres_only, private_redis, smtp_server, services
):
    world = make_world(code="KILL")
    env = service_env(redis_url=private_redis.url, email_url=smtp_server.url)
    _, base = services.web(env)
    worker = services.worker(env, name="first")

    # 1. Kill the worker while its scan waits for the program's lock (the middle of the scan's transaction).
    with ProgramLock(world.program.pk):
        status, body, _, _ = http(
            "POST", f"{base}/api/supplier-updates/", token=world.supplier_token, body=slip_body(world)
        )
        assert status == 201, body
        wait_for(lambda: waiting_on_locks() >= 1, timeout=60, what="the worker's scan to wait for the lock")
        worker.kill()
    assert not Blocker.objects.filter(program=world.program).exists(), "the killed scan committed nothing"
    assert ScanRequest.objects.filter(program=world.program).exists(), "the scan request survived the crash"

    # 2. A new worker, but the SMTP server stalls before accepting recipients: kill the worker mid-send.
    smtp_server.behaviour.pause_before_rcpt = 30
    worker = services.worker(env, name="second")
    services.command(env, "dispatch_outbox", "--redispatch-after", "0")
    wait_for(lambda: not ScanRequest.objects.filter(program=world.program).exists(), timeout=60, what="the scan")
    assert Blocker.objects.filter(program=world.program, rule="part_late", resolved_at__isnull=True).count() == 1
    assert smtp_server.behaviour.rcpt_seen.wait(timeout=60), "the worker started sending"
    worker.kill()
    assert smtp_server.messages == []
    assert Alert.objects.filter(blocker__program=world.program, status=AlertStatus.PENDING).count() == 2

    # 3. Restart: every due alert arrives exactly once per recipient.
    smtp_server.behaviour.pause_before_rcpt = 0
    services.worker(env, name="third")
    services.command(env, "dispatch_outbox", "--redispatch-after", "0")
    wait_for(
        lambda: Alert.objects.filter(blocker__program=world.program, status=AlertStatus.SENT).count() == 2,
        timeout=90,
        what="both alerts to be sent",
    )
    # Dispatch again, as beat would: nothing is sent twice.
    services.command(env, "dispatch_outbox", "--redispatch-after", "0")
    import time

    time.sleep(3)
    recipients = sorted(m["to"] for m in smtp_server.messages)
    assert recipients == sorted([world.owner_email, world.supplier_contact])
