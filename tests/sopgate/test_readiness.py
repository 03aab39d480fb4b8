"""Decision, readiness percent and forecast SOP date on small programs computed by hand."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from parts.choices import PPAPStatus
from sopgate.selectors import program_readiness
from sopgate.services import program_scan, program_snapshot
from tests.factories import (
    SOP,
    TODAY,
    ChecklistFactory,
    ItemFactory,
    PartFactory,
    ProgramFactory,
    RampStepFactory,
    ValidationTestFactory,
)
from validation.choices import TestStatus as Status

pytestmark = pytest.mark.django_db

NEED = SOP - timedelta(days=14)  # 2027-02-15


def _readiness(program):
    program_scan(program_id=program.pk)
    return program_readiness(program, today=TODAY)


@pytest.fixture
def program(at_today):
    return ProgramFactory(code="SU7")


def test_go_when_nothing_is_open(program):
    PartFactory(program=program)
    readiness = _readiness(program)
    assert readiness.decision == "go"
    assert readiness.forecast_sop_date == SOP
    assert readiness.readiness_pct == Decimal("100.0")
    assert readiness.decision_sentence == "SU7 can start production on 2027-03-01: nothing stands in the way."


def test_conditional_when_only_warnings_are_open(program):
    PartFactory(program=program, promised_date=NEED - timedelta(days=3))  # at risk: a warning
    readiness = _readiness(program)
    assert readiness.decision == "conditional"
    assert (readiness.blocking_count, readiness.warning_count) == (0, 1)
    assert readiness.forecast_sop_date == SOP
    assert "1 warning open (1 part at risk)" in readiness.decision_sentence


def test_no_go_while_a_blocking_blocker_is_open(program):
    PartFactory(program=program, promised_date=NEED - timedelta(days=3))
    ValidationTestFactory(program=program, code="PV-CRASH-01", status=Status.FAILED)
    readiness = _readiness(program)
    assert readiness.decision == "no_go"
    assert (readiness.blocking_count, readiness.warning_count) == (1, 1)
    assert readiness.decision_sentence == "SU7 cannot start production: 1 blocking issue (1 test failed)."


def test_the_no_go_sentence_orders_rules_by_count_then_by_rule(program):
    """For the API and reports (`program_readiness`) as on the program page (`program_gate`): most frequent rule
    first, ties in rule order."""
    from sopgate.dashboard.gate import program_gate

    PartFactory(program=program, supplier=None)  # unsourced
    PartFactory(program=program, supplier=None)
    ValidationTestFactory(program=program, code="PV-A", status=Status.FAILED)  # ties with ...
    PartFactory(program=program, ppap_status=PPAPStatus.REJECTED)  # ... this one
    for _ in range(3):  # warnings, more of them than of any blocking rule: not part of a no-go sentence
        PartFactory(program=program, promised_date=NEED - timedelta(days=3))
    readiness = _readiness(program)
    assert readiness.counts["by_rule"]["part_at_risk"] == 3
    expected = "SU7 cannot start production: 4 blocking issues (2 part not sourced, 1 PPAP rejected, 1 test failed)."
    assert readiness.decision_sentence == expected
    lean = program_gate(program, today=TODAY, items=readiness.counts["items"]).readiness
    assert lean.decision_sentence == expected


def test_readiness_percent_counts_parts_required_tests_and_required_items(program):
    PartFactory(program=program, promised_date=NEED)  # done: approved, promised by need
    PartFactory(program=program, promised_date=NEED + timedelta(days=5), received_on=TODAY)  # done: received
    PartFactory(program=program, ppap_status=PPAPStatus.SUBMITTED)  # not done: PPAP
    PartFactory(program=program, promised_date=NEED + timedelta(days=1))  # not done: promised late
    ValidationTestFactory(program=program, status=Status.PASSED)
    ValidationTestFactory(program=program, status=Status.WAIVED, waiver_reason="carry-over")
    ValidationTestFactory(program=program, status=Status.IN_PROGRESS)
    ValidationTestFactory(program=program, status=Status.PASSED, required_for_sop=False)  # not counted
    checklist = ChecklistFactory(program=program)
    ItemFactory(checklist=checklist, done_at=timezone.make_aware(datetime.combine(TODAY, time(8))))
    ItemFactory(checklist=checklist)
    ItemFactory(checklist=checklist, required=False)  # not counted
    readiness = _readiness(program)
    # done: 2 parts + 2 tests + 1 item = 5 of 4 + 3 + 2 = 9 -> 55.6 %
    assert (readiness.done_items, readiness.total_items) == (5, 9)
    assert readiness.readiness_pct == Decimal("55.6")
    assert readiness.counts["items"] == {
        "parts": {"total": 4, "done": 2},
        "tests": {"total": 3, "done": 2},
        "handover_items": {"total": 2, "done": 1},
    }


def test_forecast_is_the_latest_date_the_blockers_can_clear(program):
    part = PartFactory(program=program, name="Battery module", part_number="BM-107", promised_date=date(2027, 2, 25))
    readiness = _readiness(program)
    # promised 2027-02-25 + part_lead_days 14 = 2027-03-11
    assert readiness.forecast_sop_date == date(2027, 3, 11)
    assert readiness.forecast_reason == (
        "10 days after plan: Battery module BM-107 rev A arrives 2027-02-25 + 14 days lead."
    )

    ValidationTestFactory(program=program, code="HOM-10", name="WLTP", planned_end=date(2027, 3, 20))
    readiness = _readiness(program)
    assert readiness.forecast_sop_date == date(2027, 3, 20)
    assert readiness.forecast_reason == (
        "19 days after plan: Test HOM-10 WLTP (test ends after SOP) clears 2027-03-20."
    )

    ItemFactory(checklist=ChecklistFactory(program=program, area="Paint"), title="Oven", due_date=date(2027, 3, 25))
    assert _readiness(program).forecast_sop_date == date(2027, 3, 25)

    part.promised_date = date(2027, 3, 20)  # + 14 = 2027-04-03: the part drives the forecast again
    part.save()
    assert _readiness(program).forecast_sop_date == date(2027, 4, 3)


def test_forecast_ignores_open_work_that_ends_before_sop(program):
    ValidationTestFactory(program=program, planned_end=SOP - timedelta(days=1))
    ItemFactory(checklist=ChecklistFactory(program=program), due_date=SOP)
    readiness = _readiness(program)
    assert readiness.forecast_sop_date == SOP
    assert readiness.forecast_reason == "On plan: no known blocker clears after the SOP date."


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (
            lambda p: PartFactory(program=p, name="Frunk liner", part_number="FL-100", supplier=None),
            "Unknown: Frunk liner FL-100 rev A has no supplier, so there is no date it can clear by.",
        ),
        (
            lambda p: PartFactory(
                program=p, name="Heat pump", part_number="HPM-107", promised_date=None, need_date=TODAY
            ),
            "Unknown: Heat pump HPM-107 rev A is late without a promised date, so there is no date it can clear by.",
        ),
        (
            lambda p: ValidationTestFactory(program=p, code="PV-CRASH-01", name="Frontal", status=Status.FAILED),
            "Unknown: Test PV-CRASH-01 Frontal failed a required test, so there is no date it can clear by.",
        ),
        (
            lambda p: PartFactory(
                program=p, name="Seat frame", part_number="SF-200", promised_date=TODAY - timedelta(days=1)
            ),
            "Unknown: Seat frame SF-200 rev A missed its promised date, so there is no date it can clear by.",
        ),
    ],
)
def test_forecast_unknown_with_the_reason(program, make, reason):
    PartFactory(program=program, promised_date=date(2027, 2, 25))  # a dated late part does not help
    make(program)
    readiness = _readiness(program)
    assert readiness.forecast_sop_date is None
    assert readiness.forecast_reason == reason


def test_snapshot_stores_the_readiness_once_per_day(program):
    RampStepFactory(program=program)
    PartFactory(program=program, promised_date=date(2027, 2, 25))
    program_scan(program_id=program.pk)
    first = program_snapshot(program_id=program.pk, today=TODAY)
    again = program_snapshot(program_id=program.pk, today=TODAY)
    assert first.pk == again.pk
    assert (again.decision, again.blocking_count, again.forecast_sop_date) == ("no_go", 1, date(2027, 3, 11))
