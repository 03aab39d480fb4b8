"""A program's ramp week by week, read set-based: four queries whatever its size (its ramp plan, its parts, the
calendars they use and their capacity lines), then the week arithmetic of `sopgate.ramp` in Python.

The gate's `capacity_shortfall` rule reads each part's verdict from here (`findings`, through the part kind's
`capacity_short_*` columns); the ramp-coverage API, the program page's chart, the gate report and the suppliers'
portal read the weeks."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from django.db.models import Q

from parts.models import CapacityLine, Part
from sopgate import ramp
from sopgate.programs import Program, RampStep, WorkCalendar


@dataclass
class PartWeeks:
    """One part's weeks: demand and capacity per week (None where its capacity is unknown) and its verdict."""

    id: int
    part_number: str
    revision: str
    name: str
    supplier_id: int | None
    qty_per_vehicle: int
    demands: list[int]
    capacities: list[int] | None
    short: ramp.Shortfall | None = None
    closed: list[date] = field(default_factory=list)  # plant's and supplier's closed dates in the short week
    calendar: ramp.Calendar = ramp.EVERY_WEEKDAY  # the supplier's (else the plant's)


@dataclass
class ProgramRamp:
    program: Program
    plant: ramp.Calendar
    weeks: list[date]  # Mondays, from the SOP week to the plan's end
    shares: list[Fraction]  # planned vehicles per week, exact
    parts: dict[int, PartWeeks]

    @property
    def peak(self) -> tuple[Fraction, date] | None:
        """The week with the most planned vehicles (the first of equals), and its share."""
        if not self.weeks:
            return None
        share, monday = max(zip(self.shares, self.weeks, strict=True), key=lambda pair: (pair[0], -pair[1].toordinal()))
        return share, monday

    def closed(self, n: int, part_ids: Iterable[int] = ()) -> list[date]:
        """The plant's closed dates in week `n` and those of the suppliers of `part_ids`."""
        return ramp.closed_in_week(self.weeks[n], {self.plant, *(self.parts[pk].calendar for pk in part_ids)})

    def planned(self, n: int) -> int:
        return ramp.demand(self.shares[n], 1)

    def coverage(self) -> list[dict]:
        """Per week: planned and achievable vehicles, and the bottleneck parts (sourced parts of known capacity);
        for the page and the report also the gap (achievable less planned) and the closed dates, the plant's and
        the bottleneck suppliers'."""
        counted = [part for part in self.parts.values() if part.capacities is not None and part.supplier_id]
        by_week = ramp.achievable(
            [part.capacities for part in counted], [part.qty_per_vehicle for part in counted], len(self.weeks)
        )
        weeks = []
        for n, monday in enumerate(self.weeks):
            able, binding_at = by_week[n]
            binding = sorted(
                (counted[i].id for i in binding_at),
                key=lambda pk: (self.parts[pk].part_number, self.parts[pk].revision),
            )
            planned = self.planned(n)
            weeks.append(
                {
                    "week": ramp.week_label(monday),
                    "starts_on": monday,
                    "planned_vehicles": planned,
                    "achievable_vehicles": able,
                    "gap": None if able is None else able - planned,
                    "bottleneck": [
                        {
                            "part": pk,
                            "part_number": self.parts[pk].part_number,
                            "revision": self.parts[pk].revision,
                            "capacity": self.parts[pk].capacities[n],
                            "demand": self.parts[pk].demands[n],
                        }
                        for pk in binding
                    ],
                    "closed": self.closed(n, binding),
                }
            )
        return weeks

    def short_facts(self) -> dict[int, dict]:
        """Per short part id: its first short week, the shortfall and the closed dates that week (what the
        `capacity_shortfall` rule's message names)."""
        return {
            pk: {
                "week": part.short.label,
                "units": part.short.units,
                "closed": ", ".join(day.isoformat() for day in part.closed),
            }
            for pk, part in self.parts.items()
            if part.short is not None
        }


def _calendar(row: dict | None) -> ramp.Calendar:
    if row is None:
        return ramp.EVERY_WEEKDAY
    return ramp.Calendar.of(
        code=row["code"], working_weekdays=row["working_weekdays"], closed_dates=row["closed_dates"]
    )


def program_ramp(program: Program, *, part_ids: set[int] | None = None) -> ProgramRamp:
    """The ramp of `program` week by week, for all its parts (or those with `part_ids`): four queries."""
    plan = ramp.monthly_plan(RampStep.objects.filter(program=program).values_list("month", "planned_vehicles"))
    parts = Part.objects.filter(program=program)
    lines = CapacityLine.objects.filter(part__program=program)
    if part_ids is not None:
        parts, lines = parts.filter(pk__in=part_ids), lines.filter(part_id__in=part_ids)
    rows = list(
        parts.order_by().values(
            "id",
            "part_number",
            "revision",
            "name",
            "supplier_id",
            "qty_per_vehicle",
            "capacity_per_week",
            "run_at_rate_on",
            "run_at_rate_per_week",
            "supplier__calendar_id",
        )
    )
    # The plant's calendar and its suppliers' (one query, also when there are none).
    used = WorkCalendar.objects.filter(Q(programs=program) | Q(suppliers__parts__program=program)).distinct()
    calendars = {row["id"]: _calendar(row) for row in used.values("id", "code", "working_weekdays", "closed_dates")}
    plan_lines: dict[int, list[tuple[date, int]]] = {}
    for part_id, day, per_week in lines.order_by().values_list("part_id", "effective_from", "capacity_per_week"):
        plan_lines.setdefault(part_id, []).append((day, per_week))

    plant = calendars.get(program.calendar_id, ramp.EVERY_WEEKDAY)
    weeks = ramp.ramp_weeks(program.sop_date, plan)
    shares = ramp.planned_vehicles(weeks, plan, plant)
    # Worked out once per ramp: each calendar's working days per week, and the weekly demand per quantity.
    work_weeks: dict[ramp.Calendar, ramp.WorkWeeks] = {}
    demands_of: dict[int, list[int]] = {}
    result = {}
    for row in rows:
        supplier = calendars.get(row["supplier__calendar_id"], plant)
        qty = row["qty_per_vehicle"]
        if qty not in demands_of:
            demands_of[qty] = [ramp.demand(share, qty) for share in shares]
        demands = demands_of[qty]  # shared by the parts of one quantity: read, never changed
        part = PartWeeks(
            row["id"],
            row["part_number"],
            row["revision"],
            row["name"],
            row["supplier_id"],
            qty,
            demands,
            None,
            calendar=supplier,
        )
        result[row["id"]] = part
        part_lines = plan_lines.get(row["id"])
        if part_lines is None and row["capacity_per_week"] is not None:
            part_lines = [(date.min, row["capacity_per_week"])]  # no plan: the part's one figure, all along
        if part_lines is None:
            continue
        if supplier not in work_weeks:
            work_weeks[supplier] = ramp.WorkWeeks.of(supplier, weeks)
        capacity_plan = ramp.CapacityPlan(part_lines, row["run_at_rate_on"], row["run_at_rate_per_week"])
        part.capacities = ramp.capacities(capacity_plan, work_weeks[supplier])
        part.short = ramp.shortfall(weeks, demands, part.capacities)
        if part.short is not None:
            part.closed = ramp.closed_in_week(part.short.week, {plant, supplier})
    return ProgramRamp(program, plant, weeks, shares, result)
