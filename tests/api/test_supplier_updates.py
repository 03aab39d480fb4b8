"""Supplier updates through the API: single and bulk, all or nothing, applied to the parts, re-scan queued."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parts.models import SUPPLIER_UPDATE_NOTE_MAX_LENGTH, Part, SupplierUpdate
from sopgate.models import ScanRequest
from tests.factories import PartFactory

pytestmark = pytest.mark.django_db

URL = "/api/supplier-updates/"


def test_single_update_is_applied_and_echoed(world, alice, at_today):
    response = alice.post(
        URL,
        {"part": world.part_a.pk, "promised_date": "2027-02-03", "capacity_per_week": 2500, "note": "tool ok"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    stored = SupplierUpdate.objects.get(pk=body["id"])
    assert body["part"] == world.part_a.pk
    assert body["reported_by"] == "alice"
    assert body["reported_at"].startswith("2027-01-04T")
    assert (body["program"], body["part_number"], body["revision"]) == ("SU7", "BM-100", "A")
    assert stored.note == "tool ok"
    world.part_a.refresh_from_db()
    assert world.part_a.promised_date == date(2027, 2, 3)
    assert world.part_a.capacity_per_week == 2500
    assert world.part_a.last_supplier_update_at is not None


def test_part_named_by_program_and_number_and_revision(world, alice):
    rev_b = PartFactory(program=world.program, part_number="BM-100", revision="B", supplier=world.supplier_a)
    ambiguous = alice.post(URL, {"program": "SU7", "part_number": "BM-100", "note": "x"}, format="json")
    assert ambiguous.status_code == 400
    assert ambiguous.json() == {"revision": ["Part BM-100 in program SU7 has several revisions (A, B); name one."]}
    named = alice.post(URL, {"program": "SU7", "part_number": "BM-100", "revision": "B", "note": "x"}, format="json")
    assert named.status_code == 201
    assert named.json()["part"] == rev_b.pk


def test_bulk_is_all_or_nothing_with_errors_by_index(world, alice):
    before = SupplierUpdate.objects.count()
    response = alice.post(
        URL,
        [
            {"part": world.part_a.pk, "promised_date": "2027-02-01"},
            {"part": world.part_a.pk, "promised_date": "2027-02-30"},
            {"program": "SU7", "part_number": "SF-200", "note": "another supplier's part"},
            {"part": world.part_a.pk, "capacity_per_week": 2**31},
        ],
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert errors[0] == {}
    assert list(errors[1]) == ["promised_date"] and "wrong format" in errors[1]["promised_date"][0]
    assert errors[2] == {"part_number": ["No part SF-200 in program SU7."]}
    assert list(errors[3]) == ["capacity_per_week"]
    assert SupplierUpdate.objects.count() == before
    world.part_a.refresh_from_db()
    assert world.part_a.promised_date != date(2027, 2, 1)


def test_a_part_deleted_after_its_number_was_looked_up_is_not_found(world, alice, monkeypatch):
    # The look-up by number and the lock are two queries; a part deleted between them is "not found", a 400.
    from parts import selectors

    monkeypatch.setattr(
        selectors, "part_revisions_by_number", lambda parts, numbers: {("SU7", "GONE-1"): {"": 999_999}}
    )
    response = alice.post(URL, {"program": "SU7", "part_number": "GONE-1", "note": "x"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"part_number": ["No part GONE-1 in program SU7."]}
    assert not SupplierUpdate.objects.filter(note="x").exists()


def test_bulk_applies_items_in_order(world, alice):
    response = alice.post(
        URL,
        [
            {"part": world.part_a.pk, "promised_date": "2027-02-01"},
            {"program": "SU7", "part_number": "BM-100", "promised_date": "2027-02-05", "tooling_stage": "soft_tool"},
        ],
        format="json",
    )
    assert response.status_code == 201, response.content
    assert [u["promised_date"] for u in response.json()] == ["2027-02-01", "2027-02-05"]
    world.part_a.refresh_from_db()
    assert (world.part_a.promised_date, world.part_a.tooling_stage) == (date(2027, 2, 5), "soft_tool")


def test_bulk_limits(world, alice):
    assert alice.post(URL, [], format="json").json() == {"non_field_errors": ["Send at least one update."]}
    too_many = alice.post(URL, [{"part": world.part_a.pk, "note": "x"}] * 1001, format="json")
    assert too_many.status_code == 400
    assert too_many.json() == {"non_field_errors": ["Send at most 1000 updates at once; got 1001."]}


@pytest.mark.parametrize("status", ["approved", "interim_approved", "rejected"])
def test_supplier_may_not_decide_ppap(world, alice, status):
    response = alice.post(URL, {"part": world.part_a.pk, "ppap_status": status}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["ppap_status"]
    assert "customer's decision" in response.json()["ppap_status"][0]
    assert not SupplierUpdate.objects.filter(part=world.part_a, ppap_status=status).exists()


def test_supplier_may_report_submission_and_engineer_may_approve(world, alice, eng):
    Part.objects.filter(pk=world.part_a.pk).update(ppap_status="not_submitted")
    assert alice.post(URL, {"part": world.part_a.pk, "ppap_status": "submitted"}, format="json").status_code == 201
    assert eng.post(URL, {"part": world.part_a.pk, "ppap_status": "approved"}, format="json").status_code == 201
    world.part_a.refresh_from_db()
    assert world.part_a.ppap_status == "approved"


@pytest.mark.parametrize(
    ("current", "reported", "allowed"),
    [
        ("approved", "submitted", False),
        ("approved", "not_submitted", False),
        ("interim_approved", "submitted", False),
        ("interim_approved", "not_submitted", False),
        ("rejected", "not_submitted", False),
        ("rejected", "submitted", True),  # handed in again
        ("submitted", "not_submitted", True),  # withdrawn
        ("not_submitted", "submitted", True),
        ("submitted", "submitted", True),
    ],
)
def test_supplier_may_not_undo_the_customers_ppap_decision(world, alice, eng, current, reported, allowed):
    Part.objects.filter(pk=world.part_a.pk).update(ppap_status=current)
    before = SupplierUpdate.objects.count()
    response = alice.post(URL, {"part": world.part_a.pk, "ppap_status": reported, "note": "n"}, format="json")
    world.part_a.refresh_from_db()
    if allowed:
        assert response.status_code == 201, response.content
        assert world.part_a.ppap_status == reported
    else:
        assert response.status_code == 400
        assert list(response.json()) == ["ppap_status"]
        assert world.part_a.ppap_status == current
        assert SupplierUpdate.objects.count() == before
    # The customer (an engineer) may move it anywhere.
    assert eng.post(URL, {"part": world.part_a.pk, "ppap_status": "not_submitted"}, format="json").status_code == 201


def test_supplier_ppap_rule_follows_the_batch_order(world, alice):
    Part.objects.filter(pk=world.part_a.pk).update(ppap_status="rejected")
    part = world.part_a.pk
    # Handed in again, then withdrawn: both fine in this order ...
    ok = [{"part": part, "ppap_status": "submitted"}, {"part": part, "ppap_status": "not_submitted"}]
    assert alice.post(URL, ok, format="json").status_code == 201
    # ... while withdrawing a rejected PPAP is refused, at the item that does it, and the whole batch with it.
    Part.objects.filter(pk=part).update(ppap_status="rejected")
    refused = alice.post(
        URL, [{"part": part, "note": "first"}, {"part": part, "ppap_status": "not_submitted"}], format="json"
    )
    assert refused.status_code == 400
    assert refused.json()[0] == {} and list(refused.json()[1]) == ["ppap_status"]
    assert not SupplierUpdate.objects.filter(part_id=part, note="first").exists()


def test_update_requests_a_rescan_of_the_program(world, alice, django_capture_on_commit_callbacks):
    ScanRequest.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice.post(URL, {"part": world.part_a.pk, "promised_date": "2027-02-20"}, format="json")
    assert response.status_code == 201
    assert list(ScanRequest.objects.values_list("program_id", flat=True)) == [world.program.pk]
    assert callbacks, "the scan is queued after the commit"


def test_rejected_update_requests_no_rescan(world, alice):
    ScanRequest.objects.all().delete()
    alice.post(URL, {"part": world.part_a.pk, "ppap_status": "approved"}, format="json")
    assert not ScanRequest.objects.exists()


def _post_counting(client, body):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content[:500]
    return len(queries)


# Token, knox's look for the user's expired tokens, the user with its membership, the look-up of parts named by
# number, savepoint, lock (which is also the check that the parts named by id exist and may be written, and reads the program codes for the echo), insert updates, update
# parts, copy history rows, the program's scan request (sopgate.services.scan_request: one upsert). None of it
# grows with the number of items. (16, was 17: the ids are checked by the lock; 10 since the scan request is one
# INSERT ... ON CONFLICT instead of update, savepoints, get, insert and releases.) 12 since a supplier's daily
# limit is checked (parts.services.supplier_daily_limit_check): a lock on the supplier's row and one count of
# its updates today, per request whatever its size; engineers' batches skip both. 13 with knox's hashed tokens,
# whose check looks for the user's expired tokens. 14 since which parts have a capacity plan is read after their
# lock (parts.writes.parts_lock), not by the locking statement, which would read the lines as before the wait.
BULK_QUERIES = 14
# SQLite takes at most 999 parameters per statement, so Django splits the same bulk statements into
# batches there: more queries for 500 items, but a handful of batches, never one per item. (22, down from 24:
# the part update now carries only the reported fields, not all four plus the update times, so fewer batches;
# and no programs query; 21 since the ids are checked by the lock; 15 with the one-statement scan request; 17
# with the daily limit's lock and count; 18 with knox; 19 with the capacity plans read after the lock.)
BULK_QUERIES_SQLITE_500 = 19


def test_bulk_of_500_costs_the_same_queries_as_one(world, alice):
    parts = Part.objects.bulk_create(
        PartFactory.build(program=world.program, supplier=world.supplier_a, owner=None, part_number=f"BULK-{i:04d}")
        for i in range(500)
    )
    half = len(parts) // 2
    one = [{"part": parts[0].pk, "promised_date": "2027-02-01"}, {"program": "SU7", "part_number": "BULK-0001"}]
    one[1]["note"] = "by number"
    many = [{"part": p.pk, "promised_date": "2027-02-01", "capacity_per_week": 5000} for p in parts[:half]]
    many += [{"program": "SU7", "part_number": p.part_number, "note": "by number"} for p in parts[half:]]
    ScanRequest.objects.all().delete()
    small = _post_counting(alice, one)
    ScanRequest.objects.all().delete()
    large = _post_counting(alice, many)
    assert small == BULK_QUERIES
    assert large == (BULK_QUERIES if connection.vendor == "postgresql" else BULK_QUERIES_SQLITE_500)
    assert SupplierUpdate.objects.filter(part__in=parts).count() == 502


def _listed_ids(client, **params) -> set[int]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return {u["id"] for u in response.json()["results"]}


def test_an_update_stays_with_the_supplier_that_reported_it_when_the_part_moves(world, clients, eng):
    alice, bob = clients["supplier_a"], clients["supplier_b"]
    mine = world.update_a.pk  # alice's (ACME) note on BM-100
    moved = eng.patch(f"/api/parts/{world.part_a.pk}/", {"supplier": "BOLT"}, format="json")
    assert moved.status_code == 200, moved.content
    # BOLT reports on the part it now delivers; an engineer's update is the part's supplier's too.
    bolt_now = bob.post(URL, {"part": world.part_a.pk, "note": "BOLT takes over"}, format="json").json()["id"]
    by_engineer = eng.post(URL, {"part": world.part_a.pk, "capacity_per_week": 100}, format="json").json()["id"]

    assert mine in _listed_ids(alice) and mine in _listed_ids(alice, part=world.part_a.pk)
    assert alice.get(f"{URL}{mine}/").json()["note"] == "on track"
    assert {bolt_now, by_engineer}.isdisjoint(_listed_ids(alice))
    assert alice.get(f"{URL}{bolt_now}/").status_code == 404

    assert mine not in _listed_ids(bob) and mine not in _listed_ids(bob, part=world.part_a.pk)
    assert bob.get(f"{URL}{mine}/").status_code == 404
    assert {bolt_now, by_engineer} <= _listed_ids(bob)

    assert {mine, bolt_now, by_engineer} <= _listed_ids(eng)
    assert set(
        SupplierUpdate.objects.filter(pk__in=[mine, bolt_now, by_engineer]).values_list("pk", "supplier__code")
    ) == {
        (mine, "ACME"),
        (bolt_now, "BOLT"),
        (by_engineer, "BOLT"),
    }


def test_reported_by_outlives_the_user(world, alice, eng):
    created = alice.post(URL, {"part": world.part_a.pk, "note": "from alice"}, format="json").json()["id"]
    SupplierUpdate.objects.get(pk=created).reported_by.delete()
    assert eng.get(f"{URL}{created}/").json()["reported_by"] == "alice"
    assert eng.get(f"{URL}{world.update_a.pk}/").json()["reported_by"] == "alice"


def test_a_note_longer_than_the_limit_is_refused_naming_it(world, alice):
    before = SupplierUpdate.objects.count()
    too_long = "x" * (SUPPLIER_UPDATE_NOTE_MAX_LENGTH + 1)
    one = alice.post(URL, {"part": world.part_a.pk, "note": too_long}, format="json")
    assert one.status_code == 400
    assert one.json() == {"note": [f"Ensure this field has no more than {SUPPLIER_UPDATE_NOTE_MAX_LENGTH} characters."]}
    batch = alice.post(
        URL, [{"part": world.part_a.pk, "note": "fine"}, {"part": world.part_a.pk, "note": too_long}], format="json"
    )
    assert batch.status_code == 400
    assert batch.json()[0] == {} and list(batch.json()[1]) == ["note"]
    assert str(SUPPLIER_UPDATE_NOTE_MAX_LENGTH) in batch.json()[1]["note"][0]
    assert SupplierUpdate.objects.count() == before
    longest = "x" * SUPPLIER_UPDATE_NOTE_MAX_LENGTH
    assert alice.post(URL, {"part": world.part_a.pk, "note": longest}, format="json").status_code == 201


def test_a_supplier_past_its_daily_limit_gets_429_until_midnight(world, clients, eng, settings, time_machine):
    from datetime import datetime, time

    from django.utils import timezone

    from parts.models import IdempotencyRecord

    settings.SUPPLIER_DAILY_UPDATE_LIMIT = 3
    alice, bob = clients["supplier_a"], clients["supplier_b"]
    part = world.part_a.pk
    # The world holds one update of ACME's from today; two more reach the limit.
    assert alice.post(URL, [{"part": part, "note": "2"}, {"part": part, "note": "3"}], format="json").status_code == 201
    before = SupplierUpdate.objects.count()

    refused = alice.post(URL, {"part": part, "promised_date": "2027-03-01"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(15 * 3600)  # the clock stands at 09:00
    body = refused.json()
    assert (body["limit"], body["stored_today"], body["requested"]) == (3, 3, 1)
    assert "at most 3 updates a day" in body["detail"]
    assert SupplierUpdate.objects.count() == before
    assert not IdempotencyRecord.objects.exists()
    world.part_a.refresh_from_db()
    assert world.part_a.promised_date != date(2027, 3, 1)

    # Engineers are not limited, nor is another supplier.
    assert eng.post(URL, {"part": part, "note": "engineer"}, format="json").status_code == 201
    assert bob.post(URL, {"part": world.part_b.pk, "note": "bob"}, format="json").status_code == 201

    # From midnight on the count starts again.
    tomorrow = timezone.make_aware(datetime.combine(date(2027, 1, 5), time(0, 0)))
    time_machine.move_to(tomorrow, tick=False)
    again = alice.post(URL, {"part": part, "note": "new day"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert again.status_code == 201, again.content


def test_a_batch_that_would_pass_the_daily_limit_stores_nothing(world, alice, settings):
    settings.SUPPLIER_DAILY_UPDATE_LIMIT = 2
    before = SupplierUpdate.objects.count()
    part = world.part_a.pk
    response = alice.post(URL, [{"part": part, "note": "a"}, {"part": part, "note": "b"}], format="json")
    assert response.status_code == 429
    assert response.json()["requested"] == 2
    assert SupplierUpdate.objects.count() == before


def test_a_suppliers_promise_before_today_is_a_400_naming_promised_date_an_engineers_is_taken(world, alice, eng):
    refused = alice.post(
        URL,
        [{"part": world.part_a.pk, "note": "fine"}, {"part": world.part_a.pk, "promised_date": "2027-01-03"}],
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json() == [{}, {"promised_date": ["A promised date cannot be before today (2027-01-04)."]}]
    assert alice.post(URL, {"part": world.part_a.pk, "promised_date": "2027-01-04"}, format="json").status_code == 201
    # An engineer may record a past promise (DOMAIN.md "Trust"); the gate judges it.
    assert eng.post(URL, {"part": world.part_a.pk, "promised_date": "2026-12-20"}, format="json").status_code == 201
