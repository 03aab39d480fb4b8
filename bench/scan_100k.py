"""Time the gate scan of one program with 100,000 parts (plus 20,000 tests and 10,000 handover items).

    DATABASE_URL=postgres://.../<db> python bench/scan_100k.py [--parts 100000] [--tests 20000] [--items 10000]

Bulk-creates the data (bulk_create, no signals) into program BENCH100K, then times program_scan twice: the
first scan opens the blockers, the second reconciles with nothing changed. Prints queries and seconds.
The immediate alerts are recorded as usual but not queued to the broker (that is the outbox's job and
would publish thousands of tasks from a benchmark).
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sopgate.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from parts.choices import PPAPStatus  # noqa: E402
from parts.models import Part, Supplier  # noqa: E402
from sopgate import services  # noqa: E402
from sopgate.models import Alert, Blocker, Program, RampStep  # noqa: E402
from validation.choices import TestPhase, TestStatus  # noqa: E402
from validation.models import HandoverChecklist, HandoverItem, ValidationTest  # noqa: E402

CODE = "BENCH100K"


def build(parts: int, tests: int, items: int) -> Program:
    rng = random.Random(100_000)
    today = timezone.localdate()
    now = timezone.now()
    Program.objects.filter(code=CODE).delete()
    users = []
    for n in range(50):
        user, _ = get_user_model().objects.get_or_create(
            username=f"bench{n}", defaults={"email": f"bench{n}@oem.example", "is_staff": True}
        )
        users.append(user)
    suppliers = []
    for n in range(300):
        supplier, _ = Supplier.objects.get_or_create(
            code=f"BENCH-S{n:03d}", defaults={"name": f"Bench supplier {n}", "alert_emails": [f"q{n}@s.example"]}
        )
        suppliers.append(supplier)
    program = Program.objects.create(code=CODE, name="100k bench", sop_date=today + timedelta(days=60), owner=users[0])
    month = (program.sop_date.replace(day=1) + timedelta(days=32)).replace(day=1)
    RampStep.objects.create(program=program, month=month, planned_vehicles=10000)
    need = program.sop_date - timedelta(days=program.part_lead_days)
    rows = []
    for n in range(parts):
        roll = rng.random()
        part = Part(
            program=program,
            part_number=f"PN-{n:06d}",
            revision="A",
            name=f"Bench part {n}",
            supplier=suppliers[n % len(suppliers)],
            owner=users[n % len(users)],
            qty_per_vehicle=1 + n % 4,
            promised_date=need - timedelta(days=rng.randint(10, 40)),
            ppap_status=PPAPStatus.APPROVED,
            capacity_per_week=20000,
            last_supplier_update_at=now - timedelta(days=rng.randint(0, 10)),
        )
        # About 15 % of the parts have something wrong, as a program weeks before SOP would.
        if roll < 0.04:
            part.promised_date = need + timedelta(days=rng.randint(1, 30))  # late
        elif roll < 0.07:
            part.promised_date = need - timedelta(days=rng.randint(0, 7))  # at risk
        elif roll < 0.08:
            part.supplier, part.promised_date, part.capacity_per_week = None, None, None  # unsourced
        elif roll < 0.10:
            part.ppap_status, part.ppap_due_date = PPAPStatus.SUBMITTED, today - timedelta(days=3)  # overdue
        elif roll < 0.11:
            part.capacity_per_week = 1000  # shortfall
        elif roll < 0.14:
            part.last_supplier_update_at = now - timedelta(days=30)  # stale
        elif roll < 0.15:
            part.capacity_per_week = None  # unconfirmed
        rows.append(part)
    Part.objects.bulk_create(rows, batch_size=5000)
    ValidationTest.objects.bulk_create(
        [
            ValidationTest(
                program=program,
                code=f"T-{n:06d}",
                name=f"Bench test {n}",
                phase=TestPhase.PV,
                owner=users[n % len(users)],
                planned_end=today + timedelta(days=rng.randint(-5, 70)),
                status=rng.choice([TestStatus.PASSED] * 6 + [TestStatus.IN_PROGRESS] * 3 + [TestStatus.FAILED]),
            )
            for n in range(tests)
        ],
        batch_size=5000,
    )
    checklists = HandoverChecklist.objects.bulk_create(
        [
            HandoverChecklist(program=program, area=f"Area {n}", rd_owner=users[n % 50], production_owner=users[-1])
            for n in range(max(1, items // 20))
        ]
    )
    HandoverItem.objects.bulk_create(
        [
            HandoverItem(
                checklist=checklists[n % len(checklists)],
                title=f"Item {n}",
                responsible=users[n % len(users)],
                due_date=today + timedelta(days=rng.randint(-3, 70)),
            )
            for n in range(items)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    return program


def timed_scan(program: Program) -> tuple[float, int, services.ScanResult]:
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        result = services.program_scan(program_id=program.pk)
        elapsed = time.perf_counter() - started
    return elapsed, len(ctx.captured_queries), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=100_000)
    parser.add_argument("--tests", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench program afterwards")
    args = parser.parse_args()

    queued = []
    services.dispatch_alerts = queued.extend  # record instead of publishing thousands of tasks

    started = time.perf_counter()
    with transaction.atomic():
        program = build(args.parts, args.tests, args.items)
    print(
        f"{connection.vendor}: built {args.parts:,} parts, {args.tests:,} tests, {args.items:,} items "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for label in ("first scan (opens blockers)", "re-scan (nothing changed)"):
        elapsed, queries, result = timed_scan(program)
        print(
            f"{label}: {elapsed:.2f} s, {queries} queries; opened {result.opened:,}, still open "
            f"{result.refreshed:,}, resolved {result.resolved:,}; {len(result.alert_ids):,} alerts recorded"
        )
    print(
        f"open blockers {Blocker.objects.filter(program=program, resolved_at__isnull=True).count():,}, "
        f"alerts {Alert.objects.filter(blocker__program=program).count():,}"
    )
    if not args.keep:
        started = time.perf_counter()
        Program.objects.filter(pk=program.pk).delete()
        print(f"cleaned up in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
