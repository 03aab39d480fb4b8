"""The week arithmetic of `sopgate.ramp` on hand-computed cases (DOMAIN.md "The ramp, week by week").

2027: March 1 is a Monday; March has 23 weekdays, April 22 (April 1 is a Thursday), February 20.
"""

from datetime import date
from fractions import Fraction

from sopgate import ramp
from sopgate.ramp import Calendar, CapacityPlan

W09 = date(2027, 3, 1)  # 2027-W09


def mondays(first: date, n: int) -> list[date]:
    return [date.fromordinal(first.toordinal() + 7 * k) for k in range(n)]


def test_the_ramp_plan_is_a_step_function_ending_with_the_last_steps_month():
    plan = ramp.monthly_plan([(date(2027, 5, 1), 6000), (date(2027, 3, 1), 2000)])
    assert plan == {date(2027, 3, 1): 2000, date(2027, 4, 1): 2000, date(2027, 5, 1): 6000}
    weeks = ramp.ramp_weeks(date(2027, 3, 3), plan)  # SOP on a Wednesday: from its week's Monday
    assert (weeks[0], ramp.week_label(weeks[0])) == (W09, "2027-W09")
    assert ramp.week_label(weeks[-1]) == "2027-W22"  # May 31 (a Monday) is the plan's last day


def test_a_week_spanning_two_months_sums_both_months_shares():
    # W13 = Mar 29 - Apr 4: three March weekdays at 2,000 / 23 and two April weekdays at 4,400 / 22.
    plan = {date(2027, 3, 1): 2000, date(2027, 4, 1): 4400}
    [share] = ramp.planned_vehicles([date(2027, 3, 29)], plan, ramp.EVERY_WEEKDAY)
    assert share == Fraction(2000 * 3, 23) + 400  # 660.87 vehicles
    assert ramp.demand(share, 1) == 661
    assert ramp.demand(share, 2) == 1322  # 1,321.74 rounded up once, not per month


def test_a_plant_holiday_week_has_no_demand_and_the_month_is_spread_over_its_working_days():
    # February 2027 closed 8-12 (a shutdown week) and the 17th: 14 working days for 1,900 vehicles.
    plant = Calendar.of(
        code="PLANT",
        working_weekdays=[1, 2, 3, 4, 5],
        closed_dates=["2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11", "2027-02-12", "2027-02-17"],
    )
    weeks = mondays(date(2027, 2, 1), 4)
    shares = ramp.planned_vehicles(weeks, {date(2027, 2, 1): 1900}, plant)
    assert [ramp.demand(share, 1) for share in shares] == [679, 0, 543, 679]  # 5, 0, 4, 5 days × 135.71
    assert sum(shares) == 1900


def test_a_supplier_holiday_in_an_otherwise_full_week_takes_its_share_of_the_weeks_capacity():
    # May 5, 2027 is a Wednesday.
    supplier = Calendar.of(code="DE", working_weekdays=[1, 2, 3, 4, 5], closed_dates=["2027-05-05"])
    plan = CapacityPlan([(date(2027, 1, 1), 1000)])
    assert ramp.capacity(date(2027, 5, 3), plan, supplier) == 800  # 1,000 × 4 / 5
    assert ramp.capacity(date(2027, 5, 10), plan, supplier) == 1000
    six_days = Calendar.of(code="CN", working_weekdays=[1, 2, 3, 4, 5, 6], closed_dates=["2027-05-05"])
    assert ramp.capacity(date(2027, 5, 3), CapacityPlan([(date(2027, 1, 1), 1200)]), six_days) == 1000  # × 5 / 6


def test_a_capacity_line_starting_mid_ramp_counts_from_its_day():
    plan = CapacityPlan([(date(2027, 3, 1), 1000), (date(2027, 5, 5), 2500)])
    assert ramp.capacity(date(2027, 2, 22), plan, ramp.EVERY_WEEKDAY) == 0  # before the first line: nothing
    assert ramp.capacity(date(2027, 4, 26), plan, ramp.EVERY_WEEKDAY) == 1000
    # Mon and Tue at 1,000, Wed to Fri at 2,500 a week: (2 × 1,000 + 3 × 2,500) / 5.
    assert ramp.capacity(date(2027, 5, 3), plan, ramp.EVERY_WEEKDAY) == 1900
    assert ramp.capacity(date(2027, 5, 10), plan, ramp.EVERY_WEEKDAY) == 2500


def test_a_run_at_rate_below_the_line_caps_capacity_from_its_date():
    plan = CapacityPlan([(date(2027, 1, 1), 1000)], run_at_rate_on=date(2027, 4, 1), run_at_rate_per_week=800)
    assert ramp.capacity(date(2027, 3, 22), plan, ramp.EVERY_WEEKDAY) == 1000
    assert ramp.capacity(date(2027, 3, 29), plan, ramp.EVERY_WEEKDAY) == 920  # (3 × 1,000 + 2 × 800) / 5
    assert ramp.capacity(date(2027, 4, 5), plan, ramp.EVERY_WEEKDAY) == 800
    # A rate above the line caps nothing.
    above = CapacityPlan([(date(2027, 1, 1), 1000)], run_at_rate_on=date(2027, 1, 1), run_at_rate_per_week=5000)
    assert ramp.capacity(date(2027, 4, 5), above, ramp.EVERY_WEEKDAY) == 1000


def test_the_shortfall_is_cumulative_building_ahead_of_a_holiday_but_never_catching_up_after():
    weeks = mondays(W09, 4)
    # Built ahead of the supplier's holiday (third week): never short.
    assert ramp.shortfall(weeks, [500, 500, 500, 500], [750, 750, 0, 500]) is None
    # Short in the holiday week by 300; the week after catches up, too late for the plant.
    short = ramp.shortfall(weeks, [500, 500, 500, 500], [600, 600, 0, 900])
    assert (short.label, short.units) == ("2027-W11", 300)
    assert ramp.shortfall(weeks, [500, 0, 0, 0], [499, 0, 0, 0]).units == 1


def test_achievable_vehicles_are_the_least_capacity_per_vehicle_and_name_the_bottleneck():
    # Three parts over two weeks: battery, seat (2 per vehicle), mirror.
    capacities = [[1000, 1000], [1500, 1601], [750, 900]]
    qty = [1, 2, 1]
    assert ramp.achievable(capacities, qty, 2) == [
        (750, [1, 2]),  # 1,500 ÷ 2 and 750 ÷ 1 bind
        (800, [1]),  # 1,601 ÷ 2 rounds down to 800
    ]
    assert ramp.achievable([], [], 2) == [(None, []), (None, [])]
