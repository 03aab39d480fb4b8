"""Validation test status rules (DOMAIN.md "Trust"): failed needs a note, passed a completion date, waived a reason
and a launch manager who is not the test's owner. Checked when the status changes, through `test_save`."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from sopgate.roles import NotPermitted
from tests.factories import TODAY, EngineerFactory, ValidationTestFactory, launch_manager
from validation.choices import TestStatus as Status
from validation.models import ValidationTest
from validation.services import test_save as save_test

pytestmark = pytest.mark.django_db


@pytest.fixture
def crash(at_today):
    return ValidationTestFactory(code="PV-CRASH", owner=EngineerFactory(username="owner"))


def _refused(test, actor, exception=ValidationError) -> dict:
    with pytest.raises(exception) as refused:
        save_test(test=test, actor=actor)
    stored = ValidationTest.objects.get(pk=test.pk)
    assert stored.status == Status.IN_PROGRESS and stored.history.count() == 1
    return refused.value.message_dict


def test_failed_needs_a_result_note(crash):
    crash.status = Status.FAILED
    assert _refused(crash, crash.owner) == {"result_note": ["PV-CRASH failed: say what failed in the result note."]}
    crash.result_note = "B-pillar intrusion 40 mm over target"
    assert save_test(test=crash, actor=crash.owner).status == Status.FAILED


def test_passed_takes_today_as_its_completion_date_and_refuses_a_future_one(crash):
    crash.status, crash.completed_on = Status.PASSED, date(2027, 1, 5)
    assert _refused(crash, crash.owner) == {
        "completed_on": ["PV-CRASH cannot have passed on 2027-01-05: that is after today."]
    }
    crash.completed_on = None
    assert save_test(test=crash, actor=crash.owner).completed_on == TODAY


def test_a_waiver_needs_a_launch_manager_who_does_not_own_the_test_and_a_reason(crash):
    crash.status, crash.waiver_reason = Status.WAIVED, "Carry-over from SU6, same body structure"
    assert _refused(crash, EngineerFactory(username="engineer"), NotPermitted) == {
        "status": ["Only a launch manager (the group has no members yet) may waive PV-CRASH."]
    }
    lena = launch_manager("lena")
    crash.owner.groups.set(lena.groups.all())  # the owner is a launch manager too
    assert _refused(crash, crash.owner, NotPermitted) == {
        "status": ["owner owns PV-CRASH: another launch manager waives it."]
    }
    crash.waiver_reason = " "
    assert _refused(crash, lena) == {"waiver_reason": ["Say why PV-CRASH is waived."]}
    crash.waiver_reason = "Carry-over from SU6, same body structure"
    saved = save_test(test=crash, actor=lena)
    assert saved.status == Status.WAIVED
    assert saved.history.first().history_user == lena


def test_rules_apply_to_a_change_of_status_only(crash):
    crash.status, crash.result_note = Status.FAILED, "Intrusion over target"
    save_test(test=crash, actor=crash.owner)
    crash.result_note, crash.name = "", "Frontal crash (ODB)"  # an edit that keeps the status is not re-judged
    assert save_test(test=crash, actor=EngineerFactory()).name == "Frontal crash (ODB)"
