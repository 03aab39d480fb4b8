"""Real backing services for fault tests: a private Redis we can stop and freeze, an SMTP server whose
behaviour we choose, and the web and worker as real subprocesses on the test database."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("fault tests share the test database with subprocesses: they need DATABASE_URL=postgres://...")


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.ping, timeout=10, what="redis to start")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)

    def freeze(self):
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def private_redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@dataclass
class SMTPBehaviour:
    """What the SMTP server does with the next messages: 'ok', 'tempfail', 'permfail', or a pause before RCPT."""

    mode: str = "ok"
    pause_before_rcpt: float = 0.0
    rcpt_seen: threading.Event = field(default_factory=threading.Event)


class RecordingHandler:
    def __init__(self, behaviour: SMTPBehaviour):
        self.behaviour = behaviour
        self.messages: list[dict] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.behaviour.rcpt_seen.set()
        if self.behaviour.pause_before_rcpt:
            await asyncio.sleep(self.behaviour.pause_before_rcpt)
        if self.behaviour.mode == "tempfail":
            return "451 4.3.0 Try again later"
        if self.behaviour.mode == "permfail":
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes
        from email.header import decode_header, make_header

        message = message_from_bytes(envelope.content)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append(
                    {
                        "to": rcpt,
                        "subject": str(make_header(decode_header(message["Subject"] or ""))),
                        "message_id": message["Message-ID"],
                    }
                )
        return "250 Message accepted"


class SMTPServer:
    def __init__(self):
        self.behaviour = SMTPBehaviour()
        self.handler = RecordingHandler(self.behaviour)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[dict]:
        with self.handler.lock:
            return list(self.handler.messages)


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    server.controller.start()
    yield server
    server.controller.stop()


def service_env(*, redis_url: str, email_url: str, **extra) -> dict:
    """The environment of a web or worker subprocess that shares this test's database."""
    settings_dict = connection.settings_dict
    user = settings_dict.get("USER") or "postgres"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}",
        "REDIS_URL": redis_url,
        # The shared limits (throttle, lock-out) on the same Redis, so a fault to Redis is a fault to them too.
        "CACHE_URL": redis_url.rsplit("/", 1)[0] + "/1",
        "EMAIL_URL": email_url,
        "EMAIL_TIMEOUT": "3",
        "DEBUG": "0",
        "SECRET_KEY": "fault-test-secret",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SCAN_DEBOUNCE_SECONDS": "0",
        "CONN_MAX_AGE": "60",
        "PYTHONPATH": str(ROOT),
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Service:
    """A web or worker subprocess, stopped gracefully or killed hard."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.args, self.env, self.log_path = args, env, log
        self.process: subprocess.Popen | None = None

    def start(self):
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def kill(self):
        """SIGKILL the whole process group: no cleanup, no acknowledgement."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_log", None):
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture
def services(tmp_path):
    started: list[Service] = []

    def web(env: dict) -> tuple[Service, str]:
        port = free_port()
        service = Service(
            [
                str(BIN / "gunicorn"),
                "sopgate.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "8",
                "--worker-class",
                "gthread",
                "--timeout",
                "30",
            ],
            env,
            tmp_path / f"web-{port}.log",
        ).start()
        started.append(service)
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _http_ok(f"{base}/health/"), timeout=30, what=f"web on {base}")
        return service, base

    def worker(env: dict, name: str = "w1") -> Service:
        service = Service(
            [
                str(BIN / "celery"),
                "-A",
                "sopgate",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "1",
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--pool",
                "prefork",
            ],
            env,
            tmp_path / f"worker-{name}.log",
        ).start()
        started.append(service)
        return service

    def command(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    yield type(
        "Services", (), {"web": staticmethod(web), "worker": staticmethod(worker), "command": staticmethod(command)}
    )
    for service in reversed(started):
        service.stop()


def _http_ok(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
