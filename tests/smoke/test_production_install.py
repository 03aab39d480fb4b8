"""Production smoke test: SOPGate installed from the production lock alone, as the Dockerfile installs it, runs
end to end. A fresh virtualenv gets `pip install --require-hashes -r requirements.txt` (no test tools); its
manage.py migrates a database of its own and sets up a program; its gunicorn (2 workers), Celery worker and beat
run against PostgreSQL, Redis and a real SMTP server; a supplier update over HTTP makes a part late, and the part
owner's alert email has to arrive. A package the production code imports but the lock lacks (kombu's Redis
transport needed `packaging`, which only the dev tools brought in) fails here, never only in production."""

import os
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from psycopg import sql

from tests.smoke.stack import (
    ROOT,
    MailCatcher,
    Process,
    admin_login,
    free_port,
    http,
    http_ok,
    production_venv,
    run,
    wait_for,
)

pytestmark = pytest.mark.smoke

SOP = date.today() + timedelta(days=200)
NEED = SOP - timedelta(days=14)  # a program's default part lead days
OWNER, OWNER_EMAIL, OWNER_PASSWORD = "smoke-owner", "owner@smoke.example", "smoke-Owner-Passw0rd"
PART = "SMK-100"

# A program, its owner (an engineer who can log in to the admin), a supplier and a healthy part of theirs.
SEED = f"""
from django.contrib.auth.models import User
from parts.models import Part, Supplier
from sopgate.models import Program
owner = User.objects.create_user("{OWNER}", "{OWNER_EMAIL}", "{OWNER_PASSWORD}", is_staff=True)
program = Program.objects.create(code="SMOKE", name="Smoke test", sop_date="{SOP}", owner=owner)
supplier = Supplier.objects.create(code="SMOKE-SUP", name="Smoke supplier", country="DE")
Part.objects.create(program=program, part_number="{PART}", name="Battery module", supplier=supplier, owner=owner,
                    promised_date="{NEED - timedelta(days=30)}", ppap_status="approved", capacity_per_week=10000)
"""


def unavailable(reason: str):
    """Skip locally; in CI a missing service is a broken CI, not a reason to skip."""
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{reason} (CI=true: the production smoke test must run)", pytrace=False)
    pytest.skip(reason)


def smoke_redis_urls() -> tuple[str, str]:
    """The suite's Redis server, in two database numbers of the smoke test's own, emptied first: the broker's (the
    suite's number minus two) and the shared limits' cache (minus three), clear of the suite's broker (its number)
    and cache (minus one, as CI sets CACHE_URL)."""
    suite = os.environ.get("REDIS_URL", "")
    if not suite:
        unavailable("REDIS_URL is not set: the production smoke test runs Celery on a real Redis")
    parts = urlsplit(suite)
    suite_db = int(parts.path.strip("/") or 0)
    broker_db = suite_db - 2 if suite_db >= 3 else suite_db + 3
    urls = tuple(urlunsplit(parts._replace(path=f"/{db}")) for db in (broker_db, broker_db - 1))
    try:
        for url in urls:
            redis.Redis.from_url(url, socket_connect_timeout=3).flushdb()
    except redis.RedisError as error:
        unavailable(f"Redis at {parts.hostname}:{parts.port} is unreachable: {error}")
    return urls


def smoke_database_url() -> str:
    """A database of its own, dropped and created again, on the PostgreSQL server DATABASE_URL names (else the
    local one). Named after the suite's database, so that checkouts sharing a server do not drop each other's."""
    suite = os.environ.get("DATABASE_URL", "")
    server = urlsplit(suite if suite.startswith("postgres") else "postgres://postgres@127.0.0.1:5432/postgres")
    suite_name = server.path.strip("/")
    name = f"sopgate_smoke_{suite_name}" if suite.startswith("postgres") else "sopgate_smoke"
    try:
        with psycopg.connect(urlunsplit(server._replace(path="/postgres")), autocommit=True, connect_timeout=3) as db:
            db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL at {server.hostname}:{server.port} is unreachable: {error}")
    return urlunsplit(server._replace(path=f"/{name}"))


@pytest.fixture(scope="module")
def venv() -> Path:
    return production_venv()


@dataclass
class Stack:
    base: str
    mail: MailCatcher
    supplier_token: str
    reader_token: str
    processes: list[Process]

    def __repr__(self) -> str:
        return f"Stack({self.base})"

    def logs(self) -> str:
        return "\n".join(f"===== {p.name} ({p.log_path})\n{p.log()[-6000:]}" for p in self.processes)


