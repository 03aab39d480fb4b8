"""What the admin refuses so the gate can always run: dates beyond the planning horizon, quantities beyond any
plan; what it no longer allows: deleting the gate's own records; and the supplier's alert contacts as a list."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from parts.models import Part, Supplier
from sopgate.models import Alert, Blocker, Program, RampStep
from sopgate.services import program_scan
from sopgate.validators import MAX_PLANNED_VEHICLES, MAX_QTY_PER_VEHICLE
from tests.factories import PartFactory, ProgramFactory, RampStepFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def _change_form_data(client, url) -> dict:
    """The change form's current values, as the browser would post them back."""
    form = client.get(url).context["adminform"].form
    data = {"_save": "Save"}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else field.prepare_value(value)
    return data


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("promised_date", "9999-12-25", "Enter a date on or before 2999-12-31."),
        ("need_date", "0001-01-01", "Enter a date on or after 1900-01-01."),
        ("ppap_due_date", "3000-01-01", "Enter a date on or before 2999-12-31."),
        ("qty_per_vehicle", str(MAX_QTY_PER_VEHICLE + 1), f"less than or equal to {MAX_QTY_PER_VEHICLE}"),
    ],
)
def test_part_form_refuses_values_the_gate_cannot_compute_with(at_today, engineer_client, field, value, message):
    part = PartFactory()
    url = reverse("admin:parts_part_change", args=[part.pk])
    before = Part.objects.values().get(pk=part.pk)
    data = {**_change_form_data(engineer_client, url), field: value}
    response = engineer_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(message in error for error in errors[field]), errors
    assert Part.objects.values().get(pk=part.pk) == before


def test_program_form_refuses_a_sop_date_beyond_the_horizon(at_today, engineer_client):
    program = ProgramFactory()
    url = reverse("admin:sopgate_program_change", args=[program.pk])
    data = {
        **_change_form_data(engineer_client, url),
        "sop_date": "0001-01-05",
        "ramp_steps-TOTAL_FORMS": "0",
        "ramp_steps-INITIAL_FORMS": "0",
    }
    response = engineer_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["sop_date"] == ["Enter a date on or after 1900-01-01."]
    assert Program.objects.get(pk=program.pk).sop_date == program.sop_date


def test_ramp_step_says_why_a_month_is_refused():
    step = RampStep(program=ProgramFactory(), month=date(2027, 2, 15), planned_vehicles=100)
    with pytest.raises(ValidationError) as refused:
        step.full_clean()
    assert "Use the first day of the month." in refused.value.messages
    step.month, step.planned_vehicles = date(2027, 2, 1), MAX_PLANNED_VEHICLES + 1
    with pytest.raises(ValidationError) as refused:
        step.full_clean()
    assert set(refused.value.message_dict) == {"planned_vehicles"}


def test_the_largest_allowed_plan_scans_and_renders(at_today, engineer_client):
    # A part needed MAX_QTY_PER_VEHICLE times in a vehicle, MAX_PLANNED_VEHICLES vehicles a month: the weekly
    # demand the capacity rule and the program page compute stays far inside a 64-bit integer.
    program = ProgramFactory(code="BIG")
    RampStepFactory(program=program, month=date(2027, 7, 1), planned_vehicles=MAX_PLANNED_VEHICLES)
    part = PartFactory(program=program, qty_per_vehicle=MAX_QTY_PER_VEHICLE, capacity_per_week=1)
    program_scan(program_id=program.pk)
    assert Blocker.objects.filter(rule="capacity_shortfall", object_id=part.pk, resolved_at__isnull=True).exists()
    assert engineer_client.get(reverse("dashboard:program", args=[program.code])).status_code == 200


