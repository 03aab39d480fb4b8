"""Seeded generator of realistic SOPGate data at two sizes, written with bulk inserts.

program: one program of 3,000 parts, 300 suppliers, 1,500 validation tests, 50 checklists of 20 items.
oem:     10 programs, 100,000 parts, 1,000 suppliers, 20,000 tests, 10,000 handover items.

The ramp (`bench.ramp_data`): a plant calendar with the Chinese New Year shutdown near SOP, supplier calendars
(German holidays, a Chinese 6-day week, a 7-day foundry; the other suppliers work to the plant's), a third of
the parts with a capacity plan of 2-3 lines ramping up, a quarter of those with capacity with a run at rate (some
below demand), and 5 % with no capacity.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from bench.ramp_data import CapacityPlans, calendars
from parts.choices import Criticality, PPAPStatus, ToolingStage
from parts.models import CapacityLine, Part, Supplier
from sopgate.models import Program, RampStep
from validation.choices import TestPhase, TestStatus
from validation.models import HandoverChecklist, HandoverItem, ValidationTest


@dataclass(frozen=True)
class Size:
    programs: int
    parts: int
    suppliers: int
    tests: int
    checklists: int
    items_per_checklist: int


SIZES = {
    "program": Size(programs=1, parts=3000, suppliers=300, tests=1500, checklists=50, items_per_checklist=20),
    "oem": Size(programs=10, parts=100_000, suppliers=1000, tests=20_000, checklists=500, items_per_checklist=20),
}

FAMILIES = [
    "Battery module",
    "Inverter",
    "Seat frame",
    "Windscreen",
    "Wiring harness",
    "Brake caliper",
    "Headlamp",
    "Door latch",
    "HV connector",
    "Cold plate",
    "Airbag module",
    "Steering gear",
    "Door seal",
    "Trim panel",
]


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _parts_create(batch: list[Part], capacities: "CapacityPlans", today: date) -> None:
    """Insert `batch` with its capacity plans: each part's capacity, run at rate and capacity lines."""
    lines = capacities.apply(batch, today)
    Part.objects.bulk_create(batch)
    CapacityLine.objects.bulk_create(
        [CapacityLine(part=part, effective_from=day, capacity_per_week=per_week) for part, day, per_week in lines],
        batch_size=5000,
    )


