"""A part's capacity per week is its capacity plan's line in force today: lines written refresh it at once, a line
dated in the future takes over on its day (the daily beat task), and a supplier's reported capacity for a part with
a plan is the plan's line from today."""

from datetime import date

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parts.capacity import CapacityLinesRefused, capacity_line_delete, capacity_lines_apply, parts_capacity_refresh
from parts.models import CapacityLine, Part
from parts.services import SupplierUpdatesRefused, supplier_updates_apply
from parts.tasks import refresh_capacity_in_force
from sopgate.celery import app
from tests.factories import TODAY, CapacityLineFactory, PartFactory, ProgramFactory, SupplierUserFactory

pytestmark = pytest.mark.django_db

FEB_1 = date(2027, 2, 1)


def _capacity(part) -> int | None:
    return Part.objects.values_list("capacity_per_week", flat=True).get(pk=part.pk)


def test_a_line_dated_in_the_future_takes_over_on_its_day_and_the_history_says_so(at_today):
    part = PartFactory(capacity_per_week=None)
    sam = SupplierUserFactory(supplier=part.supplier).user
    capacity_lines_apply(
        actor=sam,
        items=[
            {"part_id": part.pk, "effective_from": TODAY, "capacity_per_week": 1000},
            {"part_id": part.pk, "effective_from": FEB_1, "capacity_per_week": 2500},
        ],
    )
    assert _capacity(part) == 1000  # the line in force today
    assert parts_capacity_refresh(today=TODAY) == 0
    assert parts_capacity_refresh(today=date(2027, 1, 31)) == 0
    assert parts_capacity_refresh(today=FEB_1) == 1
    assert _capacity(part) == 2500
    record = part.history.first()
    assert (record.capacity_per_week, record.history_user, record.history_change_reason) == (
        2500,
        None,
        "capacity plan",
    )
    assert parts_capacity_refresh(today=FEB_1) == 0  # nothing left to change: no second history row
    assert part.history.filter(capacity_per_week=2500).count() == 1


def test_only_parts_whose_figure_differs_from_the_line_in_force_change(at_today):
    program = ProgramFactory()
    differs = PartFactory(program=program, capacity_per_week=700)
    CapacityLineFactory(part=differs, effective_from=date(2026, 12, 1), capacity_per_week=900)
    unknown = PartFactory(program=program, capacity_per_week=None)
    CapacityLineFactory(part=unknown, effective_from=TODAY, capacity_per_week=400)
    same = PartFactory(program=program, capacity_per_week=1000)
    CapacityLineFactory(part=same, effective_from=date(2026, 12, 1), capacity_per_week=1000)
    CapacityLineFactory(part=same, effective_from=date(2027, 3, 1), capacity_per_week=5000)
    only_future = PartFactory(program=program, capacity_per_week=300)
    CapacityLineFactory(part=only_future, effective_from=date(2027, 3, 1), capacity_per_week=5000)
    no_plan = PartFactory(program=program, capacity_per_week=250)
    history = {part.pk: part.history.count() for part in (same, only_future, no_plan)}

    assert refresh_capacity_in_force(day=TODAY.isoformat()) == 2  # the beat task, as the beat calls it
    assert [_capacity(part) for part in (differs, unknown, same, only_future, no_plan)] == [900, 400, 1000, 300, 250]
    assert {part.pk: part.history.count() for part in (same, only_future, no_plan)} == history


def test_the_refresh_costs_the_same_queries_for_one_part_as_for_forty(at_today):
    program = ProgramFactory()
    counts = []
    for size in (1, 40):
        Part.objects.all().delete()
        for part in PartFactory.create_batch(size, program=program, capacity_per_week=100):
            CapacityLineFactory(part=part, effective_from=FEB_1, capacity_per_week=200)
        with CaptureQueriesContext(connection) as queries:
            assert parts_capacity_refresh(today=FEB_1) == size
        counts.append(len(queries))
    # Find and lock, read under the lock, write, history, the program's scan request (+ savepoint statements).
    assert counts[0] == counts[1] <= 8, counts