def test_blockers_and_alerts_cannot_be_deleted_in_the_admin(at_today, engineer_client):
    program = ProgramFactory()
    PartFactory(program=program, supplier=None)  # part_unsourced: a blocking blocker and its alert
    program_scan(program_id=program.pk)
    blocker = Blocker.objects.get()
    alert = Alert.objects.first()
    for name, obj in (("sopgate_blocker", blocker), ("sopgate_alert", alert)):
        assert engineer_client.get(reverse(f"admin:{name}_delete", args=[obj.pk])).status_code == 403
        changelist = engineer_client.get(reverse(f"admin:{name}_changelist"))
        action_form = changelist.context["action_form"]  # None when no action is left
        assert action_form is None or "delete_selected" not in dict(action_form.fields["action"].choices)
        response = engineer_client.post(
            reverse(f"admin:{name}_changelist"), {"action": "delete_selected", "_selected_action": [obj.pk]}
        )
        assert response.status_code in (200, 302)
    assert Blocker.objects.filter(pk=blocker.pk).exists() and Alert.objects.filter(pk=alert.pk).exists()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("", []),
        ("quality@catl.example", ["quality@catl.example"]),
        ("a@catl.example, b@catl.example\nc@catl.example", ["a@catl.example", "b@catl.example", "c@catl.example"]),
    ],
)
def test_supplier_alert_emails_are_typed_as_a_list(engineer_client, typed, stored):
    supplier = SupplierFactory(alert_emails=["old@catl.example"])
    url = reverse("admin:parts_supplier_change", args=[supplier.pk])
    data = _change_form_data(engineer_client, url)
    assert data["alert_emails"] == "old@catl.example"
    response = engineer_client.post(url, {**data, "alert_emails": typed})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Supplier.objects.get(pk=supplier.pk).alert_emails == stored


def test_supplier_alert_emails_name_the_address_that_is_not_one(engineer_client):
    supplier = SupplierFactory(alert_emails=["old@catl.example"])
    url = reverse("admin:parts_supplier_change", args=[supplier.pk])
    data = {**_change_form_data(engineer_client, url), "alert_emails": "ok@catl.example, not-an-email"}
    response = engineer_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["alert_emails"] == ["Not an email address: not-an-email."]
    assert Supplier.objects.get(pk=supplier.pk).alert_emails == ["old@catl.example"]


def test_part_form_keeps_a_part_with_tests_in_its_program(at_today, engineer_client):
    from tests.factories import ValidationTestFactory

    part = PartFactory()
    ValidationTestFactory(program=part.program, part=part)
    other = ProgramFactory(code="SU8")
    url = reverse("admin:parts_part_change", args=[part.pk])
    response = engineer_client.post(url, {**_change_form_data(engineer_client, url), "program": other.pk})
    assert response.status_code == 200
    assert "move or delete them before moving the part" in response.context["adminform"].form.errors["program"][0]
    assert Part.objects.get(pk=part.pk).program_id == part.program_id


def test_owner_choices_leave_supplier_logins_out(engineer_client):
    from tests.factories import EngineerFactory, SupplierUserFactory

    engineer = EngineerFactory(username="olga")
    supplier_login = SupplierUserFactory().user
    part = PartFactory()
    url = reverse("admin:parts_part_change", args=[part.pk])
    owners = engineer_client.get(url).context["adminform"].form.fields["owner"].queryset
    assert engineer in owners and supplier_login not in owners
    data = {**_change_form_data(engineer_client, url), "owner": supplier_login.pk}
    response = engineer_client.post(url, data)
    assert response.status_code == 200 and "owner" in response.context["adminform"].form.errors


