"""Concurrency: 50 supplier updates to one part at once, two scans of one program at once, and a handover item
reopened while its checklist is being signed off."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction

from parts.models import SupplierUpdate
from sopgate.models import Alert, Blocker
from sopgate.services import program_scan
from tests.factories import ChecklistFactory, EngineerFactory, ItemFactory
from tests.faults.conftest import service_env
from tests.faults.helpers import http, make_world
from validation.models import HandoverItem
from validation.services import checklist_sign_off, item_mark_done, item_reopen

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def test_fifty_concurrent_updates_to_one_part_all_land_consistently(postgres_only, private_redis, services):
    world = make_world(code="CONC")
    env = service_env(redis_url=private_redis.url, email_url="memorymail://")
    _, base = services.web(env)
    need = world.program.sop_date - timedelta(days=world.program.part_lead_days)

    def post(n: int):
        body = {
            "part": world.part.pk,
            "promised_date": (need - timedelta(days=n)).isoformat(),
            "capacity_per_week": 10_000 + n,
            "note": f"update {n}",
        }
        return http("POST", f"{base}/api/supplier-updates/", token=world.supplier_token, body=body)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(post, range(50)))
    statuses = [status for status, *_ in responses]
    assert statuses == [201] * 50, [r[1] for r in responses if r[0] != 201][:3]

    updates = list(SupplierUpdate.objects.filter(part=world.part).order_by("id"))
    assert len(updates) == 50
    assert sorted(u.note for u in updates) == sorted(f"update {n}" for n in range(50))
    # No lost update: the part holds exactly what the last stored update reported, and its time.
    world.part.refresh_from_db()
    last = updates[-1]
    assert world.part.promised_date == last.promised_date
    assert world.part.capacity_per_week == last.capacity_per_week
    assert world.part.last_supplier_update_at == max(u.reported_at for u in updates)
    # Every change is in the part's history, attributed to the supplier user.
    history = world.part.history.filter(history_type="~")
    assert history.count() >= 50
    assert {h.history_user.username for h in history} == {f"sup-{world.program.code.lower()}"}


def test_two_scans_at_once_do_the_work_once(postgres_only):
    world = make_world(code="TWIN")
    world.part.promised_date = world.program.sop_date  # late: promised after the need date
    world.part.save()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def scan():
        try:
            barrier.wait(timeout=10)
            results.append(program_scan(program_id=world.program.pk))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(r.opened for r in results) == [0, 1], "one scan opened the blocker, the other found it open"
    assert Blocker.objects.filter(program=world.program).count() == 1
    assert Alert.objects.filter(blocker__program=world.program).count() == 2  # owner + supplier contact, once each


def test_a_reopen_waits_for_a_sign_off_in_progress_and_is_then_refused(postgres_only):
    alice = EngineerFactory(username="alice")  # the R&D owner: she may mark the item done and sign her side
    checklist = ChecklistFactory(area="Battery pack", rd_owner=alice)
    item = ItemFactory(checklist=checklist, title="Leak test validated")
    item_mark_done(item=item, actor=alice)
    outcome = []

    def reopen():
        try:
            item_reopen(item=HandoverItem.objects.get(pk=item.pk), actor=alice)
            outcome.append("reopened")
        except ValidationError as refused:
            outcome.append(refused.message_dict)
        finally:
            connections.close_all()

    thread = threading.Thread(target=reopen)
    with transaction.atomic():
        checklist_sign_off(checklist=checklist, side="rd", actor=alice)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive(), "the reopen must not finish before the sign-off commits"
    thread.join(timeout=30)

    # It waited on the checklist's row lock, so it saw the sign-off once committed and was refused.
    assert [sorted(o) if isinstance(o, dict) else o for o in outcome] == [["done"]]
    item.refresh_from_db()
    checklist.refresh_from_db()
    assert item.done and checklist.rd_signed_off
