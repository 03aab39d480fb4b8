"""PostgreSQL restarted under the running web and worker: both recover without a restart of their own."""

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from sopgate.choices import AlertStatus
from sopgate.models import Alert, Blocker
from tests.faults.conftest import service_env, wait_for
from tests.faults.helpers import http, make_world, slip_body

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def restart_postgres():
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart", "--", "-m", "fast"],
        check=True,
        timeout=120,
    )


def postgres_ready() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode == 0


@pytest.fixture
def restartable_postgres(postgres_only):
    if not shutil.which("pg_ctlcluster") or not Path("/etc/postgresql").is_dir():
        pytest.skip("needs a local PostgreSQL cluster managed by pg_ctlcluster")
    host = connection.settings_dict.get("HOST") or "localhost"
    if host not in ("127.0.0.1", "localhost", "::1"):
        pytest.skip("the test database is not on this machine")


def test_web_and_worker_recover_after_postgres_restart(restartable_postgres, private_redis, smtp_server, services):
    world = make_world(code="PGR")
    env = service_env(redis_url=private_redis.url, email_url=smtp_server.url, CONN_MAX_AGE=600)
    _, base = services.web(env)
    services.worker(env)
    # Warm the persistent connections of web and worker.
    for _ in range(4):
        assert http("GET", f"{base}/api/parts/", token=world.supplier_token)[0] == 200

    statuses: list[int] = []
    stop = threading.Event()

    def traffic():
        while not stop.is_set():
            status, *_ = http("GET", f"{base}/api/parts/", token=world.supplier_token, timeout=10)
            statuses.append(status)
            time.sleep(0.05)

    load = threading.Thread(target=traffic)
    load.start()
    started = time.monotonic()
    try:
        restart_postgres()
        wait_for(postgres_ready, timeout=60, what="PostgreSQL to accept connections")
    finally:
        connection.close()  # this test process's own connection died with the server
    downtime = time.monotonic() - started
    time.sleep(1)
    stop.set()
    load.join(timeout=30)

    assert set(statuses) <= {200, 503}, f"unexpected statuses during the restart: {sorted(set(statuses))}"
    # Recovered without restarting anything: reads, a write, and the worker's scan and alerts.
    after = [http("GET", f"{base}/api/parts/", token=world.supplier_token)[0] for _ in range(6)]
    assert after == [200] * 6
    status, body, _, _ = http(
        "POST", f"{base}/api/supplier-updates/", token=world.supplier_token, body=slip_body(world)
    )
    assert status == 201, body
    wait_for(
        lambda: Blocker.objects.filter(program=world.program, rule="part_late").exists(),
        timeout=60,
        what="the worker's scan after the restart",
    )
    wait_for(
        lambda: Alert.objects.filter(blocker__program=world.program, status=AlertStatus.SENT).count() == 2,
        timeout=60,
        what="alerts after the restart",
    )
    print(
        f"PostgreSQL restart took {downtime:.1f} s; during it the API answered {len(statuses)} requests: "
        f"{statuses.count(200)} × 200, {statuses.count(503)} × 503"
    )
