"""A small world with two suppliers, their users and one of each gate object, plus API clients per role."""

from dataclasses import dataclass
from datetime import date

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from parts.models import SupplierUpdate
from sopgate.models import Blocker
from tests.factories import (
    ChecklistFactory,
    EngineerFactory,
    ItemFactory,
    PartFactory,
    ProgramFactory,
    RampStepFactory,
    SupplierFactory,
    SupplierUserFactory,
    UserFactory,
    ValidationTestFactory,
    api_token,
)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The world has several users; a production-strength hash per user would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters live in the local-memory cache and would leak from one test into the next.
    cache.clear()
    yield
    cache.clear()


@dataclass
class World:
    program: object
    supplier_a: object
    supplier_b: object
    part_a: object
    part_b: object
    update_a: object
    update_b: object
    test: object
    checklist: object
    item: object
    blocker: object
    tokens: dict

    def ids(self) -> dict:
        return {
            "program": self.program.code,
            "supplier_a": self.supplier_a.code,
            "supplier_b": self.supplier_b.code,
            "part_a": self.part_a.pk,
            "part_b": self.part_b.pk,
            "update_a": self.update_a.pk,
            "update_b": self.update_b.pk,
            "test": self.test.pk,
            "checklist": self.checklist.pk,
            "item": self.item.pk,
            "blocker": self.blocker.pk,
        }


def client_for(token: str | None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def world(db, at_today) -> World:
    engineer = EngineerFactory(username="eng")
    program = ProgramFactory(code="SU7", owner=engineer)
    RampStepFactory(program=program, month=date(2027, 7, 1))
    supplier_a = SupplierFactory(code="ACME")
    supplier_b = SupplierFactory(code="BOLT")
    alice = SupplierUserFactory(user=UserFactory(username="alice"), supplier=supplier_a).user
    bob = SupplierUserFactory(user=UserFactory(username="bob"), supplier=supplier_b).user
    nobody = UserFactory(username="nobody")
    part_a = PartFactory(program=program, part_number="BM-100", supplier=supplier_a, owner=engineer)
    part_b = PartFactory(program=program, part_number="SF-200", supplier=supplier_b, owner=engineer)
    now = timezone.now()
    update_a = SupplierUpdate.objects.create(part=part_a, reported_by=alice, reported_at=now, note="on track")
    update_b = SupplierUpdate.objects.create(part=part_b, reported_by=bob, reported_at=now, note="on track")
    test = ValidationTestFactory(program=program, part=part_a, owner=engineer)
    checklist = ChecklistFactory(program=program, area="Battery pack", rd_owner=engineer, production_owner=engineer)
    item = ItemFactory(checklist=checklist, title="Work instructions released", responsible=engineer)
    blocker = Blocker.objects.create(
        program=program,
        rule="part_late",
        severity="blocking",
        object_type="part",
        object_id=part_a.pk,
        object_label="Seat frame BM-100 rev A",
        message="late",
        owner=engineer,
        supplier=supplier_a,
        opened_at=now,
        last_seen_at=now,
    )
    tokens = {
        "engineer": api_token(engineer),
        "supplier_a": api_token(alice),
        "supplier_b": api_token(bob),
        "nobody": api_token(nobody),
        "anonymous": None,
    }
    return World(
        program, supplier_a, supplier_b, part_a, part_b, update_a, update_b, test, checklist, item, blocker, tokens
    )


@pytest.fixture
def clients(world) -> dict[str, APIClient]:
    return {role: client_for(token) for role, token in world.tokens.items()}


@pytest.fixture
def eng(clients) -> APIClient:
    return clients["engineer"]


@pytest.fixture
def alice(clients) -> APIClient:
    return clients["supplier_a"]
