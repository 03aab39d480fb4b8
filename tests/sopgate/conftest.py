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
