"""Handover sign-off through the admin action: a refusal is shown and changes nothing."""

import pytest
from django.urls import reverse

from tests.factories import ChecklistFactory, ItemFactory
from validation.models import HandoverChecklist, HandoverItem

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:validation_handoverchecklist_changelist"


def _sign_off(client, action, checklists):
    response = client.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [c.pk for c in checklists]}, follow=True
    )
    assert response.status_code == 200
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_refused_sign_off_shows_the_error_and_changes_nothing(at_today, engineer_client):
    checklist = ChecklistFactory(area="Paint")
    ItemFactory(checklist=checklist, title="Oven curve approved")

    messages = _sign_off(engineer_client, "sign_off_rd", [checklist])

    assert messages == [("error", "Cannot sign off Paint: 1 required item is not done: 'Oven curve approved'.")]
    checklist.refresh_from_db()
    assert checklist.rd_signed_off_at is None
    assert checklist.history.count() == 1


def test_sign_off_after_marking_items_done_in_the_admin(at_today, engineer_client, engineer_user):
    checklist = ChecklistFactory(area="Paint")
    items = [ItemFactory(checklist=checklist, title=t) for t in ("Oven curve approved", "Sealer robots validated")]
    response = engineer_client.post(
        reverse("admin:validation_handoveritem_changelist"),
        {"action": "mark_done", "_selected_action": [i.pk for i in items]},
        follow=True,
    )
    assert response.status_code == 200
    assert set(HandoverItem.objects.values_list("done_by", flat=True)) == {engineer_user.pk}

    messages = _sign_off(engineer_client, "sign_off_production", [checklist])

    assert messages == [("success", "1 checklist(s) signed off.")]
    checklist = HandoverChecklist.objects.get(pk=checklist.pk)
    assert checklist.production_signed_off_by == engineer_user
    assert checklist.history.first().history_user == engineer_user
    html = engineer_client.get(reverse(CHANGELIST)).content.decode()
    assert "✔ Signed" in html and "▲ Unsigned" in html


def test_validation_test_form_explains_a_refused_waiver_and_dates(at_today, engineer_client):
    from tests.factories import ValidationTestFactory

    test = ValidationTestFactory(code="PV-CRASH-01")
    data = {
        "program": test.program_id,
        "code": test.code,
        "name": test.name,
        "phase": "pv",
        "owner": test.owner_id,
        "planned_start": "2027-02-02",
        "planned_end": "2027-02-01",
        "status": "waived",
        "required_for_sop": "on",
        "result_note": "",
        "completed_on": "",
        "_save": "Save",
    }
    response = engineer_client.post(reverse("admin:validation_validationtest_change", args=[test.pk]), data)
    assert response.status_code == 200
    assert set(response.context["adminform"].form.non_field_errors()) == {
        "Result note: a waived test needs a reason.",
        "Planned end: must not be before the planned start.",
    }
    test.refresh_from_db()
    assert test.status == "in_progress"
