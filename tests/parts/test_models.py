"""Database constraints of the parts app: bad values are refused by the database itself, not only by forms."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from parts.models import Part, Supplier, SupplierUpdate, SupplierUser
from tests.factories import PartFactory, ProgramFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


def _refused(queryset, **values):
    """The database rejects writing `values` to every row of `queryset`; nothing changes."""
    with pytest.raises(IntegrityError), transaction.atomic():
        queryset.update(**values)


@pytest.mark.parametrize(
    "field, bad",
    [
        ("ppap_status", "approved_by_fax"),
        ("ppap_status", ""),
        ("criticality", "meh"),
        ("tooling_stage", "hand_made"),
        ("qty_per_vehicle", 0),
        ("ppap_level", 6),
        ("ppap_level", 0),
        ("capacity_per_week", -1),
    ],
)
def test_part_refuses_bad_values_written_past_validation(field, bad):
    part = PartFactory()
    before = getattr(part, field)
    _refused(Part.objects.filter(pk=part.pk), **{field: bad})
    part.refresh_from_db()
    assert getattr(part, field) == before


@pytest.mark.parametrize("field, good", [("ppap_level", 1), ("ppap_level", 5), ("capacity_per_week", 0)])
def test_part_accepts_the_edges(field, good):
    part = PartFactory()
    Part.objects.filter(pk=part.pk).update(**{field: good})
    part.refresh_from_db()
    assert getattr(part, field) == good


def test_part_number_and_revision_unique_within_a_program_only():
    program, other = ProgramFactory(), ProgramFactory()
    PartFactory(program=program, part_number="BM-100", revision="B")
    with pytest.raises(IntegrityError), transaction.atomic():
        PartFactory(program=program, part_number="BM-100", revision="B")
    PartFactory(program=program, part_number="BM-100", revision="C")
    PartFactory(program=other, part_number="BM-100", revision="B")
    assert Part.objects.filter(part_number="BM-100").count() == 3


def test_supplier_code_unique():
    SupplierFactory(code="CATL-NB")
    with pytest.raises(IntegrityError), transaction.atomic():
        Supplier.objects.create(code="CATL-NB", name="Copy")


def test_supplier_user_belongs_to_one_supplier():
    user = UserFactory()
    SupplierUser.objects.create(user=user, supplier=SupplierFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        SupplierUser.objects.create(user=user, supplier=SupplierFactory())


def test_supplier_in_use_cannot_be_deleted():
    from django.db.models import ProtectedError

    part = PartFactory()
    with pytest.raises(ProtectedError):
        part.supplier.delete()


@pytest.mark.parametrize("field, bad", [("ppap_status", "approved_by_fax"), ("tooling_stage", "hand_made")])
def test_supplier_update_refuses_bad_enum_values(field, bad, at_today):
    part = PartFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SupplierUpdate.objects.bulk_create([SupplierUpdate(part=part, reported_at=part.created_at, **{field: bad})])
    assert not SupplierUpdate.objects.exists()


def test_supplier_update_is_append_only(at_today):
    part = PartFactory()
    update = SupplierUpdate.objects.create(part=part, reported_at=part.created_at, promised_date=date(2027, 2, 1))
    update.note = "edited"
    with pytest.raises(ValueError, match="append-only"):
        update.save()
    with pytest.raises(ValueError, match="append-only"):
        update.delete()
    assert SupplierUpdate.objects.get().note == ""
