"""Every gate rule of DOMAIN.md at its boundaries: the day before, at and after each threshold.

TODAY is 2027-01-04, SOP 2027-03-01; default need date = SOP - 14 = 2027-02-15, default PPAP due = need - 28.
"""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from parts.choices import PPAPStatus
from sopgate.models import Blocker
from tests.factories import (
    SOP,
    TODAY,
    CapacityLineFactory,
    ChecklistFactory,
    ItemFactory,
    PartFactory,
    ProgramFactory,
    RampStepFactory,
    SupplierFactory,
    ValidationTestFactory,
    WorkCalendarFactory,
)
from validation.choices import TestStatus as Status

pytestmark = pytest.mark.django_db

NEED = SOP - timedelta(days=14)  # 2027-02-15


@pytest.fixture
def program(at_today):
    return ProgramFactory(code="SU7")


def part(program, **kwargs):
    defaults = {"name": "Battery module", "part_number": "BM-100", "revision": "B"}
    return PartFactory(program=program, **{**defaults, **kwargs})


# --- part_unsourced -------------------------------------------------------------------------------


def test_part_unsourced_fires_only_without_supplier(program, scan):
    unsourced = part(program, supplier=None, promised_date=None, part_number="FL-100", name="Frunk liner")
    part(program)
    assert scan(program, rule="part_unsourced") == {
        unsourced.pk: "Frunk liner FL-100 rev B: no supplier yet, needed 2027-02-15"
    }
    # No supplier, so no supplier to be silent: never "stale".
    assert scan(program, rule="supplier_update_stale") == {}


# --- part_promise_missed (DOMAIN.md "Trust") -----------------------------------------------------------


@pytest.mark.parametrize(
    ("promised", "missed"),
    [(TODAY - timedelta(days=5), True), (TODAY - timedelta(days=1), True), (TODAY, False), (None, False)],
)
def test_part_promise_missed_fires_once_the_promised_day_has_passed(program, scan, promised, missed):
    p = part(program, promised_date=promised, need_date=NEED)
    found = scan(program, rule="part_promise_missed")
    if missed:
        days = (TODAY - promised).days
        assert found == {
            p.pk: f"Battery module BM-100 rev B: promised {promised}, not received ({days} day{'s' * (days != 1)} ago)"
        }
        # The broken promise is not on time: the part is not late (its need date is ahead), yet the gate says no.
        assert scan(program, rule="part_late") == {}
    else:
        assert found == {}


def test_part_promise_missed_clears_when_the_part_arrives(program, scan):
    p = part(program, promised_date=TODAY - timedelta(days=3), need_date=NEED)
    assert p.pk in scan(program, rule="part_promise_missed")
    p.received_on = TODAY
    p.save()
    assert scan(program, rule="part_promise_missed") == {}


# --- part_late ------------------------------------------------------------------------------------


def test_part_late_promised_after_need(program, scan):
    late = part(program, promised_date=NEED + timedelta(days=1))
    on_time = part(program, part_number="BM-101", promised_date=NEED)
    assert scan(program, rule="part_late") == {
        late.pk: "Battery module BM-100 rev B: promised 2027-02-16, needed 2027-02-15 (1 day late)"
    }
    assert on_time.pk in scan(program, rule="part_at_risk")  # promised on the need date: 0 days of margin


def test_part_late_received_part_is_never_late(program, scan):
    part(program, promised_date=NEED + timedelta(days=30), received_on=TODAY)
    assert scan(program, rule="part_late") == {}


@pytest.mark.parametrize(
    ("need", "late"),
    [(TODAY - timedelta(days=1), True), (TODAY, False), (TODAY + timedelta(days=1), False)],
)
def test_part_late_need_date_passed(program, scan, need, late):
    p = part(program, need_date=need, promised_date=TODAY - timedelta(days=20))
    found = scan(program, rule="part_late")
    if late:
        assert found == {
            p.pk: "Battery module BM-100 rev B: promised 2026-12-15, needed 2027-01-03, not received (1 day overdue)"
        }
    else:
        assert found == {}


