"""create_supplier_user and create_api_token, as an operator runs them."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from parts.models import SupplierUser
from tests.factories import EngineerFactory, PartFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


def _run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_supplier_user_creates_then_reuses_and_prints_the_token_last():
    SupplierFactory(code="CATL-NB")
    first = _run("create_supplier_user", "CATL-NB", "sam", "--email", "sam@catl.example")
    user = get_user_model().objects.get(username="sam")
    assert first == ["Created user sam for supplier CATL-NB.", Token.objects.get(user=user).key]
    assert (user.email, user.is_staff) == ("sam@catl.example", False)
    assert SupplierUser.objects.get(user=user).supplier.code == "CATL-NB"

    again = _run("create_supplier_user", "CATL-NB", "sam")
    assert again == ["Reused user sam for supplier CATL-NB.", first[-1]]
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
    assert not Token.objects.exists()


def test_create_api_token_prints_the_token_and_rotate_replaces_it():
    user = EngineerFactory(username="erin")
    first = _run("create_api_token", "erin")
    assert first == [Token.objects.get(user=user).key]
    assert _run("create_api_token", "erin") == first  # stable without --rotate
    rotated = _run("create_api_token", "erin", "--rotate")
    assert rotated != first
    assert list(Token.objects.filter(user=user).values_list("key", flat=True)) == rotated
    assert not Token.objects.filter(key=first[0]).exists()


def test_create_api_token_refuses_an_unknown_user():
    with pytest.raises(CommandError, match=r"Unknown user 'ghost'\."):
        _run("create_api_token", "ghost")
