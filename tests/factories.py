"""Factories for test data. Dates default around a pinned TODAY so tests read like the rules."""

from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model

from parts.choices import PPAPStatus
from parts.models import CapacityLine, Part, Supplier, SupplierUser
from parts.services import api_token_issue
from sopgate.models import Program, RampStep, WorkCalendar
from validation.choices import TestPhase, TestStatus
from validation.models import HandoverChecklist, HandoverItem, ValidationTest

TODAY = date(2027, 1, 4)
SOP = date(2027, 3, 1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-only")


def launch_manager(username: str = "lena"):
    """An engineer in the `launch_managers` group (made by migration sopgate 0009)."""
    from django.contrib.auth.models import Group

    user = EngineerFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name="launch_managers")[0])
    return user


class EngineerFactory(UserFactory):
    is_staff = True


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"P{n}")
    name = factory.LazyAttribute(lambda p: f"Program {p.code}")
    sop_date = SOP
    owner = factory.SubFactory(EngineerFactory)


class RampStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RampStep

    program = factory.SubFactory(ProgramFactory)
    month = date(2027, 7, 1)
    planned_vehicles = 10000


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SUP{n}")
    name = factory.LazyAttribute(lambda s: f"Supplier {s.code}")
    country = "DE"
    alert_emails = factory.LazyAttribute(lambda s: [f"alerts@{s.code.lower()}.example"])


class SupplierUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierUser

    user = factory.SubFactory(UserFactory)
    supplier = factory.SubFactory(SupplierFactory)


class PartFactory(factory.django.DjangoModelFactory):
    """A healthy part: sourced, approved, promised well before need, capacity confirmed, updated recently."""

    class Meta:
        model = Part

    program = factory.SubFactory(ProgramFactory)
    part_number = factory.Sequence(lambda n: f"PN-{n:05d}")
    revision = "A"
    name = "Seat frame"
    supplier = factory.SubFactory(SupplierFactory)
    owner = factory.SubFactory(EngineerFactory)
    qty_per_vehicle = 1
    promised_date = factory.LazyAttribute(lambda p: p.program.sop_date - timedelta(days=40))
    ppap_status = PPAPStatus.APPROVED
    capacity_per_week = 100000
    last_supplier_update_at = None


class WorkCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkCalendar
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"CAL{n}")
    name = factory.LazyAttribute(lambda c: f"Calendar {c.code}")
    working_weekdays = factory.LazyFunction(lambda: [1, 2, 3, 4, 5])
    closed_dates = factory.LazyFunction(list)


class CapacityLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CapacityLine

    part = factory.SubFactory("tests.factories.PartFactory")
    effective_from = date(2027, 1, 1)
    capacity_per_week = 1000
    reported_by_username = "factory"


class ValidationTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ValidationTest

    program = factory.SubFactory(ProgramFactory)
    code = factory.Sequence(lambda n: f"T-{n:04d}")
    name = "Frontal crash"
    phase = TestPhase.PV
    owner = factory.SubFactory(EngineerFactory)
    planned_start = date(2026, 12, 1)
    planned_end = date(2027, 2, 1)
    status = TestStatus.IN_PROGRESS
    required_for_sop = True


class ChecklistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HandoverChecklist

    program = factory.SubFactory(ProgramFactory)
    area = factory.Sequence(lambda n: f"Area {n}")
    rd_owner = factory.SubFactory(EngineerFactory)
    production_owner = factory.SubFactory(EngineerFactory)


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HandoverItem

    checklist = factory.SubFactory(ChecklistFactory)
    title = factory.Sequence(lambda n: f"Item {n}")
    responsible = factory.SubFactory(EngineerFactory)
    due_date = date(2027, 2, 1)
    required = True
    evidence = factory.Sequence(lambda n: f"Report HO-{n:04d}")  # a required item is marked done with evidence


def api_token(user) -> str:
    """A new API token for `user`, as `create_api_token` issues it."""
    return api_token_issue(user=user)
