from datetime import date, timedelta

import pytest

from parts.choices import PPAPStatus
from sopgate.models import ReadinessSnapshot
from sopgate.services import program_scan
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
from validation.choices import TestPhase, TestStatus


@pytest.fixture
def engineer_client(client, engineer, at_today):
    # Logs in after the clock is pinned, so the session is not already expired at TODAY.
    client.force_login(engineer)
    return client


def build_program(code: str, size: int, today: date, *, scan: bool = True, warnings: int = 0):
    """A program with `size` parts, tests and handover items, a mix of healthy and failing ones, scanned.
    `warnings` more parts and tests raise warnings only: capacity unconfirmed and test overdue."""
    program = ProgramFactory(code=code)
    RampStepFactory(program=program, month=date(2027, 3, 1), planned_vehicles=2000)
    RampStepFactory(program=program, month=date(2027, 7, 1), planned_vehicles=10000)
    owner = EngineerFactory(username=f"{code.lower()}-owner", first_name="Olga", last_name="Owner")
    need = program.sop_date - timedelta(days=program.part_lead_days)
    for n in range(size):
        kind = n % 4
        PartFactory(
            program=program,
            owner=owner,
            supplier=None if kind == 3 else SupplierFactory(code=f"{code}-S{n % 7}"),
            promised_date=need + timedelta(days=9) if kind == 1 else need - timedelta(days=20),
            capacity_per_week=1500 if kind == 2 else 100000,
            ppap_status=PPAPStatus.SUBMITTED if kind == 1 else PPAPStatus.APPROVED,
            received_on=today - timedelta(days=2) if kind == 0 else None,
        )
        ValidationTestFactory(
            program=program,
            owner=owner,
            phase=[TestPhase.DV, TestPhase.PV, TestPhase.HOMOLOGATION][n % 3],
            status=[TestStatus.PASSED, TestStatus.IN_PROGRESS, TestStatus.FAILED, TestStatus.PLANNED][kind],
        )
    checklists = [
        ChecklistFactory(program=program, rd_owner=owner, production_owner=owner) for _ in range(1 + size // 10)
    ]
    for n in range(size):
        ItemFactory(
            checklist=checklists[n % len(checklists)],
            responsible=owner,
            due_date=today - timedelta(days=3) if n % 5 == 0 else today + timedelta(days=20),
        )
    for n in range(size):
        ReadinessSnapshot.objects.create(
            program=program,
            date=today - timedelta(days=size - n),
            decision="no_go",
            readiness_pct=40 + n % 30,
            blocking_count=5,
            warning_count=2,
        )
    for _ in range(warnings):
        PartFactory(
            program=program,
            owner=owner,
            supplier=SupplierFactory(code=f"{code}-W"),
            promised_date=need - timedelta(days=20),
            capacity_per_week=None,
            ppap_status=PPAPStatus.APPROVED,
            received_on=today - timedelta(days=2),
        )
        ValidationTestFactory(program=program, owner=owner, planned_end=today - timedelta(days=3))
    if scan:
        program_scan(program_id=program.pk, today=today)
    return program
