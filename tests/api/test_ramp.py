"""Calendars, capacity plans, run at rate and the ramp coverage through the API (API.md "Trust, ramp and portal
additions"). The world's ramp plan is July 2027 only (10,000 vehicles over its 22 weekdays); SOP is 2027-03-01."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parts.models import CapacityLine
from tests.factories import CapacityLineFactory, PartFactory, SupplierFactory, WorkCalendarFactory

pytestmark = pytest.mark.django_db


def test_engineers_write_calendars_and_everyone_signed_in_reads_them(clients, eng, world):
    created = eng.post(
        "/api/calendars/",
        {"code": "PLANT", "name": "Plant", "closed_dates": ["2027-02-12", "2027-02-11"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["working_weekdays"] == [1, 2, 3, 4, 5]
    assert created.json()["closed_dates"] == ["2027-02-11", "2027-02-12"]
    assert (
        eng.patch("/api/calendars/PLANT/", {"working_weekdays": [1, 2, 3, 4, 5, 6]}, format="json").status_code == 200
    )
    assert eng.patch("/api/calendars/PLANT/", {"working_weekdays": [0, 8]}, format="json").status_code == 400
    assert eng.patch("/api/calendars/PLANT/", {"closed_dates": ["soon"]}, format="json").json() == {
        "closed_dates": ["soon is not a date (YYYY-MM-DD)."]
    }
    for role in ("supplier_a", "nobody"):
        assert clients[role].get("/api/calendars/PLANT/").status_code == 200
        assert clients[role].post("/api/calendars/", {"code": "X", "name": "X"}, format="json").status_code == 403
    assert clients["anonymous"].get("/api/calendars/").status_code == 401
    # The plant's calendar on the program, a supplier's own on the supplier, both by code.
    assert eng.patch("/api/programs/SU7/", {"calendar": "PLANT"}, format="json").json()["calendar"] == "PLANT"
    assert eng.patch("/api/suppliers/ACME/", {"calendar": "PLANT"}, format="json").json()["calendar"] == "PLANT"
    assert eng.patch("/api/suppliers/ACME/", {"calendar": None}, format="json").json()["calendar"] is None


def test_a_supplier_writes_capacity_lines_for_its_own_parts_only_and_the_same_day_replaces(alice, eng, world):
    line = {"part": world.part_a.pk, "effective_from": "2027-01-04", "capacity_per_week": 1000}
    first = alice.post("/api/capacity-lines/", line, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["reported_by"] == "alice"
    again = alice.post("/api/capacity-lines/", {**line, "capacity_per_week": 1200}, format="json")
    assert again.status_code == 201
    assert CapacityLine.objects.filter(part=world.part_a).count() == 1
    alice.post(
        "/api/capacity-lines/", {**line, "effective_from": "2027-05-01", "capacity_per_week": 2500}, format="json"
    )
    world.part_a.refresh_from_db()
    assert world.part_a.capacity_per_week == 1200  # the line in force today (2027-01-04)
    # Another supplier's part: not found, exactly like a missing one.
    refused = alice.post("/api/capacity-lines/", {**line, "part": world.part_b.pk}, format="json")
    assert refused.status_code == 400 and "part" in refused.json()
    listed = alice.get("/api/capacity-lines/", {"program": "SU7"}).json()
    assert [(row["effective_from"], row["capacity_per_week"]) for row in listed["results"]] == [
        ("2027-01-04", 1200),
        ("2027-05-01", 2500),
    ]
    bob_line = CapacityLineFactory(part=world.part_b)
    assert alice.delete(f"/api/capacity-lines/{bob_line.pk}/").status_code == 404
    assert eng.delete(f"/api/capacity-lines/{first.json()['id']}/").status_code == 204


def test_supplier_updates_carry_run_at_rate_and_parts_show_it(alice, world):
    answer = alice.post(
        "/api/supplier-updates/",
        {"part": world.part_a.pk, "run_at_rate_on": "2027-01-04", "run_at_rate_per_week": 900},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["run_at_rate_on"], answer.json()["run_at_rate_per_week"]) == ("2027-01-04", 900)
    part = alice.get(f"/api/parts/{world.part_a.pk}/").json()
    assert (part["run_at_rate_on"], part["run_at_rate_per_week"]) == ("2027-01-04", 900)


def test_ramp_coverage_gives_planned_and_achievable_vehicles_and_the_bottleneck(clients, eng, world):
    # July 2027: 10,000 vehicles over 22 weekdays; W27 (Jul 5-9) plans 10,000 × 5 / 22 = 2,272.7 → 2,273.
    world.part_a.capacity_per_week, world.part_a.qty_per_vehicle = 1800, 1
    world.part_a.save()
    world.part_b.capacity_per_week, world.part_b.qty_per_vehicle = 5000, 2
    world.part_b.save()
    body = eng.get("/api/programs/SU7/ramp-coverage/").json()
    assert body["program"] == "SU7"
    weeks = {week["week"]: week for week in body["weeks"]}
    assert body["weeks"][0]["week"] == "2027-W09" and body["weeks"][-1]["week"] == "2027-W30"
    assert weeks["2027-W09"]["planned_vehicles"] == 0  # no plan before July
    w27 = weeks["2027-W27"]
    assert (w27["starts_on"], w27["planned_vehicles"], w27["achievable_vehicles"]) == ("2027-07-05", 2273, 1800)
    assert w27["bottleneck"] == [
        {"part": world.part_a.pk, "part_number": "BM-100", "revision": "A", "capacity": 1800, "demand": 2273}
    ]
    assert clients["supplier_a"].get("/api/programs/SU7/ramp-coverage/").status_code == 403


def _grow(program, n: int) -> None:
    calendars = [WorkCalendarFactory(code=f"C{k}", closed_dates=["2027-07-14"]) for k in range(3)]
    suppliers = [SupplierFactory(code=f"S{k}", calendar=calendars[k % 3] if k % 2 else None) for k in range(6)]
    for k in range(n):
        part = PartFactory(program=program, part_number=f"P-{k}", supplier=suppliers[k % 6], capacity_per_week=3000)
        if k % 3 == 0:
            CapacityLineFactory(part=part, effective_from=date(2027, 6, 1), capacity_per_week=2500 + k)
            CapacityLineFactory(part=part, effective_from=date(2027, 7, 7), capacity_per_week=3000)


def test_ramp_coverage_costs_the_same_queries_for_2_parts_as_for_60(eng, world):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert eng.get("/api/programs/SU7/ramp-coverage/").status_code == 200
        return len(queries)

    small = count()
    _grow(world.program, 58)
    assert count() == small
    assert small <= 10  # authentication (3), the program, and the ramp's four reads