@pytest.mark.parametrize(
    ("days_from_today", "message"),
    [
        (-1, "no promised date, needed 2027-01-03 (1 day overdue)"),
        (0, "no promised date, needed 2027-01-04 (today)"),
        (7, "no promised date, needed 2027-01-11 (in 7 days)"),  # today + at_risk_days: still late
        (8, None),
    ],
)
def test_part_late_without_promise_near_need(program, scan, days_from_today, message):
    p = part(program, need_date=TODAY + timedelta(days=days_from_today), promised_date=None)
    found = scan(program, rule="part_late")
    assert found == ({p.pk: f"Battery module BM-100 rev B: {message}"} if message else {})


def test_part_late_uses_the_programs_lead_and_risk_days(at_today, scan):
    program = ProgramFactory(code="X1", part_lead_days=30, at_risk_days=3)
    # need = SOP - 30 = 2027-01-30; promised 2027-01-31 is a day late.
    p = part(program, promised_date=date(2027, 1, 31))
    assert "needed 2027-01-30 (1 day late)" in scan(program, rule="part_late")[p.pk]
    near = part(program, part_number="BM-2", need_date=TODAY + timedelta(days=4), promised_date=None)
    assert near.pk not in scan(program, rule="part_late")  # 4 days away, risk window is 3


# --- part_at_risk ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("margin", "at_risk"),
    [(8, False), (7, True), (6, True), (0, True), (-1, False)],  # -1 = promised after need: late instead
)
def test_part_at_risk_margin(program, scan, margin, at_risk):
    p = part(program, promised_date=NEED - timedelta(days=margin))
    found = scan(program, rule="part_at_risk")
    if at_risk:
        assert found == {
            p.pk: f"Battery module BM-100 rev B: promised {NEED - timedelta(days=margin)}, needed 2027-02-15 "
            f"(only {margin} day{'' if margin == 1 else 's'} of margin)"
        }
    else:
        assert found == {}


def test_part_at_risk_not_for_received_or_unpromised_parts(program, scan):
    part(program, promised_date=NEED, received_on=TODAY)
    part(program, part_number="BM-2", promised_date=None, need_date=TODAY + timedelta(days=30))
    assert scan(program, rule="part_at_risk") == {}


# --- PPAP -----------------------------------------------------------------------------------------


def test_ppap_rejected(program, scan):
    rejected = part(program, ppap_status=PPAPStatus.REJECTED)
    part(program, part_number="BM-2", ppap_status=PPAPStatus.SUBMITTED)
    assert scan(program, rule="ppap_rejected") == {rejected.pk: "Battery module BM-100 rev B: PPAP rejected"}


@pytest.mark.parametrize(
    ("due", "status", "overdue"),
    [
        (TODAY - timedelta(days=1), PPAPStatus.SUBMITTED, True),
        (TODAY, PPAPStatus.SUBMITTED, False),
        (TODAY + timedelta(days=1), PPAPStatus.NOT_SUBMITTED, False),
        (TODAY - timedelta(days=1), PPAPStatus.NOT_SUBMITTED, True),
        (TODAY - timedelta(days=1), PPAPStatus.REJECTED, True),
        (TODAY - timedelta(days=30), PPAPStatus.INTERIM_APPROVED, False),
        (TODAY - timedelta(days=30), PPAPStatus.APPROVED, False),
    ],
)
def test_ppap_overdue_explicit_due_date(program, scan, due, status, overdue):
    p = part(program, ppap_status=status, ppap_due_date=due, interim_expires_on=SOP + timedelta(days=365))
    found = scan(program, rule="ppap_overdue")
    if overdue:
        label = PPAPStatus(status).label.lower()
        assert found == {p.pk: f"Battery module BM-100 rev B: PPAP {label}, due {due} (1 day overdue)"}
    else:
        assert found == {}


@pytest.mark.parametrize(("need_in_days", "overdue"), [(27, True), (28, False)])
def test_ppap_overdue_default_due_is_need_minus_ppap_lead_days(program, scan, need_in_days, overdue):
    p = part(program, ppap_status=PPAPStatus.SUBMITTED, need_date=TODAY + timedelta(days=need_in_days))
    assert (p.pk in scan(program, rule="ppap_overdue")) is overdue


