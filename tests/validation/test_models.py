"""Database constraints of validation tests and handover checklists."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from tests.factories import ChecklistFactory, ProgramFactory, ValidationTestFactory
from validation.models import HandoverChecklist, ValidationTest

pytestmark = pytest.mark.django_db


def _refused(queryset, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        queryset.update(**values)


@pytest.mark.parametrize(
    "values",
    [
        {"phase": "ev"},
        {"status": "done"},
        {"status": "waived", "waiver_reason": ""},
        {"planned_start": date(2027, 2, 2), "planned_end": date(2027, 2, 1)},
    ],
    ids=["bad-phase", "bad-status", "waiver-without-reason", "end-before-start"],
)
def test_validation_test_refuses_bad_rows(values):
    test = ValidationTestFactory()
    _refused(ValidationTest.objects.filter(pk=test.pk), **values)
    test.refresh_from_db()
    assert test.status == "in_progress"


def test_waiver_with_a_reason_and_a_one_day_test_are_fine():
    test = ValidationTestFactory(planned_start=date(2027, 2, 1), planned_end=date(2027, 2, 1))
    ValidationTest.objects.filter(pk=test.pk).update(status="waived", waiver_reason="Carry-over from SU6, same part")
    test.refresh_from_db()
    assert test.status == "waived"


def test_test_code_unique_within_a_program_only():
    program = ProgramFactory()
    ValidationTestFactory(program=program, code="PV-CRASH-01")
    with pytest.raises(IntegrityError), transaction.atomic():
        ValidationTestFactory(program=program, code="PV-CRASH-01")
    ValidationTestFactory(program=ProgramFactory(), code="PV-CRASH-01")
    assert ValidationTest.objects.filter(code="PV-CRASH-01").count() == 2


def test_checklist_area_unique_within_a_program_only():
    program = ProgramFactory()
    ChecklistFactory(program=program, area="Battery pack")
    with pytest.raises(IntegrityError), transaction.atomic():
        ChecklistFactory(program=program, area="Battery pack")
    ChecklistFactory(program=ProgramFactory(), area="Battery pack")
    assert HandoverChecklist.objects.filter(area="Battery pack").count() == 2
