"""The change history keeps who made each change by name, also after that user is deleted (sopgate/history.py)."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from tests.factories import (
    ChecklistFactory,
    EngineerFactory,
    ItemFactory,
    PartFactory,
    ProgramFactory,
    RampStepFactory,
    SupplierFactory,
    ValidationTestFactory,
)

pytestmark = pytest.mark.django_db

TRACKED = [
    (ProgramFactory, "name"),
    (RampStepFactory, "planned_vehicles"),
    (SupplierFactory, "name"),
    (PartFactory, "name"),
    (ValidationTestFactory, "name"),
    (ChecklistFactory, "area"),
    (ItemFactory, "title"),
]


def _changed_by(factory, field, user):
    obj = factory()
    setattr(obj, field, 9 if field == "planned_vehicles" else "Changed")
    obj._history_user = user
    obj.save()
    return obj


@pytest.mark.parametrize("factory, field", TRACKED, ids=[f._meta.model.__name__ for f, _ in TRACKED])
def test_a_deleted_users_changes_keep_their_name(factory, field):
    ursula = EngineerFactory(username="ursula")
    obj = _changed_by(factory, field, ursula)

    ursula.delete()

    record = obj.history.first()
    assert (record.history_type, record.history_username) == ("~", "ursula")
    assert record.history_user is None


def test_a_change_without_a_user_names_nobody():
    program = ProgramFactory()
    assert program.history.get().history_username == ""


def test_the_admin_history_page_names_a_deleted_user(client):
    ursula = EngineerFactory(username="ursula")
    program = _changed_by(ProgramFactory, "name", ursula)
    ursula.delete()
    client.force_login(EngineerFactory(username="root", is_superuser=True))

    response = client.get(reverse("admin:sopgate_program_history", args=[program.pk]))

    assert response.status_code == 200
    cells = response.content.decode()
    assert "ursula" in cells


@pytest.mark.parametrize(
    "app, migration, factory, field",
    [
        ("sopgate", "0007_history_keeps_actor_username", ProgramFactory, "name"),
        ("parts", "0011_history_keeps_actor_username", PartFactory, "name"),
        ("validation", "0004_history_keeps_actor_username", ItemFactory, "title"),
    ],
)
def test_the_migration_names_the_actors_of_existing_history(app, migration, factory, field):
    ursula = EngineerFactory(username="ursula")
    obj = _changed_by(factory, field, ursula)
    history = type(obj).history.model
    history.objects.update(history_username="")  # as rows written before the column were

    importlib.import_module(f"{app}.migrations.{migration}")._backfill_usernames(apps, None)

    assert obj.history.first().history_username == "ursula"
    assert set(obj.history.filter(history_user=None).values_list("history_username", flat=True)) <= {""}
