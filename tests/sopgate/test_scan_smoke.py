from datetime import timedelta

import pytest

from sopgate.models import Blocker
from sopgate.services import program_scan
from tests.factories import PartFactory, ProgramFactory, RampStepFactory

pytestmark = pytest.mark.django_db


def test_late_part_opens_one_blocker_and_rescan_changes_nothing(at_today):
    program = ProgramFactory(code="SU7")
    RampStepFactory(program=program)
    need = program.sop_date - timedelta(days=14)
    part = PartFactory(
        program=program,
        name="Battery module",
        part_number="BM-100",
        revision="B",
        promised_date=need + timedelta(days=20),
    )
    result = program_scan(program_id=program.pk, today=at_today)
    assert result.opened == 1
    blocker = Blocker.objects.get()
    assert blocker.rule == "part_late"
    assert blocker.object_id == part.pk
    assert blocker.message == (
        f"Battery module BM-100 rev B: promised {need + timedelta(days=20)}, needed {need} (20 days late)"
    )
    again = program_scan(program_id=program.pk, today=at_today)
    assert (again.opened, again.resolved) == (0, 0)
    assert Blocker.objects.count() == 1