@pytest.fixture(scope="module")
def smoke_stack(request, tmp_path_factory):
    (redis_url, cache_url), database_url = smoke_redis_urls(), smoke_database_url()
    venv = request.getfixturevalue("venv")  # after the checks: a skip costs no install
    log_dir = tmp_path_factory.mktemp("smoke")
    mail = MailCatcher()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),  # the checkout, as WORKDIR /app is in the image; nothing of the dev virtualenv
        "DEBUG": "0",
        "SECRET_KEY": "smoke-test-secret-key-not-for-production",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",  # the admin login over plain HTTP
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_URL": cache_url,
        "EMAIL_URL": mail.url,
        "SCAN_DEBOUNCE_SECONDS": "1",
        "LOGIN_FAILURE_LIMIT": "5",
        "API_THROTTLE_RATE": "10/min",
    }
    python, bin_dir = str(venv / "bin" / "python"), venv / "bin"

    def manage(*args: str) -> str:
        return run([python, "manage.py", *args], env=env, what=f"manage.py {' '.join(args[:2])}")

    manage("migrate", "--noinput", "-v0")
    manage("shell", "-c", SEED)
    supplier_token = manage("create_supplier_user", "SMOKE-SUP", "smoke-supplier", "--email", "it@sup.example")
    reader_token = manage("create_supplier_user", "SMOKE-SUP", "smoke-reader", "--email", "erp@sup.example")
    gate = manage("scan_readiness", "--program", "SMOKE")
    assert gate.startswith("SMOKE: go"), f"the seeded program should pass the gate before the update:\n{gate}"

    port = free_port()
    gunicorn, celery = (
        [str(bin_dir / "gunicorn"), "sopgate.wsgi:application"],
        [str(bin_dir / "celery"), "-A", "sopgate"],
    )
    stack = Stack(
        base=f"http://127.0.0.1:{port}",
        mail=mail,
        supplier_token=supplier_token.splitlines()[-1],
        reader_token=reader_token.splitlines()[-1],
        processes=[
            Process(
                "web",
                [*gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "-"],
                env,
                log_dir,
            ),
            Process("worker", [*celery, "worker", "--loglevel", "INFO", "--concurrency", "1"], env, log_dir),
            Process("beat", [*celery, "beat", "--loglevel", "INFO", "--schedule", str(log_dir / "beat")], env, log_dir),
        ],
    )
    web, worker, beat = stack.processes
    mail.controller.start()
    try:
        for process in stack.processes:
            process.start()
        web.wait_until(lambda: http_ok(f"{stack.base}/health/"), timeout=60, what="/health/ answers 200")
        worker.wait_until(lambda: " ready." in worker.log(), timeout=60, what="ready")
        beat.wait_until(lambda: "beat: Starting" in beat.log(), timeout=60, what="started")
        yield stack
    except BaseException:
        print(stack.logs())  # shown by pytest with the failed set-up
        raise
    finally:
        for process in stack.processes:
            process.stop()
        mail.controller.stop()


def test_production_lock_installs_no_dev_tools(venv):
    python = str(venv / "bin" / "python")
    assert subprocess.run([python, "-c", "import pytest"], capture_output=True, check=False).returncode != 0, (
        "pytest is importable in the production virtualenv: requirements.txt holds a dev tool"
    )
    run([python, "-m", "pip", "check"], what="pip check in the production virtualenv")


def test_supplier_update_over_http_emails_the_part_owner(smoke_stack):
    late = NEED + timedelta(days=20)
    status, body, _ = http(
        "POST",
        f"{smoke_stack.base}/api/supplier-updates/",
        token=smoke_stack.supplier_token,
        body={"program": "SMOKE", "part_number": PART, "promised_date": late.isoformat(), "note": "smoke test"},
    )
    assert status == 201, body

    mails = wait_for(lambda: smoke_stack.mail.sent_to(OWNER_EMAIL), timeout=60, what=f"an alert email to {OWNER_EMAIL}")
    assert len(mails) == 1, [m.subject for m in mails]
    assert mails[0].to == [OWNER_EMAIL]
    assert PART in mails[0].subject, mails[0].subject
    assert PART in mails[0].body and late.isoformat() in mails[0].body, mails[0].body


def test_login_lockout_holds_across_web_workers(smoke_stack):
    assert admin_login(smoke_stack.base, OWNER, OWNER_PASSWORD), "the right password should log in at first"
    for attempt in range(5):
        assert not admin_login(smoke_stack.base, OWNER, "wrong-password"), f"wrong password {attempt + 1} logged in"
    # Each attempt is a new connection (two requests): gunicorn's two workers both see some of them.
    assert not admin_login(smoke_stack.base, OWNER, OWNER_PASSWORD), "the right password logged in after 5 failures"


def test_api_throttle_holds_across_web_workers(smoke_stack):
    responses = [http("GET", f"{smoke_stack.base}/api/parts/", token=smoke_stack.reader_token) for _ in range(20)]
    assert [status for status, _, _ in responses] == [200] * 10 + [429] * 10
    assert all(headers.get("Retry-After") for _, _, headers in responses[10:])
