"""The scan's reconcile: idempotent, resolves what is fixed, reopens as a new blocker, constant query count."""

import os
import pickle
import subprocess
import sys
from datetime import datetime, time, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from parts.choices import PPAPStatus
from parts.models import Part, Supplier
from sopgate.gate.findings import program_findings, rule_code
from sopgate.gate.rules import RULES
from sopgate.models import Alert, Blocker, Program, RampStep, ScanRequest
from sopgate.services import program_scan
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

NEED = SOP - timedelta(days=14)


def _state(program):
    return list(
        Blocker.objects.filter(program=program)
        .order_by("id")
        .values("id", "rule", "object_id", "message", "opened_at", "resolved_at", "owner_id", "clear_by")
    )


def test_second_scan_changes_nothing(at_today):
    program = ProgramFactory(code="SU7")
    RampStepFactory(program=program)
    PartFactory(program=program, promised_date=NEED + timedelta(days=5))
    PartFactory(program=program, capacity_per_week=None)
    ValidationTestFactory(program=program, status=Status.FAILED)
    first = program_scan(program_id=program.pk)
    before, alerts_before = _state(program), list(Alert.objects.values_list("id", flat=True))
    second = program_scan(program_id=program.pk)
    assert (first.opened, first.resolved) == (3, 0)
    assert (second.opened, second.resolved, second.refreshed) == (0, 0, 3)
    assert _state(program) == before
    assert list(Alert.objects.values_list("id", flat=True)) == alerts_before


def test_rescan_with_the_same_findings_still_repairs_blockers_changed_behind_its_back(at_today):
    # The second scan finds what the first found (its digest comes from the process's memo); the stored
    # blockers are still checked against it, so a blocker resolved or rewritten by hand comes back.
    program = ProgramFactory(code="SU7")
    late = PartFactory(program=program, promised_date=NEED + timedelta(days=5))
    ValidationTestFactory(program=program, status=Status.FAILED)
    program_scan(program_id=program.pk)
    assert program_scan(program_id=program.pk).refreshed == 2
    Blocker.objects.filter(rule="part_late", object_id=late.pk).update(resolved_at=timezone.now())
    Blocker.objects.filter(rule="test_failed").update(message="edited", fingerprint=1)
    repaired = program_scan(program_id=program.pk)
    assert (repaired.opened, repaired.refreshed) == (1, 1)
    assert not Blocker.objects.filter(program=program, resolved_at=None, message="edited").exists()
    assert Blocker.objects.filter(program=program, resolved_at=None).count() == 2


def _flip(part, days_late: int, *, at) -> None:
    """The supplier moves its promise (days after the need date; negative: in time) and the gate scans at `at`."""
    Part.objects.filter(pk=part.pk).update(promised_date=NEED + timedelta(days=days_late))
    program_scan(program_id=part.program_id, now=at)


def test_fixed_finding_is_resolved_and_a_relapse_after_the_quiet_hours_opens_a_new_blocker_marked_reopened(
    at_today,
):
    program = ProgramFactory(code="SU7")
    part = PartFactory(program=program, promised_date=NEED + timedelta(days=5))
    start = timezone.now()
    program_scan(program_id=program.pk, now=start)
    first = Blocker.objects.get(rule="part_late")
    assert Alert.objects.filter(blocker=first).exists()

    Part.objects.filter(pk=part.pk).update(promised_date=NEED - timedelta(days=20))
    result = program_scan(program_id=program.pk, now=start + timedelta(hours=1))
    first.refresh_from_db()
    assert result.resolved == 1
    assert first.resolved_at is not None
    assert not Blocker.objects.filter(resolved_at__isnull=True).exists()

    _flip(part, 9, at=start + timedelta(hours=26))  # 25 hours after it resolved
    reopened = Blocker.objects.get(rule="part_late", resolved_at__isnull=True)
    assert reopened.pk != first.pk and reopened.reopened_at == start + timedelta(hours=26)
    assert "(9 days late)" in reopened.message
    assert Alert.objects.filter(blocker=reopened).exists()  # it alerts again, saying "reopened"
    first.refresh_from_db()
    assert first.resolved_at is not None and "(5 days late)" in first.message  # history kept as it was


