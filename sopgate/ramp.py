"""The ramp week by week (DOMAIN.md "The ramp, week by week"): plain functions over dates and numbers, no query.

- A **calendar** says which days work: its working ISO weekdays, less its closed dates (no calendar: Mon–Fri).
- The **ramp plan** is a step function of months: a step's vehicles hold from its month until the next step's;
  the plan ends with the last step's month. The ramp runs per ISO week from the SOP week to the week holding the
  plan's last day.
- **Planned vehicles** in a week: for each month the week touches, the month's vehicles ÷ the plant's working
  days in that month × the plant's working days of the week in that month, summed. Kept exact (a `Fraction`);
  a part's **weekly demand** is that × `qty_per_vehicle`, rounded up.
- **Capacity** in a week: for each of the supplier's working days of the week, the capacity line in force that
  day (capped by the run-at-rate from its date on) ÷ the supplier's working weekdays, summed and rounded down.
  With one line all week that is DOMAIN's "line in force × working days that week ÷ working weekdays"; taking it
  day by day also places a line or a run at rate that starts mid-week.
- **Shortfall**: the first week whose cumulative demand since the SOP week exceeds the cumulative capacity since
  then (a supplier builds ahead of its holidays; it cannot catch up after the plant needed the parts).
- **Achievable** vehicles in a week: the least, over the parts with a known capacity, of capacity ÷ quantity per
  vehicle (rounded down), and the parts that bind.
"""

import bisect
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from itertools import accumulate

WEEK = timedelta(days=7)
MONDAY_TO_FRIDAY = frozenset({1, 2, 3, 4, 5})


@dataclass(frozen=True)
class Calendar:
    working_weekdays: frozenset[int] = MONDAY_TO_FRIDAY  # ISO: Monday = 1
    closed_dates: frozenset[date] = frozenset()
    code: str = ""

    @classmethod
    def of(cls, *, code: str, working_weekdays: Iterable[int], closed_dates: Iterable[str | date]) -> "Calendar":
        closed = frozenset(day if isinstance(day, date) else date.fromisoformat(day) for day in closed_dates)
        return cls(frozenset(working_weekdays), closed, code)

    def works(self, day: date) -> bool:
        return day.isoweekday() in self.working_weekdays and day not in self.closed_dates

    def working_days(self, first: date, last: date) -> list[date]:
        """The working days from `first` to `last`, both included."""
        return [first + timedelta(n) for n in range((last - first).days + 1) if self.works(first + timedelta(n))]

    def closed_in(self, first: date, last: date) -> list[date]:
        """The closed dates from `first` to `last` that would otherwise be working weekdays."""
        return sorted(d for d in self.closed_dates if first <= d <= last and d.isoweekday() in self.working_weekdays)


EVERY_WEEKDAY = Calendar()


def closed_in_week(monday: date, calendars: Iterable[Calendar]) -> list[date]:
    """The dates closed in the week starting `monday` by any of `calendars` (that would otherwise work), in order."""
    last = monday + timedelta(days=6)
    return sorted({day for calendar in calendars for day in calendar.closed_in(monday, last)})


