"""What the production smoke test runs: a virtualenv holding only the production lock, and SOPGate's processes
started from it. This module runs in the test process (the dev virtualenv); nothing here is imported by the
production processes, and it imports nothing of SOPGate's, so the dev settings never reach them."""

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email import message_from_bytes, policy
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.txt"
VENV_CACHE = ROOT / "var" / "smoke-venv"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def production_venv() -> Path:
    """A virtualenv with `pip install --require-hashes -r requirements.txt` and nothing else, as the Dockerfile
    makes it. Kept under var/smoke-venv/<hash of the lock and Python>, so a second run reuses it; a changed lock
    builds a new one and removes the old."""
    key = hashlib.sha256(LOCK.read_bytes() + sys.version.encode()).hexdigest()[:16]
    venv = VENV_CACHE / key
    stamp = venv / ".installed"
    if stamp.exists():
        return venv
    for old in VENV_CACHE.glob("*"):
        shutil.rmtree(old)
    # sys.executable is the dev virtualenv's python; -m venv builds on its base interpreter, not on the dev venv.
    run([sys.executable, "-m", "venv", str(venv)], what="python -m venv", timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-input", "--disable-pip-version-check"]
    run([*pip, "--require-hashes", "-r", str(LOCK)], what="pip install of the production lock", timeout=600)
    stamp.touch()
    return venv


def run(args: list[str], *, what: str, env: dict | None = None, timeout: float = 120) -> str:
    """Run a command to completion; its output, or an AssertionError that shows it."""
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{what} failed (exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result.stdout


class Process:
    """A long-running production process in its own process group, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name, self.args, self.env = name, args, env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Process":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_until(self, predicate, *, timeout: float, what: str):
        """Wait for `predicate()`; the process exiting meanwhile fails at once, with its log."""

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            return predicate()

        wait_for(ready, timeout=timeout, what=f"{self.name}: {what}")

    def stop(self):
        """SIGTERM to the whole group (gunicorn's and Celery's children too), SIGKILL after 15 s."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str


class MailCatcher:
    """A real SMTP server (aiosmtpd) in the test process; remembers every message it accepted."""

    def __init__(self):
        self.port = free_port()
        self.messages: list[Mail] = []
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        with self._lock:
            self.messages.append(Mail(list(envelope.rcpt_tos), str(message["Subject"]), body.get_content()))
        return "250 Message accepted"

    def sent_to(self, address: str) -> list[Mail]:
        with self._lock:
            return [mail for mail in self.messages if address in mail.to]


def http(method: str, url: str, *, token: str | None = None, body=None) -> tuple[int, object, dict]:
    """One request; (status, JSON or text, headers), whatever the status."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Token {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw, headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, raw, headers = error.code, error.read(), dict(error.headers)
    try:
        return status, json.loads(raw), headers
    except ValueError:
        return status, raw.decode(errors="replace"), headers


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def admin_login(base: str, username: str, password: str) -> bool:
    """Log in at /admin/login/ as a browser would (a new session, the CSRF cookie and field); True when the
    session then reaches the admin index."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)

    def fetch(path: str, data: bytes | None = None) -> int:
        try:
            with opener.open(base + path, data=data, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    fetch("/admin/login/")
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    fields = {"username": username, "password": password, "csrfmiddlewaretoken": csrf, "next": "/admin/"}
    fetch("/admin/login/", urlencode(fields).encode())
    return fetch("/admin/") == 200
