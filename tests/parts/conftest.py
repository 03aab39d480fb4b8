import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The factories hash a password per user; the production hasher costs ~0.3 s each on a small machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