def test_the_beat_runs_the_refresh_daily_before_the_snapshot():
    schedule = settings.CELERY_BEAT_SCHEDULE
    entry = schedule["daily-capacity-in-force"]
    assert entry["task"] == "parts.tasks.refresh_capacity_in_force"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({0}, {5})
    snapshot = schedule["daily-snapshot"]["schedule"]
    assert (min(entry["schedule"].hour), min(entry["schedule"].minute)) < (min(snapshot.hour), min(snapshot.minute))
    app.loader.import_default_modules()  # what a worker does at start: the tasks of every app registered
    assert {job["task"] for job in schedule.values()} <= set(app.tasks)


def test_a_reported_capacity_is_the_plans_line_from_today_for_a_part_with_a_plan(at_today):
    planned = PartFactory(capacity_per_week=1000)
    CapacityLineFactory(part=planned, effective_from=date(2026, 12, 1), capacity_per_week=1000)
    CapacityLineFactory(part=planned, effective_from=FEB_1, capacity_per_week=3000)
    unplanned = PartFactory(supplier=planned.supplier, program=planned.program, capacity_per_week=1000)
    sam = SupplierUserFactory(supplier=planned.supplier).user

    supplier_updates_apply(
        actor=sam,
        items=[
            {"part_id": planned.pk, "capacity_per_week": 1500},
            {"part_id": unplanned.pk, "capacity_per_week": 1200},
        ],
    )
    lines = list(CapacityLine.objects.filter(part=planned).values_list("effective_from", "capacity_per_week"))
    assert lines == [(date(2026, 12, 1), 1000), (TODAY, 1500), (FEB_1, 3000)]
    assert CapacityLine.objects.get(part=planned, effective_from=TODAY).reported_by_username == sam.username
    assert (_capacity(planned), _capacity(unplanned)) == (1500, 1200)
    assert not CapacityLine.objects.filter(part=unplanned).exists()  # without a plan, the one figure, all along
    assert parts_capacity_refresh(today=TODAY) == 0  # the figure is the line in force: the beat keeps it


def test_a_supplier_keeps_past_lines_and_an_engineer_may_correct_them(at_today, client):
    """The capacity in force until today is what the gate counted: a supplier neither deletes a line from today or
    before nor writes one before today, through the API as through the portal; an engineer may."""
    from tests.factories import EngineerFactory, api_token

    part = PartFactory(capacity_per_week=1000)
    sam = SupplierUserFactory(supplier=part.supplier).user
    in_force = CapacityLineFactory(part=part, effective_from=TODAY, capacity_per_week=1000)
    future = CapacityLineFactory(part=part, effective_from=FEB_1, capacity_per_week=3000)
    with pytest.raises(CapacityLinesRefused) as refused:
        capacity_line_delete(actor=sam, line=in_force)
    assert list(refused.value.errors[0]) == ["effective_from"]
    assert "2027-01-04" in refused.value.errors[0]["effective_from"][0]
    token = f"Token {api_token(sam)}"
    response = client.delete(f"/api/capacity-lines/{in_force.pk}/", HTTP_AUTHORIZATION=token)
    assert response.status_code == 400 and "effective_from" in response.json()
    backdated = client.post(
        "/api/capacity-lines/",
        {"part": part.pk, "effective_from": "2027-01-03", "capacity_per_week": 0},
        content_type="application/json",
        HTTP_AUTHORIZATION=token,
    )
    assert backdated.status_code == 400 and "is past" in backdated.json()["effective_from"][0]
    assert client.delete(f"/api/capacity-lines/{future.pk}/", HTTP_AUTHORIZATION=token).status_code == 204
    assert list(CapacityLine.objects.filter(part=part).values_list("pk", "capacity_per_week")) == [(in_force.pk, 1000)]
    capacity_line_delete(actor=EngineerFactory(), line=in_force)  # an engineer corrects the past
    assert not CapacityLine.objects.filter(part=part).exists()


def test_an_engineers_new_capacity_for_a_planned_part_is_its_line_from_today(at_today):
    """Else the part would show one figure while the gate counts the plan, and the daily refresh would set it back."""
    from parts.services import part_save
    from tests.factories import EngineerFactory

    part = PartFactory(capacity_per_week=1000)
    CapacityLineFactory(part=part, effective_from=date(2026, 12, 1), capacity_per_week=1000)
    part.capacity_per_week = 500
    part_save(part=part, actor=EngineerFactory(username="erin"))
    lines = list(
        CapacityLine.objects.filter(part=part).values_list(
            "effective_from", "capacity_per_week", "reported_by_username"
        )
    )
    assert lines == [(date(2026, 12, 1), 1000, "factory"), (TODAY, 500, "erin")]
    assert parts_capacity_refresh(today=TODAY) == 0 and _capacity(part) == 500