def generate(size_name: str, *, today: date, seed: int = 42) -> list[Program]:
    size = SIZES[size_name]
    rng = random.Random(seed)
    now = timezone.make_aware(datetime.combine(today, time(8)))
    User = get_user_model()
    owners = User.objects.bulk_create(
        [User(username=f"bench-eng-{i}", email=f"eng{i}@bench.example", is_staff=True) for i in range(40)]
    )
    plant, supplier_calendar = calendars(today)
    countries = [rng.choice(["DE", "CN", "US", "FR", "JP"]) for _ in range(size.suppliers)]
    suppliers = Supplier.objects.bulk_create(
        [
            Supplier(
                code=f"B{i:04d}",
                name=f"Bench supplier {i}",
                country=country,
                alert_emails=[f"q{i}@supplier.example"],
                calendar=supplier_calendar(country, i),
            )
            for i, country in enumerate(countries)
        ]
    )
    programs = []
    for p in range(size.programs):
        sop = today + timedelta(days=45 + 15 * p)
        program = Program.objects.create(
            code=f"BENCH{p:02d}", name=f"Bench program {p}", sop_date=sop, owner=owners[p], calendar=plant
        )
        RampStep.objects.bulk_create(
            [
                RampStep(program=program, month=_month_add(sop, i + 1), planned_vehicles=v)
                for i, v in enumerate([2000, 4000, 6000, 8000, 9000, 10000])
            ]
        )
        programs.append(program)

    # The capacities from a generator of their own, so that the other fields stay what they were without them.
    capacities = CapacityPlans(plant, programs, rng=random.Random(seed + 1))
    parts_per_program = size.parts // size.programs
    batch = []
    for program in programs:
        default_need = program.sop_date - timedelta(days=program.part_lead_days)
        for i in range(parts_per_program):
            roll = rng.random()
            need = None if rng.random() < 0.8 else default_need - timedelta(days=rng.randint(1, 30))
            eff_need = need or default_need
            promised = eff_need - timedelta(days=rng.randint(3, 40))
            if roll < 0.03:
                promised = eff_need + timedelta(days=rng.randint(1, 25))  # late
            elif roll < 0.04:
                promised = None
            batch.append(
                Part(
                    program=program,
                    part_number=f"{program.code}-{i:06d}",
                    revision=rng.choice("ABC"),
                    name=f"{rng.choice(FAMILIES)} {i}",
                    supplier=None if roll > 0.998 else suppliers[rng.randrange(len(suppliers))],
                    owner=owners[rng.randrange(len(owners))],
                    criticality=rng.choice(list(Criticality)),
                    qty_per_vehicle=rng.choice([1, 1, 1, 2, 4, 8]),
                    need_date=need,
                    promised_date=promised,
                    received_on=today - timedelta(days=rng.randint(0, 20)) if rng.random() < 0.25 else None,
                    ppap_status=rng.choices(list(PPAPStatus), weights=[5, 20, 10, 63, 2])[0],
                    ppap_due_date=None,
                    interim_expires_on=program.sop_date + timedelta(days=rng.randint(30, 200)),
                    tooling_stage=rng.choice(list(ToolingStage)),
                    # The capacity and its plan are set below (`capacity_plans`), from a generator of their own:
                    # these two draws stay so that every other field is what it was before the ramp's data.
                    capacity_per_week=None if rng.random() < 0.05 else rng.randint(1500, 30000),
                    last_supplier_update_at=now - timedelta(days=rng.randint(0, 12) if rng.random() < 0.95 else 20),
                )
            )
            if len(batch) >= 5000:
                _parts_create(batch, capacities, today)
                batch = []
    _parts_create(batch, capacities, today)

    tests = []
    tests_per_program = size.tests // size.programs
    for program in programs:
        for i in range(tests_per_program):
            phase = rng.choice(list(TestPhase))
            end = program.sop_date - timedelta(days=rng.randint(-5, 120))
            status = rng.choices(list(TestStatus), weights=[20, 25, 50, 2, 3])[0]
            tests.append(
                ValidationTest(
                    program=program,
                    code=f"T-{i:06d}",
                    name=f"Test {i}",
                    phase=phase,
                    owner=owners[rng.randrange(40)],
                    planned_start=end - timedelta(days=30),
                    planned_end=end,
                    status=status,
                    required_for_sop=rng.random() < 0.9,
                    result_note="waived by board" if status == "waived" else "",
                    waiver_reason="waived by board" if status == "waived" else "",
                )
            )
    ValidationTest.objects.bulk_create(tests, batch_size=5000)

    checklists = []
    per_program = size.checklists // size.programs
    for program in programs:
        checklists += [
            HandoverChecklist(
                program=program, area=f"Area {i}", rd_owner=owners[i % 40], production_owner=owners[(i + 7) % 40]
            )
            for i in range(per_program)
        ]
    checklists = HandoverChecklist.objects.bulk_create(checklists)
    items = []
    for checklist in checklists:
        for i in range(size.items_per_checklist):
            due = today + timedelta(days=rng.randint(-20, 60))
            done = rng.random() < 0.6
            items.append(
                HandoverItem(
                    checklist=checklist,
                    title=f"Item {i}",
                    responsible=owners[rng.randrange(40)],
                    due_date=due,
                    required=rng.random() < 0.9,
                    done_at=now if done else None,
                    done_by=owners[0] if done else None,
                )
            )
    HandoverItem.objects.bulk_create(items, batch_size=5000)
    return programs
