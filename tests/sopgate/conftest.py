from datetime import date

import pytest

from sopgate.models import Blocker
from sopgate.services import program_scan


@pytest.fixture
def scan(at_today):
    """Scan a program as of a date and return its open blockers of one rule (or all) as {object_id: message}."""

    def run(program, *, rule: str | None = None, today: date | None = None) -> dict[int, str]:
        program_scan(program_id=program.pk, today=today or at_today)
        blockers = Blocker.objects.filter(program=program, resolved_at__isnull=True)
        if rule is not None:
            blockers = blockers.filter(rule=rule)
        return dict(blockers.values_list("object_id", "message"))

    return run


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The factories hash a password per user; PBKDF2 made each test take about a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class SMTPCollector:
    """aiosmtpd handler: keeps every accepted message, or answers RCPT with a fixed failure reply."""

    def __init__(self):
        self.messages = []
        self.rcpt_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 and a random free port; Django's SMTP backend points at it."""
    from aiosmtpd.controller import Controller

    handler = SMTPCollector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield handler
    finally:
        controller.stop()
