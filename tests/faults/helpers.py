"""Shared set-up for fault tests: a program with a part of supplier A, an engineer and a supplier token."""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from parts.models import Part
from sopgate.models import Program
from sopgate.services import program_scan
from tests.factories import (
    EngineerFactory,
    PartFactory,
    ProgramFactory,
    SupplierFactory,
    SupplierUserFactory,
    UserFactory,
    api_token,
)


@dataclass
class World:
    program: Program
    part: Part
    engineer_token: str
    supplier_token: str
    owner_email: str
    supplier_contact: str


def make_world(code: str = "FLT") -> World:
    owner = EngineerFactory(username=f"owner-{code.lower()}", email=f"owner-{code.lower()}@example.com")
    program = ProgramFactory(code=code, owner=owner)
    supplier = SupplierFactory(code=f"{code}-SUP", alert_emails=[f"quality@{code.lower()}-sup.example"])
    part = PartFactory(
        program=program, supplier=supplier, owner=owner, part_number=f"{code}-BM-100", name="Battery module"
    )
    engineer = EngineerFactory(username=f"eng-{code.lower()}")
    supplier_user = SupplierUserFactory(user=UserFactory(username=f"sup-{code.lower()}"), supplier=supplier).user
    # Start from a scanned program: creating the data above asked for a scan (queued on this test process's
    # broker, which the services under test do not read); this scan serves that request.
    program_scan(program_id=program.pk)
    return World(
        program=program,
        part=part,
        engineer_token=api_token(engineer),
        supplier_token=api_token(supplier_user),
        owner_email=owner.email,
        supplier_contact=supplier.alert_emails[0],
    )


def slip_body(world: World, days_late: int = 20, **extra) -> dict:
    need = world.program.sop_date - timedelta(days=world.program.part_lead_days)
    return {"part": world.part.pk, "promised_date": (need + timedelta(days=days_late)).isoformat(), **extra}


def http(method: str, url: str, *, token: str | None = None, body=None, headers: dict | None = None, timeout=30):
    """One HTTP request; returns (status, parsed JSON or text, seconds, response headers)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Token {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, response_headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, raw, response_headers = error.code, error.read(), dict(error.headers)
    elapsed = time.monotonic() - started
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = raw.decode(errors="replace")
    return status, payload, elapsed, response_headers


class AdminSession:
    """A browser-like session against the admin of a running server: cookies, CSRF, form posts."""

    def __init__(self, base: str):
        import http.cookiejar

        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.read().decode()

    def post(self, path: str, fields: dict) -> tuple[int, str, float]:
        from urllib.parse import urlencode

        data = urlencode({**fields, "csrfmiddlewaretoken": self._csrf()}, doseq=True).encode()
        request = urllib.request.Request(self.base + path, data=data, headers={"Referer": self.base + path})
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), time.monotonic() - started
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), time.monotonic() - started

    def login(self, username: str, password: str) -> None:
        self.get("/admin/login/")
        status, body, _ = self.post(
            "/admin/login/?next=/admin/", {"username": username, "password": password, "next": "/admin/"}
        )
        assert status == 200 and "Log out" in body, body[:500]


def engineer_with_password(username: str, password: str):
    """An engineer whose password hash the web subprocess can check (tests hash with MD5 for speed)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    user = EngineerFactory(username=username, is_superuser=True)
    user.password = PBKDF2PasswordHasher().encode(password, PBKDF2PasswordHasher().salt())
    user.save(update_fields=["password"])
    return user