@pytest.mark.parametrize(
    ("expires", "expiring"),
    [
        (SOP + timedelta(days=89), True),
        (SOP + timedelta(days=90), False),
        (SOP + timedelta(days=91), False),
        (None, True),
    ],
)
def test_ppap_interim_expiring(program, scan, expires, expiring):
    p = part(program, ppap_status=PPAPStatus.INTERIM_APPROVED, interim_expires_on=expires)
    found = scan(program, rule="ppap_interim_expiring")
    if expires is None:
        assert found == {
            p.pk: "Battery module BM-100 rev B: interim PPAP approval has no expiry date (must hold past 2027-05-30)"
        }
    elif expiring:
        assert found == {
            p.pk: "Battery module BM-100 rev B: interim PPAP approval expires 2027-05-29, before 2027-05-30 "
            "(SOP + 90 days)"
        }
    else:
        assert found == {}


def test_ppap_interim_expiry_ignored_once_approved(program, scan):
    part(program, ppap_status=PPAPStatus.APPROVED, interim_expires_on=TODAY)
    assert scan(program, rule="ppap_interim_expiring") == {}


# --- capacity -------------------------------------------------------------------------------------


# Weekly semantics (DOMAIN.md "The ramp, week by week"): the monthly "capacity below the peak month's days ÷ 7"
# tests this section held are replaced deliberately. The plan below is March 2027 only: 2,300 vehicles over its
# 23 weekdays = 100 a day, so 500 in each full week W09-W12 and 300 in W13 (Mon 29 - Wed 31); the ramp runs from
# the SOP week (W09) to W13, and a part is short in the first week whose cumulative demand exceeds its
# cumulative capacity.


def march_plan(program, vehicles=2300):
    RampStepFactory(program=program, month=date(2027, 3, 1), planned_vehicles=vehicles)


@pytest.mark.parametrize(("capacity", "short"), [(499, True), (500, False)])
def test_capacity_shortfall_names_the_first_short_week_and_the_units(program, scan, capacity, short):
    march_plan(program)
    p = part(program, capacity_per_week=capacity)
    found = scan(program, rule="capacity_shortfall")
    assert found == (
        {
            p.pk: "Battery module BM-100 rev B: short from 2027-W09 by 1 units "
            "(cumulative demand since the SOP week over cumulative capacity)"
        }
        if short
        else {}
    )


@pytest.mark.parametrize(("capacity", "short"), [(999, True), (1000, False)])
def test_capacity_shortfall_multiplies_qty_per_vehicle(program, scan, capacity, short):
    march_plan(program)
    p = part(program, qty_per_vehicle=2, capacity_per_week=capacity)  # 1,000 a full week
    assert (p.pk in scan(program, rule="capacity_shortfall")) is short


def test_capacity_shortfall_builds_ahead_of_a_supplier_holiday_and_names_it_when_it_cannot(program, scan):
    # The supplier closes W11 (March 15-19). At 750 a week it has built 1,500 by then, as much as the plant
    # needs by the end of W11: not short. At 700 it has 1,400 against 1,500: short by 100 in W11, which is named.
    march_plan(program)
    holidays = WorkCalendarFactory(code="DE-BW", closed_dates=[f"2027-03-{day}" for day in range(15, 20)])
    supplier = SupplierFactory(calendar=holidays)
    ahead = part(program, supplier=supplier, capacity_per_week=750)
    behind = part(program, supplier=supplier, part_number="BM-2", capacity_per_week=700)
    assert scan(program, rule="capacity_shortfall") == {
        behind.pk: "Battery module BM-2 rev B: short from 2027-W11 by 100 units (cumulative demand since the SOP "
        "week over cumulative capacity); closed that week: 2027-03-15, 2027-03-16, 2027-03-17, 2027-03-18, "
        "2027-03-19"
    }
    assert ahead.pk not in scan(program, rule="capacity_shortfall")


