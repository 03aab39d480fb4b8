"""The shortcuts in sopgate/api/fast.py give exactly DRF's answers: the same representation of every object,
the same validated data for good input and the same errors for bad input."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from parts.api.serializers import (
    PartSerializer,
    SupplierUpdateSerializer,
    SupplierUpdateWriteSerializer,
    supplier_update_echo,
    supplier_update_items,
)
from parts.models import Part, SupplierUpdate
from parts.selectors import part_list_for_api
from parts.services import UPDATE_COLUMNS
from tests.factories import TODAY, EngineerFactory, PartFactory, ProgramFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def drf_representation(serializer, instance) -> dict:
    return serializers.Serializer.to_representation(serializer, instance)


def drf_validation(serializer, data):
    return serializers.Serializer.run_validation(serializer, data)


def _parts_of_every_shape(program, owner) -> None:
    """A sourced and owned part, one without supplier, owner or promise, and a received one with zero capacity."""
    PartFactory(program=program, part_number="A-1", supplier=SupplierFactory(code="S1"), owner=owner)
    PartFactory(program=program, part_number="A-2", supplier=None, owner=None, promised_date=None)
    PartFactory(
        program=program,
        part_number="A-3",
        promised_date=TODAY + timedelta(days=400),
        received_on=TODAY,
        capacity_per_week=0,
        last_supplier_update_at=timezone.now(),
    )


def test_parts_read_as_drf_reads_them(at_today):
    engineer = EngineerFactory()
    program = ProgramFactory(code="FP1")
    _parts_of_every_shape(program, engineer)
    serializer = PartSerializer(many=True).child
    parts = list(part_list_for_api(engineer, today=TODAY))
    assert len(parts) == 3
    for part in parts * 2:  # twice: remembered values give the same answers
        assert serializer.to_representation(part) == drf_representation(serializer, part)
    shown = {row["part_number"]: row for row in PartSerializer(parts, many=True).data}
    assert shown["A-2"]["supplier"] is None and shown["A-2"]["owner"] is None
    assert shown["A-1"]["supplier"] == "S1" and shown["A-1"]["owner"] == engineer.username


@pytest.mark.parametrize("query", ["", "?late=true", "?ordering=-promised_date&page_size=2&page=2", "?search=A-"])
def test_the_part_list_reads_as_drf_lists_it(at_today, query, monkeypatch):
    # The list reads tuples of columns (FastListMixin); DRF's own list reads model instances through the same
    # serializer. Both pages, rendered as JSON, must be the same.
    from rest_framework.test import APIClient

    from parts.api.views import PartViewSet
    from sopgate.api import fast as fast_module
    from sopgate.api.fast import FastListMixin, _list_plan

    columns_present = []  # what the fast path found when it decided between itself and DRF's list
    has_columns = fast_module._has_columns
    monkeypatch.setattr(
        fast_module, "_has_columns", lambda *args: columns_present.append(has_columns(*args)) or columns_present[-1]
    )

    engineer = EngineerFactory()
    program = ProgramFactory(code="FL1")
    _parts_of_every_shape(program, engineer)
    PartFactory(program=program, part_number="B-1", promised_date=TODAY + timedelta(days=900))
    client = APIClient()
    client.force_authenticate(engineer)
    fast = client.get(f"/api/parts/{query}")
    drf_list = FastListMixin.list
    try:
        FastListMixin.list = lambda self, request, *args, **kwargs: super(FastListMixin, self).list(request)
        drf = client.get(f"/api/parts/{query}")
    finally:
        FastListMixin.list = drf_list
    assert fast.status_code == drf.status_code == 200
    assert fast.json() == drf.json()
    assert fast.json()["count"] > 0
    assert PartViewSet.list is FastListMixin.list
    # The fast path was taken, not its fallback: the serializer has a plan and the queryset every column of it.
    assert _list_plan(PartSerializer()) is not None and columns_present == [True]


def test_a_part_without_annotations_reads_as_drf_reads_it(at_today):
    # A plain instance lacks `late` and `open_blockers`: DRF's own handling decides, here too.
    part = PartFactory(supplier=None)
    serializer = PartSerializer()
    assert serializer.to_representation(part) == drf_representation(serializer, part)


def test_supplier_updates_read_as_drf_reads_them(at_today):
    engineer = EngineerFactory()
    part = PartFactory()
    now = timezone.now()
    updates = [
        SupplierUpdate.objects.create(part=part, reported_by=engineer, reported_at=now, promised_date=TODAY),
        SupplierUpdate.objects.create(part=part, reported_by=None, reported_at=now, ppap_status="submitted"),
        SupplierUpdate.objects.create(part=part, reported_by=engineer, reported_at=now, capacity_per_week=5, note="x"),
    ]
    serializer = SupplierUpdateSerializer()
    for update in SupplierUpdate.objects.select_related("part__program", "reported_by").filter(
        pk__in=[u.pk for u in updates]
    ):
        assert serializer.to_representation(update) == drf_representation(serializer, update)


@pytest.mark.parametrize("reporter", ["engineer", None])
def test_a_stored_batch_is_echoed_as_drf_shows_it(at_today, reporter):
    reporter = EngineerFactory(username="echo-eng") if reporter else None
    parts = [PartFactory(part_number="E-1", revision="B"), PartFactory(part_number="É-2", revision="")]
    now = timezone.now()
    rows = [
        {"part": parts[0], "promised_date": TODAY, "note": "x"},
        {"part": parts[1], "ppap_status": "submitted", "tooling_stage": "soft_tool"},
        {"part": parts[0], "capacity_per_week": 0, "promised_date": TODAY},
        {"part": parts[1], "capacity_per_week": 7, "note": "Grüße"},
    ]
    stored = [SupplierUpdate.objects.create(reported_at=now, reported_by=reporter, **row) for row in rows]
    updates = list(
        SupplierUpdate.objects.select_related("part__program", "reported_by")
        .filter(pk__in=[u.pk for u in stored])
        .order_by("pk")
    )
    names = {p.pk: (p.program.code, p.part_number, p.revision) for p in parts}
    stored_rows = [tuple(getattr(update, name) for name in UPDATE_COLUMNS) for update in updates]
    echo = supplier_update_echo(stored_rows, parts=names)
    assert echo == SupplierUpdateSerializer(updates, many=True).data
    assert [list(row) for row in echo] == [list(SupplierUpdateSerializer.Meta.fields)] * 4


GOOD = [
    {"part": 1, "promised_date": "2027-02-01", "note": "bench"},
    {"part": 9, "ppap_status": "submitted", "tooling_stage": "soft_tool", "capacity_per_week": 0},
    {"program": "P1", "part_number": "  X-1 ", "revision": "B", "note": "  "},
    {"program": "P1", "part_number": "X-1", "note": "Grüße, ünïcode"},
    {"part": 2**63 - 1, "promised_date": "2999-12-31"},
    {"part": "7", "note": "x"},  # DRF's IntegerField takes numbers in strings and integral floats
    {"part": 1.0, "note": "x"},
]
BAD = [
    {"part": 0, "note": "x"},
    {"part": True, "note": "x"},
    {"part": 1, "promised_date": "2027-02-30"},
    {"part": 1, "promised_date": "1899-12-31"},
    {"part": 1, "promised_date": "3000-01-01"},
    {"part": 1, "promised_date": None},
    {"part": 1, "promised_date": "2027-02-01T00:00:00"},
    {"part": 3, "promised_date": "20270201"},  # ISO basic format: API.md's dates are YYYY-MM-DD
    {"part": 3, "promised_date": "2027-W05-2"},  # an ISO week date
    {"part": 3, "promised_date": "2027-2-1"},
    {"part": 1, "promised_date": "2027-02-01", "promissed_date": "2027-03-01"},  # an unknown field: a typo
    {"part": 1, "ppap_status": "approved"},  # a supplier may not decide the PPAP
    {"part": 1, "ppap_status": "SUBMITTED"},
    {"part": 1, "tooling_stage": ""},
    {"part": 1, "note": "a\x00b"},
    {"part": 1, "note": "\ud800"},
    {"part": 1, "note": "x" * 10001},
    {"part": 1, "capacity_per_week": -1},
    {"part": 1, "capacity_per_week": 2147483648},
    {"part": 1},
    {"part": 1, "program": "P1", "note": "x"},
    {"program": "P1", "note": "x"},
    {"program": "", "part_number": "X", "note": "x"},
    {"program": "P" * 33, "part_number": "X", "note": "x"},
    [],
    "x",
    None,
]


@pytest.mark.parametrize("data", GOOD)
def test_good_input_validates_as_drf_validates_it(data):
    serializer = SupplierUpdateWriteSerializer(context={"is_supplier": True})
    assert dict(serializer.run_validation(data)) == dict(drf_validation(serializer, data))


@pytest.mark.parametrize("data", BAD)
def test_bad_input_fails_as_drf_fails_it(data):
    serializer = SupplierUpdateWriteSerializer(context={"is_supplier": True})
    with pytest.raises(serializers.ValidationError) as fast:
        serializer.run_validation(data)
    with pytest.raises(serializers.ValidationError) as drf:
        drf_validation(serializer, data)
    assert fast.value.detail == drf.value.detail


def test_a_batch_names_each_bad_item_and_field(at_today):
    part = PartFactory()
    items, errors, locked = supplier_update_items(
        [
            {"part": part.pk, "promised_date": date(2027, 2, 1).isoformat()},
            {"part": part.pk, "promised_date": "2027-02-30"},
            {"part": part.pk + 1000, "note": "x"},
        ],
        parts=Part.objects.all(),
        is_supplier=True,
    )
    assert items == [] and locked is None
    assert errors[0] == {}
    assert list(errors[1]) == ["promised_date"]
    assert errors[2] == {"part": [f"No part with id {part.pk + 1000}."]}