def test_a_finding_back_within_the_quiet_hours_reopens_its_blocker_without_a_second_alert(at_today):
    program = ProgramFactory(code="SU7")
    part = PartFactory(program=program, promised_date=NEED + timedelta(days=5))
    start = timezone.now()
    program_scan(program_id=program.pk, now=start)
    blocker = Blocker.objects.get(rule="part_late")
    alerts = Alert.objects.count()
    assert alerts >= 1

    for hour, days_late in ((1, -20), (2, 7), (3, -20), (23, 8)):  # the supplier flips its date back and forth
        _flip(part, days_late, at=start + timedelta(hours=hour))

    assert Blocker.objects.filter(rule="part_late").count() == 1  # one blocker, reopened, not four
    blocker.refresh_from_db()
    assert blocker.resolved_at is None and blocker.reopened_at == start + timedelta(hours=23)
    assert "(8 days late)" in blocker.message and blocker.opened_at == start
    assert Alert.objects.count() == alerts  # no second alert


def test_still_true_finding_is_refreshed_in_place(at_today):
    program = ProgramFactory(code="SU7")
    part = PartFactory(program=program, promised_date=NEED + timedelta(days=5))
    program_scan(program_id=program.pk, now=timezone.now() - timedelta(hours=2))
    blocker = Blocker.objects.get()
    Part.objects.filter(pk=part.pk).update(promised_date=NEED + timedelta(days=12))
    program_scan(program_id=program.pk)
    refreshed = Blocker.objects.get()
    assert refreshed.pk == blocker.pk and refreshed.opened_at == blocker.opened_at
    assert refreshed.last_seen_at == timezone.now()
    assert "(12 days late)" in refreshed.message
    assert refreshed.clear_by == NEED + timedelta(days=12 + 14)
    assert Alert.objects.filter(blocker=blocker).count() == 2  # owner + supplier contact, not re-sent


def test_blocker_without_fingerprint_is_rewritten_once(at_today):
    program = ProgramFactory(code="SU7")
    part = PartFactory(program=program, promised_date=NEED + timedelta(days=5))
    program_scan(program_id=program.pk, now=timezone.now() - timedelta(hours=2))
    # As a row written before fingerprints existed, or by hand in the admin.
    Blocker.objects.update(fingerprint=None, message="written elsewhere")
    program_scan(program_id=program.pk)
    rewritten = Blocker.objects.get()
    label = f"{part.name} {part.part_number} rev {part.revision}"
    assert rewritten.message == f"{label}: promised {NEED + timedelta(days=5)}, needed {NEED} (5 days late)"
    assert rewritten.fingerprint is not None and rewritten.last_seen_at == timezone.now()
    before = _state(program)
    program_scan(program_id=program.pk, now=timezone.now() + timedelta(hours=1))
    assert _state(program) == before and Blocker.objects.get().last_seen_at == rewritten.last_seen_at


def test_renamed_part_refreshes_label_and_message(at_today):
    program = ProgramFactory(code="SU7")
    part = PartFactory(program=program, promised_date=NEED + timedelta(days=5))
    program_scan(program_id=program.pk)
    Part.objects.filter(pk=part.pk).update(name="Cell stack")
    program_scan(program_id=program.pk)
    blocker = Blocker.objects.get()
    assert blocker.object_label == f"Cell stack {part.part_number} rev {part.revision}"
    assert blocker.message.startswith(f"Cell stack {part.part_number} rev {part.revision}: promised")


