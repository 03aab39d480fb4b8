"""The re-scan outbox: changes coalesce into one request and one queued scan, and none is lost."""

from datetime import datetime, time, timedelta

import pytest
from celery.signals import before_task_publish
from django.conf import settings as django_settings
from django.utils import timezone

from parts.services import supplier_updates_apply
from sopgate import services
from sopgate.models import Blocker, ScanRequest
from sopgate.services import outbox_dispatch, program_scan, scan_request
from tests.factories import PartFactory, ProgramFactory, SupplierFactory, SupplierUserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.combine(datetime(2027, 1, 4).date(), time(9)))


@pytest.fixture
def published():
    """Task names actually handed to the broker (Redis when REDIS_URL is set), in order."""
    names = []

    def record(sender=None, **kwargs):
        names.append(sender)

    before_task_publish.connect(record, weak=False)
    try:
        yield names
    finally:
        before_task_publish.disconnect(record)


@pytest.fixture
def redis_queue():
    """Length of the Celery queue in this test run's own Redis db, flushed first; None without Redis."""
    if not django_settings.REDIS_URL:
        yield lambda: None
        return
    import redis

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    client.flushdb()
    yield lambda: client.llen("celery")
    client.flushdb()
    client.close()


def test_500_supplier_updates_in_a_minute_queue_one_scan(
    at_today, django_capture_on_commit_callbacks, published, redis_queue
):
    program = ProgramFactory(code="SU7")
    supplier = SupplierFactory()  # the supplier user's own parts: the only ones it may update
    parts = [PartFactory(program=program, supplier=supplier) for _ in range(50)]
    ScanRequest.objects.all().delete()  # the factories' own saves
    actor = SupplierUserFactory(supplier=parts[0].supplier).user
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for n in range(500):
            supplier_updates_apply(
                actor=actor,
                items=[{"part_id": parts[n % 50].pk, "capacity_per_week": 5000 + n}],
                now=NOW + timedelta(seconds=n * 0.12),
            )
    request = ScanRequest.objects.get()
    assert request.changes == 500
    assert request.dispatched_at is not None
    assert len(callbacks) == 1
    assert published == ["sopgate.tasks.scan_program"]
    if redis_queue() is not None:
        assert redis_queue() == 1

    program_scan(program_id=program.pk)
    assert not ScanRequest.objects.exists()


def test_part_saves_coalesce_too(at_today, django_capture_on_commit_callbacks, published):
    with django_capture_on_commit_callbacks(execute=True):
        program = ProgramFactory(code="SU7")
        parts = [PartFactory(program=program) for _ in range(5)]
        for part in parts:
            part.capacity_per_week = 10
            part.save()
    assert ScanRequest.objects.get(program=program).changes == 11  # the program itself, 5 creations, 5 edits
    assert published == ["sopgate.tasks.scan_program"]


def test_a_change_during_a_scan_queues_a_follow_up(
    at_today, django_capture_on_commit_callbacks, published, monkeypatch
):
    program = ProgramFactory(code="SU7")
    PartFactory(program=program)
    real_findings = services.scan.program_findings

    def evaluate_while_a_writer_commits(program, today):
        found = real_findings(program, today)
        scan_request(program_id=program.pk)  # a supplier update lands after the scan read the parts
        return found

    monkeypatch.setattr(services.scan, "program_findings", evaluate_while_a_writer_commits)
    with django_capture_on_commit_callbacks(execute=True):
        program_scan(program_id=program.pk)
    request = ScanRequest.objects.get(program=program)
    assert request.dispatched_at is not None
    assert published == ["sopgate.tasks.scan_program"]

    monkeypatch.setattr(services.scan, "program_findings", real_findings)
    with django_capture_on_commit_callbacks(execute=True):
        program_scan(program_id=program.pk)
    assert not ScanRequest.objects.exists()
    assert published == ["sopgate.tasks.scan_program"]  # nothing new to scan: no further follow-up


def test_outbox_dispatch_queues_requests_whose_queueing_failed(at_today, published):
    program = ProgramFactory(code="SU7")
    ScanRequest.objects.all().delete()
    ScanRequest.objects.create(program=program, dispatched_at=None)
    assert outbox_dispatch() == (1, 0)
    assert published == ["sopgate.tasks.scan_program"]
    assert ScanRequest.objects.get().dispatched_at is not None
    assert outbox_dispatch() == (0, 0)  # queued a moment ago: not again


def test_deleting_a_program_with_a_pending_request(at_today, django_capture_on_commit_callbacks):
    program = ProgramFactory(code="SU7")
    PartFactory(program=program, promised_date=program.sop_date)
    program_scan(program_id=program.pk)
    with django_capture_on_commit_callbacks(execute=True):
        program.delete()
    assert not ScanRequest.objects.exists()
    assert not Blocker.objects.exists()


def test_a_request_for_a_program_deleted_meanwhile_stores_nothing(at_today, django_capture_on_commit_callbacks):
    # E.g. the after-commit "re-scan if the program remains" of a part deleted as its program goes too.
    program = ProgramFactory(code="SU7")
    gone = program.pk
    program.delete()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        scan_request(program_id=gone, now=NOW)
    assert not ScanRequest.objects.exists()
    assert callbacks == []


def test_deleting_many_parts_asks_for_one_rescan(at_today, django_capture_on_commit_callbacks, published):
    program = ProgramFactory(code="SU7")
    for _ in range(20):
        PartFactory(program=program)
    ScanRequest.objects.all().delete()
    from parts.models import Part

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        Part.objects.filter(program=program).delete()
    assert len(callbacks) == 2  # one "re-scan if the program remains", then the queueing of that scan
    assert ScanRequest.objects.get(program=program).changes == 1
    assert published == ["sopgate.tasks.scan_program"]


@pytest.mark.django_db(transaction=True)
def test_the_scan_task_skips_a_program_deleted_before_it_ran():
    """A queued scan whose program is gone by the time the worker runs it answers "missing" and changes
    nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sopgate.models import Program
    from sopgate.tasks import scan_program

    program = ProgramFactory(code="GONE")
    PartFactory(program=program, supplier=None)  # an unsourced part: the scan opens a blocker
    assert scan_program(program.pk)["opened"] >= 1
    program_id = program.pk
    program.delete()
    with CaptureQueriesContext(connection) as queries:
        assert scan_program(program_id) == {"program_id": program_id, "skipped": "missing"}
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("BEGIN", "ROLLBACK"))]
    assert len(statements) == 1 and statements[0].startswith("SELECT")  # the lock finds no program; no more
    assert not Program.objects.filter(pk=program_id).exists()
    assert not ScanRequest.objects.filter(program_id=program_id).exists()