def test_capacity_shortfall_spreads_the_month_over_the_plants_working_days(program, scan):
    # The plant closes March 10: 22 working days for 2,200 vehicles = 100 a day, 400 in W10. A supplier on the
    # plant's calendar (it has none) loses the day too; at 480 a week: W09 480/500 short by 20.
    program.calendar = WorkCalendarFactory(code="PLANT", closed_dates=["2027-03-10"])
    program.save()
    march_plan(program, vehicles=2200)
    p = part(program, capacity_per_week=480)
    assert scan(program, rule="capacity_shortfall") == {
        p.pk: "Battery module BM-100 rev B: short from 2027-W09 by 20 units "
        "(cumulative demand since the SOP week over cumulative capacity)"
    }


def test_capacity_shortfall_follows_the_capacity_plan_lines(program, scan):
    # 600 a week until March 14, then 300: 600, 1,200, 1,500, 1,800 against 500, 1,000, 1,500, 2,000: short in
    # W12 by 200. The part's capacity_per_week (the line in force today, 600) alone would not be short.
    march_plan(program)
    p = part(program, capacity_per_week=600)
    CapacityLineFactory(part=p, effective_from=date(2027, 1, 1), capacity_per_week=600)
    CapacityLineFactory(part=p, effective_from=date(2027, 3, 15), capacity_per_week=300)
    assert scan(program, rule="capacity_shortfall") == {
        p.pk: "Battery module BM-100 rev B: short from 2027-W12 by 200 units "
        "(cumulative demand since the SOP week over cumulative capacity)"
    }


def test_capacity_shortfall_handles_capacities_that_overflow_32_bits(program, scan):
    march_plan(program)
    part(program, capacity_per_week=2_000_000_000)
    part(program, part_number="BM-2", qty_per_vehicle=40_000, capacity_per_week=1)
    assert len(scan(program, rule="capacity_shortfall")) == 1


# --- run at rate ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "below"), [(499, True), (500, False)])
def test_run_at_rate_below_the_peak_weekly_demand_blocks_and_caps_capacity(program, scan, rate, below):
    march_plan(program)  # peak: 500 a week, first in W09
    p = part(program, capacity_per_week=600, run_at_rate_on=TODAY, run_at_rate_per_week=rate)
    found = scan(program, rule="run_at_rate_below_demand")
    assert found == (
        {
            p.pk: "Battery module BM-100 rev B: ran at 499/week on 2027-01-04, below the peak demand of 500/week (2027-W09)"
        }
        if below
        else {}
    )
    # The rate caps the 600 a week the supplier confirmed: short in W09 by 1.
    assert (p.pk in scan(program, rule="capacity_shortfall")) is below


@pytest.mark.parametrize(("due", "missing"), [(TODAY, True), (TODAY + timedelta(days=1), False)])
def test_run_at_rate_missing_once_the_ppap_is_due(program, scan, due, missing):
    march_plan(program)
    p = part(program, capacity_per_week=600, ppap_due_date=due)
    part(program, part_number="BM-2", capacity_per_week=600, ppap_due_date=due, run_at_rate_on=TODAY)
    part(program, part_number="BM-3", capacity_per_week=None, ppap_due_date=due)  # no capacity plan yet
    part(program, part_number="BM-4", capacity_per_week=600, ppap_due_date=due, received_on=TODAY)
    assert scan(program, rule="run_at_rate_missing") == (
        {p.pk: "Battery module BM-100 rev B: no run at rate yet, PPAP due today"} if missing else {}
    )


def test_capacity_unconfirmed_only_with_a_ramp_plan(program, scan):
    p = part(program, capacity_per_week=None)
    assert scan(program, rule="capacity_unconfirmed") == {}
    assert scan(program, rule="capacity_shortfall") == {}
    RampStepFactory(program=program)
    assert scan(program, rule="capacity_unconfirmed") == {
        p.pk: "Battery module BM-100 rev B: supplier has not confirmed a weekly capacity for the ramp plan"
    }
    assert scan(program, rule="capacity_shortfall") == {}


# --- supplier_update_stale ------------------------------------------------------------------------