def test_next_day_rewrites_only_the_messages_that_count_days(at_today):
    program = ProgramFactory(code="SU7")
    ItemFactory(checklist=ChecklistFactory(program=program), due_date=TODAY - timedelta(days=2))
    PartFactory(program=program, ppap_status=PPAPStatus.REJECTED)
    program_scan(program_id=program.pk, now=timezone.now() - timedelta(hours=1))
    before = {b.rule: b for b in Blocker.objects.all()}
    program_scan(program_id=program.pk, today=TODAY + timedelta(days=1))
    after = {b.rule: b for b in Blocker.objects.all()}
    assert after["handover_item_overdue"].message.endswith("(3 days overdue), not done")
    assert after["handover_item_overdue"].last_seen_at == timezone.now()
    assert after["ppap_rejected"].message == before["ppap_rejected"].message
    assert after["ppap_rejected"].last_seen_at == before["ppap_rejected"].last_seen_at  # said the same: not rewritten


def _program_of_every_kind():
    program = ProgramFactory(code="SU7", signoff_days=(SOP - TODAY).days + 1)  # checklists due for sign-off
    RampStepFactory(program=program)
    PartFactory(program=program, promised_date=NEED + timedelta(days=5), ppap_status=PPAPStatus.SUBMITTED)
    PartFactory(program=program, ppap_status=PPAPStatus.REJECTED, supplier=None)
    PartFactory(program=program, ppap_status=PPAPStatus.INTERIM_APPROVED, capacity_per_week=1)
    ValidationTestFactory(program=program, status=Status.FAILED, result_note="leaks at 2 bar")
    ValidationTestFactory(program=program, status=Status.IN_PROGRESS, planned_end=TODAY - timedelta(days=3))
    ItemFactory(checklist=ChecklistFactory(program=program), due_date=TODAY - timedelta(days=2))
    return program


def test_fingerprint_is_the_same_in_every_process(at_today):
    """A fingerprint that changed with the process's hash seed would make every worker rewrite every blocker: its
    Python part (`rule_code`) must not depend on it."""
    program = _program_of_every_kind()
    findings = program_findings(program, TODAY)
    assert len({f.rule for f in findings}) >= 8 and "handover_unsigned" in {f.rule for f in findings}
    figures = (program.owner_id, program.sop_date, program.part_lead_days, "Europe/Berlin")
    code = (
        "import pickle, sys, django; django.setup()\n"
        "from sopgate.gate.findings import rule_code\n"
        "from sopgate.gate.rules import RULES\n"
        "figures, today = pickle.loads(sys.stdin.buffer.read())\n"
        "print([rule_code(rule, figures, today) for rule in RULES])"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            input=pickle.dumps((figures, TODAY)),
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "sopgate.settings", "PYTHONHASHSEED": seed},
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
        for seed in ("1", "2")
    }
    assert seen == {str([rule_code(rule, figures, TODAY) for rule in RULES])}
    assert len({f.fingerprint for f in findings}) == len(findings)


def _fingerprints(program, today=TODAY):
    return {f.key: f.fingerprint for f in program_findings(program, today)}


def test_fingerprint_changes_with_what_the_blocker_says(at_today):
    program = _program_of_every_kind()
    before = _fingerprints(program)
    part = Part.objects.get(ppap_status=PPAPStatus.REJECTED)
    Part.objects.filter(pk=part.pk).update(name="Renamed")
    after = _fingerprints(program)
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {key for key in before if key[1:] == ("part", part.pk)}
    next_day = _fingerprints(program, TODAY + timedelta(days=1))
    assert {key[0] for key in after if after[key] != next_day.get(key)} <= {
        "part_late",
        "ppap_overdue",
        "supplier_update_stale",
        "test_overdue",
        "handover_item_overdue",
    }


