"""Writes to parts record the actor in history, in the same transaction as the change."""

from datetime import date, datetime, time

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from parts.models import Part, SupplierUpdate
from parts.services import SupplierUpdatesRefused, parts_approve_ppap, parts_mark_received, supplier_updates_apply
from sopgate.demo.load import engineers_group
from tests.factories import TODAY, EngineerFactory, PartFactory, ProgramFactory, SupplierUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def later(at_today, time_machine):
    """Move the clock past the creation of the fixtures, so history rows are ordered in time."""

    def move(hour):
        moment = timezone.make_aware(datetime.combine(TODAY, time(hour, 0)))
        time_machine.move_to(moment, tick=False)
        return moment

    return move


def _changes(part):
    newest = part.history.first()
    return newest, {(c.field, c.old, c.new) for c in newest.diff_against(newest.prev_record).changes}


def test_supplier_update_changes_the_part_and_names_the_supplier_user(later):
    part = PartFactory(promised_date=date(2027, 2, 1), ppap_status="submitted", capacity_per_week=None)
    sam = SupplierUserFactory(supplier=part.supplier).user
    now = later(10)

    created = supplier_updates_apply(
        actor=sam,
        items=[{"part_id": part.pk, "promised_date": date(2027, 2, 8), "capacity_per_week": 1800, "note": "line 2"}],
    )

    assert [(u["reported_by_id"], u["reported_at"], u["note"]) for u in created] == [(sam.pk, now, "line 2")]
    record, changes = _changes(part)
    assert record.history_user == sam
    assert {c for c in changes if c[0] != "updated_at"} == {
        ("promised_date", date(2027, 2, 1), date(2027, 2, 8)),
        ("capacity_per_week", None, 1800),
        ("last_supplier_update_at", None, now),
    }
    assert Part.objects.get(pk=part.pk).ppap_status == "submitted"  # not reported: unchanged


def test_supplier_updates_for_one_part_apply_in_order_all_or_nothing(later):
    part = PartFactory(promised_date=date(2027, 2, 1))
    actor = SupplierUserFactory(supplier=part.supplier).user
    later(10)
    with pytest.raises(SupplierUpdatesRefused):
        supplier_updates_apply(
            actor=actor,
            items=[{"part_id": part.pk, "promised_date": date(2027, 2, 5)}, {"part_id": 999_999}],
        )
    assert not SupplierUpdate.objects.exists()
    assert Part.objects.get(pk=part.pk).promised_date == date(2027, 2, 1)
    supplier_updates_apply(
        actor=actor,
        items=[
            {"part_id": part.pk, "promised_date": date(2027, 2, 5)},
            {"part_id": part.pk, "promised_date": date(2027, 2, 9)},
        ],
    )
    assert Part.objects.get(pk=part.pk).promised_date == date(2027, 2, 9)
    assert SupplierUpdate.objects.count() == 2


def test_supplier_updates_keep_what_no_item_reports_and_the_last_report_wins(later):
    first = PartFactory(promised_date=date(2027, 2, 1), ppap_status="submitted", capacity_per_week=100)
    supplier = first.supplier  # a supplier's user writes its own supplier's parts only
    second = PartFactory(
        promised_date=date(2027, 3, 1), ppap_status="not_submitted", capacity_per_week=None, supplier=supplier
    )
    untouched = PartFactory(promised_date=date(2027, 4, 1), capacity_per_week=300, supplier=supplier)
    actor = SupplierUserFactory(supplier=first.supplier).user
    now = later(10)

    supplier_updates_apply(
        actor=actor,
        items=[
            {"part_id": second.pk, "capacity_per_week": 50, "note": "ramp"},
            {"part_id": first.pk, "promised_date": date(2027, 2, 5), "capacity_per_week": 150},
            {"part_id": second.pk, "note": "only a note"},
            {"part_id": first.pk, "ppap_status": "submitted", "capacity_per_week": 120},
            {"part_id": second.pk, "promised_date": date(2027, 3, 9), "capacity_per_week": None},
        ],
    )

    rows = {p.pk: p for p in Part.objects.filter(pk__in=[first.pk, second.pk, untouched.pk])}
    fields = ("promised_date", "ppap_status", "capacity_per_week", "last_supplier_update_at")
    values = {pk: tuple(getattr(rows[pk], name) for name in fields) for pk in rows}
    assert values == {
        first.pk: (date(2027, 2, 5), "submitted", 120, now),
        second.pk: (date(2027, 3, 9), "not_submitted", 50, now),
        untouched.pk: (date(2027, 4, 1), untouched.ppap_status, 300, None),
    }
    assert [record.promised_date for record in second.history.all()[:1]] == [date(2027, 3, 9)]


