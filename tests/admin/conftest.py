import pytest
from django.test import Client

from sopgate.demo.load import engineers_group
from tests.factories import EngineerFactory


@pytest.fixture
def engineer_user(db):
    """A staff engineer with the permissions the demo gives the `engineers` group; not a superuser."""
    user = EngineerFactory(username="erin", first_name="Erin", last_name="Engineer")
    user.groups.add(engineers_group())
    return user


@pytest.fixture
def engineer_client(engineer_user):
    client = Client()
    client.force_login(engineer_user)
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The factories hash a password per user; the production hasher makes 30-row fixtures take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