def test_partial_unique_index_refuses_a_second_open_blocker(at_today):
    program = ProgramFactory(code="SU7")
    part = PartFactory(program=program, promised_date=NEED + timedelta(days=5))
    program_scan(program_id=program.pk)
    existing = Blocker.objects.get()
    now = timezone.now()
    duplicate = {
        "program": program,
        "rule": "part_late",
        "severity": "blocking",
        "object_type": "part",
        "object_id": part.pk,
        "object_label": "dup",
        "message": "dup",
        "opened_at": now,
        "last_seen_at": now,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Blocker.objects.create(**duplicate)
    # A resolved one may coexist: history.
    Blocker.objects.filter(pk=existing.pk).update(resolved_at=now)
    Blocker.objects.create(**duplicate)
    assert Blocker.objects.filter(object_id=part.pk).count() == 2


def test_part_moved_to_another_program_does_not_break_the_scan(at_today):
    old, new = ProgramFactory(code="OLD"), ProgramFactory(code="NEW")
    part = PartFactory(program=old, promised_date=NEED + timedelta(days=5))
    program_scan(program_id=old.pk)
    Part.objects.filter(pk=part.pk).update(program=new)
    program_scan(program_id=new.pk)
    assert Blocker.objects.get(resolved_at__isnull=True).program_id == new.pk
    assert Blocker.objects.get(resolved_at__isnull=False).program_id == old.pk


def test_scan_records_last_scanned_at(at_today):
    program = ProgramFactory(code="SU7")
    program_scan(program_id=program.pk)
    program.refresh_from_db()
    assert program.last_scanned_at == timezone.make_aware(datetime.combine(TODAY, time(9)))


# --- query count ----------------------------------------------------------------------------------


def _program_with(code: str, *, parts: int, tests: int, items: int) -> Program:
    """A program where every fifth part is late, every fifth test failed and every fifth item overdue."""
    program = ProgramFactory(code=code)
    RampStepFactory(program=program)
    owner = program.owner
    supplier = Supplier.objects.create(code=f"S-{code}", name="S", alert_emails=["q@s.example"])
    for n in range(parts):
        late = n % 5 == 0
        PartFactory(
            program=program,
            supplier=supplier,
            owner=owner,
            promised_date=NEED + timedelta(days=3) if late else NEED - timedelta(days=30),
        )
    for n in range(tests):
        ValidationTestFactory(program=program, owner=owner, status=Status.FAILED if n % 5 == 0 else Status.PASSED)
    checklist = ChecklistFactory(program=program, rd_owner=owner, production_owner=owner)
    for n in range(items):
        ItemFactory(
            checklist=checklist,
            responsible=owner,
            due_date=TODAY - timedelta(days=1) if n % 5 == 0 else SOP - timedelta(days=10),
        )
    return program


def _count(program) -> int:
    with CaptureQueriesContext(connection) as ctx:
        program_scan(program_id=program.pk)
    return len(ctx.captured_queries)


# First scan: lock the program (reading its pending scan request), stamp its last_scanned_at, the count and sum
# of its open blockers' fingerprints, ramp steps, parts, tests, items, checklists (one query per kind, with every
# finding), open blockers, the last resolution of each new finding's key (a finding back within the quiet hours
# reopens its blocker), resolve blockers of moved objects, insert blockers, alert recipients (users, supplier
# contacts), insert alerts, consume the scan request; plus the savepoint pair of the scan's transaction inside
# the test's. Re-scan with nothing changed: the fingerprints match, so the open blockers are not read, and there
# is nothing to insert, resolve or consume. On PostgreSQL the scan's commit does not wait for the disk
# (`SET LOCAL synchronous_commit`), +1, and a scan that records alerts makes it wait again, +1.
# The ramp week by week reads four things where the monthly capacity rule read the ramp steps alone (its plan,
# parts, calendars and capacity lines: `sopgate.gate.coverage.program_ramp`), +3 to each.
PG = connection.vendor == "postgresql"
FIRST_SCAN_QUERIES = 21 + 2 * PG
RESCAN_QUERIES = 13 + PG


def test_scan_query_count_does_not_depend_on_program_size(at_today, django_assert_num_queries):
    small = _program_with("SMALL", parts=3, tests=1, items=1)
    large = _program_with("LARGE", parts=60, tests=20, items=20)
    with django_assert_num_queries(FIRST_SCAN_QUERIES):
        program_scan(program_id=small.pk)
    assert _count(large) == FIRST_SCAN_QUERIES
    assert Blocker.objects.filter(program=large).count() == 12 + 4 + 4
    assert Blocker.objects.filter(program=small).count() == 1 + 1 + 1
    with django_assert_num_queries(RESCAN_QUERIES):
        program_scan(program_id=small.pk)
    assert _count(large) == RESCAN_QUERIES


@pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit is a PostgreSQL setting")
def test_scan_commits_without_waiting_for_the_disk_unless_it_records_alerts(at_today):
    def synchronous_commit():
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    program = _program_with("SYNC", parts=5, tests=0, items=0)
    with transaction.atomic():
        assert program_scan(program_id=program.pk).alert_ids
        assert synchronous_commit() == "on"  # an alert may be emailed once this commits: it must be durable
    with transaction.atomic():
        assert not program_scan(program_id=program.pk).alert_ids
        assert synchronous_commit() == "off"


def test_a_rescan_uses_the_program_settings_changed_since_the_last_scan(at_today):
    """A re-scan sends its rule statements with the program's settings as the last scan read them, in the
    round trip that locks the program; settings changed since must still count."""
    program = ProgramFactory(code="SU7")
    PartFactory(program=program, promised_date=NEED - timedelta(days=3))  # on time, 3 days of margin
    program_scan(program_id=program.pk)
    assert not Blocker.objects.filter(rule="part_late").exists()
    Program.objects.filter(pk=program.pk).update(part_lead_days=program.part_lead_days + 10)  # needed 10 days sooner
    program_scan(program_id=program.pk)
    blocker = Blocker.objects.get(rule="part_late")
    assert "(7 days late)" in blocker.message


def test_a_rescan_uses_the_ramp_plan_changed_since_the_last_scan(at_today):
    """The rule statements take the ramp plan's peak as parameters, as the last scan here read it; a plan changed
    since must still count."""
    program = ProgramFactory(code="SU7")
    step = RampStepFactory(program=program, planned_vehicles=1000)
    part = PartFactory(program=program, capacity_per_week=1000, qty_per_vehicle=1)
    program_scan(program_id=program.pk)
    assert not Blocker.objects.filter(rule="capacity_shortfall").exists()
    # 30,000 in July: 6,819 a full week; 1,000 a week built since the SOP week (W09) runs out in July.
    RampStep.objects.filter(pk=step.pk).update(planned_vehicles=30_000)
    program_scan(program_id=program.pk)
    blocker = Blocker.objects.get(rule="capacity_shortfall")
    assert blocker.object_id == part.pk and "short from 2027-W29 by 2,185 units" in blocker.message
    RampStep.objects.filter(pk=step.pk).delete()
    program_scan(program_id=program.pk)
    assert not Blocker.objects.filter(rule__startswith="capacity_", resolved_at__isnull=True).exists()


# --- a re-scan outside a transaction, as the worker runs it -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_rescan_outside_a_transaction_that_changes_nothing_writes_nothing_but_the_scan_time(at_today):
    program = ProgramFactory(code="SU7")
    part = PartFactory(program=program, promised_date=NEED + timedelta(days=5))
    program_scan(program_id=program.pk)  # opens the blocker
    before = _state(program)
    ScanRequest.objects.create(program=program, changes=2)  # a change that alters no finding (a new part's note)

    later = timezone.now() + timedelta(minutes=10)
    with CaptureQueriesContext(connection) as ctx:
        result = program_scan(program_id=program.pk, now=later)
    writes = [
        q["sql"].split()[0] for q in ctx.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
    ]
    assert writes == ["UPDATE", "DELETE"]  # the program's last_scanned_at, the served scan request
    assert (result.opened, result.refreshed, result.resolved, result.open_blocking) == (0, 1, 0, 1)
    assert _state(program) == before and not ScanRequest.objects.exists()
    assert Program.objects.get(pk=program.pk).last_scanned_at == later

    Part.objects.filter(pk=part.pk).update(promised_date=NEED + timedelta(days=9))
    result = program_scan(program_id=program.pk)
    assert (result.opened, result.refreshed, result.resolved) == (0, 1, 0)
    assert "(9 days late)" in Blocker.objects.get(resolved_at__isnull=True).message