def test_approve_ppap_records_the_engineer_and_skips_approved_parts(later):
    submitted = PartFactory(ppap_status="submitted")
    approved = PartFactory(ppap_status="approved")
    erin = EngineerFactory(username="erin")
    later(10)

    assert parts_approve_ppap(actor=erin, part_ids=[submitted.pk, approved.pk]) == 1

    record, changes = _changes(submitted)
    assert record.history_user == erin
    assert ("ppap_status", "submitted", "approved") in changes
    assert approved.history.count() == 1


def test_mark_received_records_the_engineer(later):
    part = PartFactory()
    erin = EngineerFactory(username="erin")
    later(10)
    assert parts_mark_received(actor=erin, part_ids=[part.pk]) == 1
    assert parts_mark_received(actor=erin, part_ids=[part.pk]) == 0  # already received: nothing to do
    record, changes = _changes(part)
    assert record.history_user == erin
    assert ("received_on", None, TODAY) in changes
    assert part.history.count() == 2


def test_batch_writes_cost_a_fixed_number_of_queries(later):
    """Approving 1 or 10 parts of a program issues the same queries (set-based), not one per part.

    (Past a few dozen rows SQLite splits bulk writes by its parameter limit, so the batch stays small.)
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    erin = EngineerFactory()
    program = ProgramFactory()
    counts = []
    for n in (1, 10):
        ids = [p.pk for p in PartFactory.create_batch(n, program=program, ppap_status="submitted")]
        with CaptureQueriesContext(connection) as queries:
            parts_approve_ppap(actor=erin, part_ids=ids)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_updates_stored_column_by_column_read_back_as_stored(later):
    part = PartFactory()
    actor = SupplierUserFactory(supplier=part.supplier).user
    now = later(10)
    applied = supplier_updates_apply(
        actor=actor,
        items=[{"part_id": part.pk, "promised_date": date(2027, 2, 8)}, {"part_id": part.pk, "note": "again"}],
    )
    columns = [field.attname for field in SupplierUpdate._meta.concrete_fields]
    stored = list(SupplierUpdate.objects.filter(part=part).order_by("pk").values(*columns))
    assert [{name: row[name] for name in columns} for row in applied] == stored
    assert stored[0]["reported_at"] == now


def test_deleting_a_user_keeps_their_updates_and_history_without_them(later):
    # The actor columns carry no database constraint (parts.models.Part.history), so nothing but Django's SET_NULL
    # clears them: this guards that (it passes with the constraints too).
    part = PartFactory()
    sam = SupplierUserFactory(supplier=part.supplier).user
    later(10)
    supplier_updates_apply(actor=sam, items=[{"part_id": part.pk, "promised_date": date(2027, 3, 1)}])
    sam_id = sam.pk

    sam.delete()

    assert list(
        SupplierUpdate.objects.filter(part=part).values_list("reported_by_id", "reported_by_username", "promised_date")
    ) == [(None, sam.username, date(2027, 3, 1))]
    assert not part.history.filter(history_user_id=sam_id).exists()
    assert part.history.filter(history_user_id=None, promised_date=date(2027, 3, 1)).count() == 1
    # The change keeps the name of who made it (sopgate.history.HistoricalActor), also when written in bulk.
    assert part.history.get(promised_date=date(2027, 3, 1)).history_username == sam.username


def test_an_actor_deleted_outside_django_keeps_its_name_on_its_updates_and_history(later, engineer, client):
    # Without the constraint a user deleted by hand (raw SQL) leaves its id on the rows it wrote, and none of the
    # pages fails. The update keeps the reporter's username (the API, the update log) and the part's history keeps
    # the actor's name with the change (sopgate.history.HistoricalActor).
    part = PartFactory()
    ghost = EngineerFactory(username="ghost")
    later(10)
    supplier_updates_apply(actor=ghost, items=[{"part_id": part.pk, "promised_date": date(2027, 3, 1)}])
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(type(ghost)._meta.db_table)
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [ghost.pk])
    engineer.groups.add(engineers_group())
    client.force_login(engineer)

    listed = client.get("/api/supplier-updates/", {"part": part.pk})
    assert listed.status_code == 200
    assert [(u["reported_by"], u["promised_date"]) for u in listed.json()["results"]] == [("ghost", "2027-03-01")]
    for url in (reverse("admin:parts_supplierupdate_changelist"), reverse("admin:parts_part_history", args=[part.pk])):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "ghost" in page.content.decode(), url


def test_the_daily_limit_counts_from_midnight_in_the_time_zone_and_waits_until_the_next(settings):
    from datetime import UTC

    from parts.services import SupplierDailyLimitExceeded, supplier_daily_limit_check

    settings.TIME_ZONE = "Europe/Berlin"
    settings.SUPPLIER_DAILY_UPDATE_LIMIT = 1
    part = PartFactory()
    # 2027-03-28 is the day Berlin's clocks go forward: 23 hours long, from 23:00 UTC the day before.
    SupplierUpdate.objects.create(part=part, reported_at=datetime(2027, 3, 27, 22, 30, tzinfo=UTC), note="yesterday")
    midnight = datetime(2027, 3, 27, 23, 0, tzinfo=UTC)
    supplier_daily_limit_check(supplier_id=part.supplier_id, adding=1, now=midnight)  # yesterday's is not counted
    SupplierUpdate.objects.create(part=part, reported_at=midnight, note="today")
    with pytest.raises(SupplierDailyLimitExceeded) as refused:
        supplier_daily_limit_check(supplier_id=part.supplier_id, adding=1, now=midnight)
    assert (refused.value.stored, refused.value.retry_after) == (1, 23 * 3600)


def test_a_note_past_the_limit_fails_model_validation(at_today):
    from django.core.exceptions import ValidationError

    from parts.models import SUPPLIER_UPDATE_NOTE_MAX_LENGTH

    part = PartFactory()
    update = SupplierUpdate(part=part, reported_at=timezone.now(), note="x" * (SUPPLIER_UPDATE_NOTE_MAX_LENGTH + 1))
    with pytest.raises(ValidationError) as refused:
        update.full_clean()
    assert "2000 characters" in refused.value.message_dict["note"][0]


def test_a_part_with_validation_tests_is_not_saved_into_another_program():
    from django.core.exceptions import ValidationError

    from parts.services import part_save
    from tests.factories import ValidationTestFactory

    part, other = PartFactory(), ProgramFactory(code="SU8")
    ValidationTestFactory(program=part.program, part=part)
    engineer = EngineerFactory()
    part.program = other
    with pytest.raises(ValidationError) as refused:
        part_save(part=part, actor=engineer)
    assert "1 validation test in its program" in refused.value.message_dict["program"][0]
    assert Part.objects.get(pk=part.pk).program_id != other.pk
    # Without tests, it moves, and the history names who moved it.
    free = PartFactory()
    free.program = other
    part_save(part=free, actor=engineer)
    assert Part.objects.get(pk=free.pk).program_id == other.pk
    assert free.history.first().history_user == engineer