def _at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.mark.parametrize(
    ("last_update", "stale"),
    [
        (_at(TODAY - timedelta(days=14)), False),  # exactly 14 days ago: not older than the limit
        (_at(TODAY - timedelta(days=15), 23, 59), True),
        (_at(TODAY - timedelta(days=13), 8), False),
    ],
)
def test_supplier_update_stale(program, scan, last_update, stale):
    p = part(program, last_supplier_update_at=last_update)
    found = scan(program, rule="supplier_update_stale")
    if stale:
        assert found == {
            p.pk: "Battery module BM-100 rev B: no supplier update since 2026-12-20 (15 days ago, limit 14 days)"
        }
    else:
        assert found == {}


def test_supplier_update_stale_falls_back_to_creation_and_skips_received(program, scan):
    never_updated = part(program)
    received = part(program, part_number="BM-2", received_on=TODAY)
    from parts.models import Part

    Part.objects.filter(pk__in=[never_updated.pk, received.pk]).update(created_at=_at(date(2026, 12, 1)))
    assert set(scan(program, rule="supplier_update_stale")) == {never_updated.pk}


def test_supplier_update_stale_uses_program_setting(at_today, scan):
    program = ProgramFactory(code="X2", stale_update_days=3)
    p = part(program, last_supplier_update_at=_at(TODAY - timedelta(days=4)))
    assert "limit 3 days" in scan(program, rule="supplier_update_stale")[p.pk]


# --- validation tests -----------------------------------------------------------------------------


def test_test_failed_only_when_required(program, scan):
    failed = ValidationTestFactory(
        program=program, code="PV-CRASH-01", status=Status.FAILED, result_note="A-pillar intrusion"
    )
    ValidationTestFactory(program=program, status=Status.FAILED, required_for_sop=False)
    ValidationTestFactory(program=program, status=Status.PASSED)
    assert scan(program, rule="test_failed") == {
        failed.pk: "Test PV-CRASH-01 Frontal crash: failed (A-pillar intrusion); required for SOP"
    }


@pytest.mark.parametrize(
    ("end", "status", "after_sop"),
    [
        (SOP, Status.IN_PROGRESS, False),
        (SOP + timedelta(days=1), Status.IN_PROGRESS, True),
        (SOP + timedelta(days=1), Status.PLANNED, True),
        (SOP + timedelta(days=1), Status.FAILED, True),
        (SOP + timedelta(days=1), Status.PASSED, False),
        (SOP + timedelta(days=1), Status.WAIVED, False),
    ],
)
def test_test_after_sop(program, scan, end, status, after_sop):
    t = ValidationTestFactory(
        program=program, code="HOM-10", planned_end=end, status=status, waiver_reason="waiver reason"
    )
    found = scan(program, rule="test_after_sop")
    if after_sop:
        assert found == {t.pk: "Test HOM-10 Frontal crash: planned to end 2027-03-02, 1 day after SOP 2027-03-01"}
    else:
        assert found == {}


@pytest.mark.parametrize(
    ("end", "status", "overdue"),
    [
        (TODAY - timedelta(days=1), Status.IN_PROGRESS, True),
        (TODAY - timedelta(days=1), Status.PLANNED, True),
        (TODAY, Status.IN_PROGRESS, False),
        (TODAY - timedelta(days=1), Status.FAILED, False),
        (TODAY - timedelta(days=1), Status.PASSED, False),
    ],
)
def test_test_overdue(program, scan, end, status, overdue):
    t = ValidationTestFactory(program=program, code="PV-NVH-01", planned_end=end, status=status)
    found = scan(program, rule="test_overdue")
    if overdue:
        assert found == {
            t.pk: f"Test PV-NVH-01 Frontal crash: planned to end 2027-01-03 (1 day overdue), still "
            f"{status.replace('_', ' ')}"
        }
    else:
        assert found == {}


def test_not_required_tests_never_block(program, scan):
    ValidationTestFactory(program=program, planned_end=SOP + timedelta(days=30), required_for_sop=False)
    ValidationTestFactory(program=program, planned_end=TODAY - timedelta(days=5), required_for_sop=False)
    assert scan(program) == {}


