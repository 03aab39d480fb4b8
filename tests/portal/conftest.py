"""A supplier's world for the portal: program SU7 with a ramp plan, supplier ACME (login alice) with three parts
(one blocked, one late, one healthy) and supplier BOLT (login bob) with one."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from parts.choices import PPAPStatus
from sopgate.models import Blocker
from tests.factories import (
    EngineerFactory,
    PartFactory,
    ProgramFactory,
    RampStepFactory,
    SupplierFactory,
    SupplierUserFactory,
    UserFactory,
)

PASSWORD = "pw-for-tests-only"


@dataclass
class Portal:
    engineer: object
    program: object
    acme: object
    bolt: object
    alice: object
    bob: object
    healthy: object
    blocked: object
    late: object
    theirs: object
    blocker: object


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # no login lock-out left over from another test
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def blocker_on(part, *, message: str, severity: str = "blocking", rule: str = "part_late") -> Blocker:
    now = timezone.now()
    return Blocker.objects.create(
        program=part.program,
        rule=rule,
        severity=severity,
        object_type="part",
        object_id=part.pk,
        object_label=str(part),
        message=message,
        supplier=part.supplier,
        clear_by=date(2027, 1, 20),
        opened_at=now,
        last_seen_at=now,
    )


@pytest.fixture
def portal(db, at_today) -> Portal:
    engineer = EngineerFactory(username="eng")
    program = ProgramFactory(code="SU7", name="SU7 sedan", owner=engineer)
    RampStepFactory(program=program, month=date(2027, 3, 1), planned_vehicles=2000)
    RampStepFactory(program=program, month=date(2027, 7, 1), planned_vehicles=10000)
    acme = SupplierFactory(code="ACME", name="Acme Battery")
    bolt = SupplierFactory(code="BOLT", name="Bolt Seating")
    alice = SupplierUserFactory(user=UserFactory(username="alice", email="alice@acme.example"), supplier=acme).user
    bob = SupplierUserFactory(user=UserFactory(username="bob"), supplier=bolt).user
    common = {"program": program, "owner": engineer, "supplier": acme}
    healthy = PartFactory(
        **common, part_number="HC-300", name="Harness", need_date=date(2027, 2, 10), capacity_per_week=9000
    )
    blocked = PartFactory(
        **common,
        part_number="BM-100",
        name="Battery module",
        need_date=date(2027, 2, 20),
        ppap_status=PPAPStatus.NOT_SUBMITTED,
        capacity_per_week=1000,
        qty_per_vehicle=4,
    )
    late = PartFactory(**common, part_number="LT-200", name="Latch", need_date=date(2027, 1, 2), promised_date=None)
    theirs = PartFactory(program=program, owner=engineer, supplier=bolt, part_number="SF-900", name="Seat frame")
    blocker = blocker_on(blocked, message="Battery module BM-100 rev A: capacity 1,000/week below demand 9,033/week")
    blocker_on(theirs, message="Seat frame SF-900: secret of another supplier")
    return Portal(engineer, program, acme, bolt, alice, bob, healthy, blocked, late, theirs, blocker)


@pytest.fixture
def alice_client(client, portal):
    client.force_login(portal.alice)
    return client


def tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)
