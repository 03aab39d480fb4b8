import pytest
from django.utils import timezone

from tests.factories import TODAY


@pytest.fixture
def today():
    return TODAY


@pytest.fixture
def at_today(time_machine):
    """Pin the clock to TODAY at 09:00 in the project's time zone."""
    from datetime import datetime, time

    time_machine.move_to(timezone.make_aware(datetime.combine(TODAY, time(9, 0))), tick=False)
    return TODAY


@pytest.fixture
def engineer(db):
    from tests.factories import EngineerFactory

    return EngineerFactory(username="eng")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Factory users would otherwise cost ~0.3 s each in PBKDF2; the hash algorithm is not under test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