# --- handover -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("due_in_days", "overdue"), [(-1, True), (0, False), (1, False)])
def test_handover_item_overdue(program, scan, due_in_days, overdue):
    checklist = ChecklistFactory(program=program, area="Battery pack")
    item = ItemFactory(checklist=checklist, title="Leak test validated", due_date=TODAY + timedelta(days=due_in_days))
    found = scan(program, rule="handover_item_overdue")
    if overdue:
        assert found == {item.pk: "Battery pack: Leak test validated: due 2027-01-03 (1 day overdue), not done"}
    else:
        assert found == {}


def test_handover_item_overdue_ignores_done_and_optional_items(program, scan):
    checklist = ChecklistFactory(program=program)
    ItemFactory(checklist=checklist, due_date=TODAY - timedelta(days=3), done_at=_at(TODAY))
    ItemFactory(checklist=checklist, due_date=TODAY - timedelta(days=3), required=False)
    assert scan(program) == {}


@pytest.mark.parametrize(
    ("due", "after"), [(SOP - timedelta(days=1), False), (SOP, False), (SOP + timedelta(days=1), True)]
)
def test_handover_item_after_sop(program, scan, due, after):
    checklist = ChecklistFactory(program=program, area="Paint")
    item = ItemFactory(checklist=checklist, title="Oven curve approved", due_date=due)
    found = scan(program, rule="handover_item_after_sop")
    if after:
        assert found == {item.pk: "Paint: Oven curve approved: due 2027-03-02, 1 day after SOP 2027-03-01"}
    else:
        assert found == {}


@pytest.mark.parametrize(
    ("today", "fires"),
    [(SOP - timedelta(days=8), False), (SOP - timedelta(days=7), True), (SOP - timedelta(days=6), True)],
)
def test_handover_unsigned_from_sop_minus_signoff_days(program, scan, today, fires):
    checklist = ChecklistFactory(program=program, area="Paint")
    found = scan(program, rule="handover_unsigned", today=today)
    if fires:
        assert found == {
            checklist.pk: "Handover Paint: R&D and production sign-off missing, due 2027-02-22 (SOP − 7 days)"
        }
    else:
        assert found == {}


def test_handover_unsigned_names_the_missing_side_and_both_owners(program, scan):
    day = SOP - timedelta(days=7)
    rd_only = ChecklistFactory(program=program, area="Paint", rd_signed_off_at=_at(TODAY))
    prod_only = ChecklistFactory(program=program, area="Body", production_signed_off_at=_at(TODAY))
    ChecklistFactory(program=program, area="Done", rd_signed_off_at=_at(TODAY), production_signed_off_at=_at(TODAY))
    found = scan(program, rule="handover_unsigned", today=day)
    assert found == {
        rd_only.pk: "Handover Paint: production sign-off missing, due 2027-02-22 (SOP − 7 days)",
        prod_only.pk: "Handover Body: R&D sign-off missing, due 2027-02-22 (SOP − 7 days)",
    }
    blocker = Blocker.objects.get(object_id=rd_only.pk, rule="handover_unsigned")
    assert {blocker.owner_id, blocker.co_owner_id} == {rd_only.rd_owner_id, rd_only.production_owner_id}


def test_handover_unsigned_uses_program_signoff_days(at_today, scan):
    program = ProgramFactory(code="X3", signoff_days=60)  # due 2026-12-31, already passed on TODAY
    checklist = ChecklistFactory(program=program, area="Paint")
    assert checklist.pk in scan(program, rule="handover_unsigned")


# --- owners and severities ------------------------------------------------------------------------


def test_owner_falls_back_to_program_owner_and_severity_follows_the_rule(program, scan):
    p = part(program, owner=None, supplier=SupplierFactory(code="ACME"), promised_date=NEED + timedelta(days=3))
    scan(program)
    blocker = Blocker.objects.get(rule="part_late", object_id=p.pk)
    assert blocker.owner_id == program.owner_id
    assert blocker.severity == "blocking"
    assert blocker.supplier.code == "ACME"
    assert blocker.clear_by == NEED + timedelta(days=3 + 14)


def test_healthy_program_has_no_findings(program, scan):
    RampStepFactory(program=program)
    part(program)
    ValidationTestFactory(program=program)
    ItemFactory(checklist=ChecklistFactory(program=program))
    assert scan(program) == {}