def week_start(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def monthly_plan(steps: Iterable[tuple[date, int]]) -> dict[date, int]:
    """Vehicles per month (first days) from the first step's month to the last step's: each step holds until
    the next one."""
    ordered = sorted(steps)
    plan: dict[date, int] = {}
    for n, (month, vehicles) in enumerate(ordered):
        until = ordered[n + 1][0] if n + 1 < len(ordered) else _next_month(month)
        while month < until:
            plan[month] = vehicles
            month = _next_month(month)
    return plan


def ramp_weeks(sop: date, plan: dict[date, int]) -> list[date]:
    """The Mondays of the ramp's weeks: from the SOP week to the week holding the plan's last day."""
    if not plan:
        return []
    last_day = _next_month(max(plan)) - timedelta(days=1)
    monday, weeks = week_start(sop), []
    while monday <= last_day:
        weeks.append(monday)
        monday += WEEK
    return weeks


def planned_vehicles(weeks: Sequence[date], plan: dict[date, int], plant: Calendar) -> list[Fraction]:
    """Each week's share of the monthly plan by the plant calendar (exact)."""
    month_days: dict[date, int] = {}
    for month in plan:
        month_days[month] = len(plant.working_days(month, _next_month(month) - timedelta(days=1)))
    shares = []
    for monday in weeks:
        share = Fraction(0)
        for day in plant.working_days(monday, monday + timedelta(days=6)):
            month = day.replace(day=1)
            if month in plan:  # a month with a working day has month_days ≥ 1
                share += Fraction(plan[month], month_days[month])
        shares.append(share)
    return shares


def demand(share: Fraction, qty_per_vehicle: int) -> int:
    """A part's demand in a week with `share` planned vehicles, rounded up."""
    return -(-share.numerator * qty_per_vehicle // share.denominator)


@dataclass
class CapacityPlan:
    """A part's capacity plan: its lines (`effective_from`, per week; before the first line it makes nothing)
    and its run at rate, which caps the lines from its date on."""

    lines: list[tuple[date, int]]
    run_at_rate_on: date | None = None
    run_at_rate_per_week: int | None = None
    _days: list[date] = field(init=False, repr=False)

    def __post_init__(self):
        self.lines = sorted(self.lines)
        self._days = [day for day, _ in self.lines]

    def per_week_on(self, day: date) -> int:
        n = bisect.bisect_right(self._days, day)
        rate = self.lines[n - 1][1] if n else 0
        if self.run_at_rate_on is not None and self.run_at_rate_per_week is not None and day >= self.run_at_rate_on:
            rate = min(rate, self.run_at_rate_per_week)
        return rate

    def steps(self) -> list[tuple[date, int]]:
        """The days the rate changes on (a line starts, the run at rate begins), each with the rate from then on;
        before the first, nothing is made."""
        days = set(self._days)
        if self.run_at_rate_on is not None:
            days.add(self.run_at_rate_on)
        return [(day, self.per_week_on(day)) for day in sorted(days)]


@dataclass(frozen=True)
class WorkWeeks:
    """A calendar's working days in each week of a ramp: worked out once for all the parts made by it."""

    days: tuple[tuple[date, ...], ...]
    per_day: int  # its working weekdays: a line's weekly figure is made over that many days
    counts: tuple[int, ...] = ()  # working days per week
    first_day: date = date.max  # the ramp's first working day

    @classmethod
    def of(cls, calendar: Calendar, weeks: Sequence[date]) -> "WorkWeeks":
        days = tuple(tuple(calendar.working_days(monday, monday + timedelta(days=6))) for monday in weeks)
        first = next((week[0] for week in days if week), date.max)
        return cls(days, len(calendar.working_weekdays), tuple(len(week) for week in days), first)


def capacities(plan: CapacityPlan, work: WorkWeeks) -> list[int]:
    """What the supplier can make in each week, rounded down. The weeks are walked in order alongside the days the
    rate changes on (a line starts, the run at rate caps): a week without a change makes its rate × its working
    days ÷ the working weekdays; a week with one sums its days."""
    steps, per_day = plan.steps(), work.per_day
    if len(steps) == 1 and steps[0][0] <= work.first_day:  # one rate all along the ramp: most parts
        rate = steps[0][1]
        return [rate * count // per_day for count in work.counts]
    made, n, rate, changes = [], 0, 0, len(steps)
    for days, count in zip(work.days, work.counts, strict=True):
        if not count:
            made.append(0)
            continue
        while n < changes and steps[n][0] <= days[0]:
            rate = steps[n][1]
            n += 1
        if n == changes or steps[n][0] > days[-1]:
            made.append(rate * count // per_day)
        else:
            made.append(sum(plan.per_week_on(day) for day in days) // per_day)
    return made


def capacity(monday: date, plan: CapacityPlan, supplier: Calendar) -> int:
    """What the supplier can make in the week starting `monday`, rounded down."""
    return capacities(plan, WorkWeeks.of(supplier, [monday]))[0]


@dataclass(frozen=True)
class Shortfall:
    week: date  # its Monday
    units: int  # cumulative demand − cumulative capacity at that week's end

    @property
    def label(self) -> str:
        return week_label(self.week)


def shortfall(weeks: Sequence[date], demands: Sequence[int], capacities: Sequence[int]) -> Shortfall | None:
    """The first week whose cumulative demand exceeds cumulative capacity, or None."""
    if not (len(weeks) == len(demands) == len(capacities)):
        raise ValueError("one demand and one capacity per week")
    balance = list(map(operator.sub, accumulate(capacities), accumulate(demands)))  # made less needed, so far
    if min(balance, default=0) >= 0:
        return None
    n = next(n for n, left in enumerate(balance) if left < 0)
    return Shortfall(weeks[n], -balance[n])


def achievable(
    capacities: Sequence[Sequence[int]], qty_per_vehicle: Sequence[int], weeks: int
) -> list[tuple[int | None, list[int]]]:
    """Per week, the vehicles the parts' capacities support (the least of capacity ÷ quantity per vehicle, rounded
    down) and the parts that bind, as indexes into `capacities` (a list of weekly capacities per part); (None, [])
    in every week without any part of known capacity."""
    if not capacities:
        return [(None, [])] * weeks
    vehicles = [[able // qty for able in weekly] for weekly, qty in zip(capacities, qty_per_vehicle, strict=True)]
    result = []
    for column in zip(*vehicles, strict=True):
        least = min(column)
        result.append((least, [i for i, made in enumerate(column) if made == least]))
    return result