def test_supplier_country_is_an_iso_code(engineer_client):
    supplier = SupplierFactory(country="DE")
    url = reverse("admin:parts_supplier_change", args=[supplier.pk])
    response = engineer_client.post(url, {**_change_form_data(engineer_client, url), "country": "zz"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["country"] == [
        "Use an ISO 3166 alpha-2 code in capitals, e.g. DE."
    ]


def test_a_nul_in_a_page_query_is_a_400_not_a_500(engineer_client):
    PartFactory()
    for url in (
        "/admin/autocomplete/?term=a%00b&app_label=parts&model_name=part&field_name=supplier",
        "/admin/parts/part/?q=a%00b",
        "/programs/SU7%00/",
        "/programs/SU7%00/report.csv",
    ):
        response = engineer_client.get(url)
        assert response.status_code == 400, (url, response.status_code)
        assert b"NUL" in response.content


def test_the_admin_keeps_a_part_with_supplier_updates(at_today, engineer_client):
    from django.utils import timezone

    from parts.models import SupplierUpdate

    part = PartFactory()
    SupplierUpdate.objects.create(part=part, reported_at=timezone.now(), note="on track")
    response = engineer_client.post(reverse("admin:parts_part_delete", args=[part.pk]), {"post": "yes"})
    assert response.status_code == 200  # the "cannot delete" page, naming what protects it
    assert "<title>Cannot delete part" in response.content.decode()
    assert Part.objects.filter(pk=part.pk).exists() and SupplierUpdate.objects.filter(part=part).exists()


def test_a_scanned_program_is_archived_not_deleted_with_its_gate_records(at_today, engineer_client):
    # Changed deliberately (was: "a scanned program can be deleted with its gate records"): the gate's history of
    # a program is the record of its decisions; the admin refuses, naming it and the way out (archiving).
    program = ProgramFactory(code="SU7")
    PartFactory(program=program, supplier=None)
    program_scan(program_id=program.pk)
    assert Blocker.objects.filter(program=program).exists()
    url = reverse("admin:sopgate_program_delete", args=[program.pk])
    page = engineer_client.get(url)
    assert page.status_code == 200 and not page.context["perms_lacking"]
    assert page.context["protected"] == [
        "Program SU7 has gate history (1 blocker, 1 alert) and is kept as the record of the gate's decisions: archive it "
        'instead (action "Archive selected programs").'
    ]
    response = engineer_client.post(url, {"post": "yes"})
    assert response.status_code == 200 and "Cannot delete program" in response.content.decode()
    assert Program.objects.filter(pk=program.pk).exists() and Blocker.objects.filter(program=program).exists()


def test_a_program_without_gate_history_can_still_be_deleted(at_today, engineer_client):
    program = ProgramFactory()
    PartFactory(program=program, supplier=None)
    url = reverse("admin:sopgate_program_delete", args=[program.pk])
    page = engineer_client.get(url)
    assert page.status_code == 200 and not page.context["perms_lacking"] and not page.context["protected"]
    response = engineer_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Program.objects.filter(pk=program.pk).exists() and not Part.objects.exists()


def test_a_test_and_its_part_share_a_program_in_the_admin(at_today, engineer_client):
    from tests.factories import ValidationTestFactory
    from validation.models import ValidationTest

    test = ValidationTestFactory()
    elsewhere = PartFactory(program=ProgramFactory(code="SU8"))
    url = reverse("admin:validation_validationtest_change", args=[test.pk])
    response = engineer_client.post(url, {**_change_form_data(engineer_client, url), "part": elsewhere.pk})
    assert response.status_code == 200
    assert "belongs to another program" in response.context["adminform"].form.errors["part"][0]
    assert ValidationTest.objects.get(pk=test.pk).part_id == test.part_id


def test_an_owner_does_not_become_a_suppliers_login(engineer_client):
    from parts.models import SupplierUser
    from tests.factories import UserFactory

    owner = UserFactory(username="olaf")
    PartFactory(owner=owner)
    supplier = SupplierFactory()
    response = engineer_client.post(
        reverse("admin:parts_supplieruser_add"), {"user": owner.pk, "supplier": supplier.pk, "_save": "Save"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["user"] == [
        "olaf owns parts; give those to someone else before making this login a supplier's."
    ]
    assert not SupplierUser.objects.exists()


def test_program_gate_settings_are_changed_by_a_launch_manager_only(at_today, engineer_client, engineer_user):
    from django.contrib.auth.models import Group

    program = ProgramFactory(code="SU7")
    url = reverse("admin:sopgate_program_change", args=[program.pk])
    data = {
        **_change_form_data(engineer_client, url),
        "ramp_steps-TOTAL_FORMS": "0",
        "ramp_steps-INITIAL_FORMS": "0",
        "ppap_lead_days": "14",
    }
    refused = engineer_client.post(url, data)
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["ppap_lead_days"] == [
        "Only a launch manager (the group has no members yet) may change SU7's gate settings (ppap_lead_days)."
    ]
    assert Program.objects.get(pk=program.pk).ppap_lead_days == 28
    engineer_user.groups.add(Group.objects.get_or_create(name="launch_managers")[0])
    assert engineer_client.post(url, data).status_code == 302
    assert Program.objects.get(pk=program.pk).ppap_lead_days == 14
