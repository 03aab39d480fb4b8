"""Redis refused or frozen: requests still succeed quickly, and the work they cause waits in the database
outbox until the broker is back, then happens exactly once."""

import pytest

from sopgate.choices import AlertStatus
from sopgate.models import Alert, Blocker, ScanRequest
from tests.faults.conftest import service_env, wait_for
from tests.faults.helpers import AdminSession, engineer_with_password, http, make_world, slip_body

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("fault", ["frozen", "stopped"])
def test_supplier_update_succeeds_with_broker_down_and_outbox_delivers_later(
    fault, postgres_only, private_redis, smtp_server, services
):
    world = make_world(code=f"RD{fault[0].upper()}")
    env = service_env(redis_url=private_redis.url, email_url=smtp_server.url)
    _, base = services.web(env)

    if fault == "frozen":
        private_redis.freeze()  # accepts connections, never answers
    else:
        private_redis.stop()  # connection refused

    statuses, timings = [], []
    for days in (20, 21, 22):
        status, body, seconds, _ = http(
            "POST", f"{base}/api/supplier-updates/", token=world.supplier_token, body=slip_body(world, days)
        )
        statuses.append(status)
        timings.append(seconds)
    assert statuses == [201, 201, 201], body
    assert max(timings) < 10, f"requests took {timings} s with the broker {fault}"

    # An engineer's admin edit (the "approve PPAP" action) goes through too.
    type(world.part).objects.filter(pk=world.part.pk).update(ppap_status="submitted")
    engineer_with_password("admin-eng", "a-long-admin-password")
    admin = AdminSession(base)
    admin.login("admin-eng", "a-long-admin-password")
    admin.get("/admin/parts/part/")
    admin_status, page, admin_seconds = admin.post(
        "/admin/parts/part/", {"action": "approve_ppap", "_selected_action": [world.part.pk], "index": 0}
    )
    assert admin_status == 200 and "PPAP approved for 1 part" in page, page[:500]
    assert admin_seconds < 10
    timings.append(admin_seconds)
    health_status, health, _, _ = http("GET", f"{base}/health/")
    assert health_status == 200 and health["services"]["broker"].startswith("error"), health

    print(
        f"broker {fault}: 3 supplier updates answered {statuses} and an admin action 200, "
        f"in {[round(t, 2) for t in timings]} s"
    )

    # The re-scan is waiting in the outbox, not lost (whether or not its queueing seemed to succeed).
    assert ScanRequest.objects.filter(program=world.program).exists()
    assert not Blocker.objects.filter(program=world.program).exists()
    world.part.refresh_from_db()
    assert world.part.supplier_updates.count() == 3

    # Broker back: a worker starts, the outbox is dispatched, the scan runs, the alerts go out once.
    if fault == "frozen":
        private_redis.thaw()
    else:
        private_redis.start()
    services.worker(env)
    result = services.command(env, "dispatch_outbox", "--redispatch-after", "0")
    assert result.returncode == 0, result.stderr
    wait_for(lambda: not ScanRequest.objects.filter(program=world.program).exists(), timeout=60, what="the re-scan")
    blocker = Blocker.objects.get(program=world.program, rule="part_late", resolved_at__isnull=True)
    wait_for(
        lambda: Alert.objects.filter(blocker=blocker, status=AlertStatus.SENT).count() == 2, timeout=60, what="alerts"
    )
    recipients = sorted(m["to"] for m in smtp_server.messages)
    assert recipients == sorted([world.owner_email, world.supplier_contact])
    assert all(world.part.part_number in m["subject"] for m in smtp_server.messages)

    # Dispatching again sends nothing twice.
    services.command(env, "dispatch_outbox", "--redispatch-after", "0")
    services.command(env, "scan_readiness", "--program", world.program.code)
    import time

    time.sleep(3)
    assert len(smtp_server.messages) == 2