def test_a_supplier_reports_a_run_at_rate_once_it_has_run(at_today):
    part = PartFactory()
    sam = SupplierUserFactory(supplier=part.supplier).user
    with pytest.raises(SupplierUpdatesRefused) as refused:
        supplier_updates_apply(
            actor=sam, items=[{"part_id": part.pk, "run_at_rate_on": date(2999, 12, 31), "run_at_rate_per_week": 900}]
        )
    assert "after today" in refused.value.errors[0]["run_at_rate_on"][0]
    supplier_updates_apply(
        actor=sam, items=[{"part_id": part.pk, "run_at_rate_on": TODAY, "run_at_rate_per_week": 900}]
    )
    assert Part.objects.values_list("run_at_rate_on", flat=True).get(pk=part.pk) == TODAY


def test_reported_capacities_of_planned_parts_cost_the_same_queries_for_one_part_as_for_twenty(at_today):
    program = ProgramFactory()
    counts = []
    for size in (1, 20):
        parts = PartFactory.create_batch(size, program=program, capacity_per_week=100)
        for part in parts:
            CapacityLineFactory(part=part, effective_from=date(2026, 12, 1), capacity_per_week=100)
        sam = SupplierUserFactory(supplier=parts[0].supplier).user
        Part.objects.filter(pk__in=[part.pk for part in parts]).update(supplier=parts[0].supplier)
        with CaptureQueriesContext(connection) as queries:
            supplier_updates_apply(actor=sam, items=[{"part_id": p.pk, "capacity_per_week": 300} for p in parts])
        counts.append(len(queries))
        assert CapacityLine.objects.filter(part__in=parts, effective_from=TODAY, capacity_per_week=300).count() == size
    assert counts[0] == counts[1], counts


def test_a_first_plan_starting_later_keeps_the_parts_figure_until_then(at_today, client):
    """1,000 a week now, and the supplier says "2,500 from February": 1,000 stays in force until then, as a line
    from today, instead of a plan that makes nothing before February. Once a part has a plan, it is as written."""
    from tests.factories import api_token

    part = PartFactory(capacity_per_week=1000)
    sam = SupplierUserFactory(supplier=part.supplier).user
    response = client.post(
        "/api/capacity-lines/",
        {"part": part.pk, "effective_from": FEB_1.isoformat(), "capacity_per_week": 2500},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {api_token(sam)}",
    )
    assert response.status_code == 201, response.content
    assert response.json()["effective_from"] == FEB_1.isoformat()  # the line asked for, not the kept one
    lines = list(
        CapacityLine.objects.filter(part=part)
        .order_by("effective_from")
        .values_list("effective_from", "capacity_per_week", "reported_by_username")
    )
    assert lines == [(TODAY, 1000, sam.username), (FEB_1, 2500, sam.username)]
    assert _capacity(part) == 1000
    capacity_lines_apply(
        actor=sam, items=[{"part_id": part.pk, "effective_from": date(2027, 3, 1), "capacity_per_week": 3000}]
    )
    assert CapacityLine.objects.filter(part=part).count() == 3  # a plan already: nothing added but the line

    unconfirmed = PartFactory(capacity_per_week=None)
    capacity_lines_apply(
        actor=None, items=[{"part_id": unconfirmed.pk, "effective_from": FEB_1, "capacity_per_week": 500}]
    )
    assert list(CapacityLine.objects.filter(part=unconfirmed).values_list("effective_from", flat=True)) == [FEB_1]


def test_the_daily_refresh_is_retried_when_the_database_fails_and_then_does_its_work(at_today, monkeypatch):
    from django.db import OperationalError

    from parts import capacity

    part = PartFactory(capacity_per_week=None)
    CapacityLineFactory(part=part, effective_from=TODAY, capacity_per_week=700)
    real, calls = capacity.parts_capacity_refresh, []

    def failing_once(*, today):
        calls.append(today)
        if len(calls) == 1:
            raise OperationalError("the server closed the connection unexpectedly")
        return real(today=today)

    monkeypatch.setattr(capacity, "parts_capacity_refresh", failing_once)
    result = refresh_capacity_in_force.apply(args=[TODAY.isoformat()])
    assert result.successful() and result.get() == 1
    assert len(calls) == 2 and _capacity(part) == 700
