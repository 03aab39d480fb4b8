"""The benchmark data's ramp (seeded, relative to `today`): work calendars and the parts' capacity plans.

- The plant works Monday to Friday and closes for the Chinese New Year (the real dates; a Spring Festival
  shutdown of nine working days), Labour Day week and National Day week.
- German suppliers: Monday to Friday, the German public holidays and a two-week summer shutdown in August; half
  of the Chinese suppliers: a 6-day week closed longer over the New Year; a third of the US ones: a foundry that
  runs 7 days a week, closed at Christmas; the rest work to the plant's calendar.
- Of the parts with a capacity (95 %), a third have a capacity plan of 2-3 lines ramping up to their final rate
  (from before today, after SOP, later still); a quarter have a run at rate, a fifth of those below the ramp's
  peak weekly demand. Final rates are 0.9-1.8 × the part's peak weekly demand, 3 % of parts 0.4-0.7 ×.
"""

import math
import random
from datetime import date, timedelta
from fractions import Fraction

from parts.models import Part
from sopgate import ramp
from sopgate.models import Program, RampStep, WorkCalendar

# Chinese New Year's day; other years fall back to early February.
NEW_YEAR_CN = {
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
}


def _span(first: date, days: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(days)]


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def _chinese(year: int, new_year_days: int) -> list[date]:
    new_year = NEW_YEAR_CN.get(year, date(year, 2, 5))
    return _span(new_year - timedelta(days=1), new_year_days) + _span(date(year, 5, 1), 5) + _span(date(year, 10, 1), 7)


def _german(year: int) -> list[date]:
    easter = _easter(year)
    august = date(year, 8, 1) + timedelta(days=(7 - date(year, 8, 1).weekday()) % 7)  # its first Monday
    return [
        date(year, 1, 1),
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        date(year, 5, 1),
        easter + timedelta(days=39),
        easter + timedelta(days=50),
        date(year, 10, 3),
        *_span(date(year, 12, 24), 3),
        date(year, 12, 31),
        *_span(august, 12),
    ]


def calendars(today: date):
    """The plant's calendar, and a function of a supplier's country and index giving its calendar (None: the
    plant's)."""
    years = range(today.year, today.year + 3)

    def make(code, name, weekdays, closed):
        return WorkCalendar.objects.create(
            code=code, name=name, working_weekdays=weekdays, closed_dates=sorted(d.isoformat() for d in closed)
        )

    plant = make(
        "BENCH-PLANT", "Plant, Spring Festival shutdown", [1, 2, 3, 4, 5], [d for y in years for d in _chinese(y, 12)]
    )
    german = make("BENCH-DE", "German supplier", [1, 2, 3, 4, 5], [d for y in years for d in _german(y)])
    six_days = make(
        "BENCH-CN6", "Chinese supplier, 6-day week", [1, 2, 3, 4, 5, 6], [d for y in years for d in _chinese(y, 16)]
    )
    foundry = make(
        "BENCH-7D",
        "Foundry, 7 days",
        [1, 2, 3, 4, 5, 6, 7],
        [d for y in years for d in (*_span(date(y, 12, 24), 3), date(y, 1, 1))],
    )

    def supplier_calendar(country: str, index: int) -> WorkCalendar | None:
        if country == "DE":
            return german
        if country == "CN" and index % 2 == 0:
            return six_days
        if country == "US" and index % 3 == 0:
            return foundry
        return None

    return plant, supplier_calendar


def peak_share(program: Program, plant: WorkCalendar) -> Fraction:
    """The planned vehicles of the ramp's peak week."""
    plan = ramp.monthly_plan(RampStep.objects.filter(program=program).values_list("month", "planned_vehicles"))
    calendar = ramp.Calendar.of(
        code=plant.code, working_weekdays=plant.working_weekdays, closed_dates=plant.closed_dates
    )
    return max(ramp.planned_vehicles(ramp.ramp_weeks(program.sop_date, plan), plan, calendar), default=Fraction(0))


class CapacityPlans:
    def __init__(self, plant: WorkCalendar, programs: list[Program], *, rng: random.Random):
        self.rng = rng
        self.peak = {program.pk: peak_share(program, plant) for program in programs}
        self.sop = {program.pk: program.sop_date for program in programs}

    def apply(self, parts: list[Part], today: date) -> list[tuple[Part, date, int]]:
        """Set each part's capacity and run at rate; return the capacity lines to store once they have ids."""
        rng, lines = self.rng, []
        for part in parts:
            if part.capacity_per_week is None:  # 5 % of parts: no capacity confirmed
                continue
            peak = float(self.peak[part.program_id]) * part.qty_per_vehicle
            final = math.ceil(peak * (rng.uniform(0.4, 0.7) if rng.random() < 0.03 else rng.uniform(0.9, 1.8)))
            part.capacity_per_week = final
            if rng.random() < 1 / 3:
                sop = self.sop[part.program_id]
                plan = [
                    (today - timedelta(days=rng.randint(10, 60)), math.ceil(final * rng.uniform(0.3, 0.5))),
                    (sop + timedelta(weeks=rng.randint(2, 6)), math.ceil(final * rng.uniform(0.6, 0.8))),
                ]
                if rng.random() < 0.5:
                    plan.append((sop + timedelta(weeks=rng.randint(8, 16)), final))
                else:
                    plan[-1] = (plan[-1][0], final)
                part.capacity_per_week = plan[0][1]  # the line in force today
                lines += [(part, day, per_week) for day, per_week in plan]
            if rng.random() < 0.25:
                part.run_at_rate_on = today - timedelta(days=rng.randint(0, 40))
                below = rng.random() < 0.2
                part.run_at_rate_per_week = math.floor(
                    peak * rng.uniform(0.6, 0.97) if below else final * rng.uniform(1.0, 1.2)
                )
        return lines
