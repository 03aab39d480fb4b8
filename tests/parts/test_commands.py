"""create_supplier_user and create_api_token, as an operator runs them."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from knox.models import AuthToken

from parts.models import SupplierUser
from tests.factories import EngineerFactory, PartFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


def _token_user(token: str):
    """The user an API request with this token is made as, or None when it is refused."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/parts/")
    if response.status_code == 401:
        return None
    assert response.status_code in (200, 403), response.content
    return response.wsgi_request.user


def _run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_supplier_user_creates_then_reuses_and_prints_the_token_last():
    SupplierFactory(code="CATL-NB")
    first = _run("create_supplier_user", "CATL-NB", "sam", "--email", "sam@catl.example")
    user = get_user_model().objects.get(username="sam")
    assert first[0] == "Created user sam for supplier CATL-NB."
    assert _token_user(first[-1]) == user
    assert (user.email, user.is_staff) == ("sam@catl.example", False)
    assert SupplierUser.objects.get(user=user).supplier.code == "CATL-NB"

    # A token is shown once (only its digest is stored), so a second run issues another; both work.
    again = _run("create_supplier_user", "CATL-NB", "sam")
    assert again[0] == "Reused user sam for supplier CATL-NB." and again[-1] != first[-1]
    assert _token_user(first[-1]) == _token_user(again[-1]) == user
    assert get_user_model().objects.filter(username="sam").count() == 1


def test_create_supplier_user_refuses_an_unknown_supplier():
    SupplierFactory(code="CATL-NB")
    with pytest.raises(CommandError, match=r"^Unknown supplier code 'NOPE'\.$"):
        _run("create_supplier_user", "NOPE", "sam")
    assert not get_user_model().objects.filter(username="sam").exists()


@pytest.mark.parametrize(
    "setup, args, message",
    [
        (lambda: EngineerFactory(username="erin"), ["erin"], "erin is an engineer (staff)"),
        (
            lambda: PartFactory(owner=UserFactory(username="olaf")),
            ["olaf"],
            "olaf owns parts; give those to someone else before making this login a supplier's.",
        ),
        (
            lambda: SupplierUser.objects.create(user=UserFactory(username="sam"), supplier=SupplierFactory(code="X")),
            ["sam"],
            "User 'sam' already belongs to supplier X.",
        ),
        (lambda: None, ["sam", "--email", "not-an-email"], "--email: 'not-an-email' is not a valid email address."),
    ],
    ids=["staff-user", "owner", "other-supplier", "bad-email"],
)
def test_create_supplier_user_refusals_name_the_reason(setup, args, message):
    SupplierFactory(code="CATL-NB")
    setup()
    with pytest.raises(CommandError) as refused:
        _run("create_supplier_user", "CATL-NB", *args)
    assert message in str(refused.value)
    assert not AuthToken.objects.exists()


def test_create_api_token_prints_a_token_stored_only_as_a_digest_and_rotate_revokes_the_others():
    user = EngineerFactory(username="erin")
    [first] = _run("create_api_token", "erin")
    [second] = _run("create_api_token", "erin")
    assert first != second and _token_user(first) == _token_user(second) == user
    stored = list(AuthToken.objects.filter(user=user).values_list("digest", "token_key"))
    assert len(stored) == 2 and not any(first in column or second in column for row in stored for column in row)
    [rotated] = _run("create_api_token", "erin", "--rotate")
    assert _token_user(rotated) == user
    assert _token_user(first) is None and _token_user(second) is None
    assert AuthToken.objects.filter(user=user).count() == 1


def test_an_issued_token_expires_after_the_configured_days(settings):
    from datetime import timedelta

    from django.utils import timezone

    EngineerFactory(username="erin")
    [token] = _run("create_api_token", "erin")
    expiry = AuthToken.objects.get().expiry
    assert abs(expiry - (timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS))) < timedelta(minutes=1)


def test_create_api_token_refuses_an_unknown_user():
    with pytest.raises(CommandError, match=r"Unknown user 'ghost'\."):
        _run("create_api_token", "ghost")
