"""Handover sign-off through the admin action: a refusal is shown and changes nothing."""

from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import ChecklistFactory, EngineerFactory, ItemFactory, ValidationTestFactory, launch_manager
from validation import services
from validation.models import HandoverChecklist, HandoverItem

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:validation_handoverchecklist_changelist"


def _sign_off(client, action, checklists, **extra):
    response = client.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [c.pk for c in checklists], **extra}, follow=True
    )
    assert response.status_code == 200
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_refused_sign_off_shows_the_error_and_changes_nothing(at_today, engineer_client, engineer_user):
    checklist = ChecklistFactory(area="Paint", rd_owner=engineer_user)
    ItemFactory(checklist=checklist, title="Oven curve approved")

    messages = _sign_off(engineer_client, "sign_off_rd", [checklist])

    assert messages == [("error", "Cannot sign off Paint: 1 required item is not done: 'Oven curve approved'.")]
    checklist.refresh_from_db()
    assert checklist.rd_signed_off_at is None
    assert checklist.history.count() == 1


def test_sign_off_after_marking_items_done_in_the_admin(at_today, engineer_client, engineer_user):
    checklist = ChecklistFactory(area="Paint", production_owner=engineer_user)
    items = [ItemFactory(checklist=checklist, title=t) for t in ("Oven curve approved", "Sealer robots validated")]
    response = engineer_client.post(
        reverse("admin:validation_handoveritem_changelist"),
        {"action": "mark_done", "_selected_action": [i.pk for i in items]},
        follow=True,
    )
    assert response.status_code == 200
    assert set(HandoverItem.objects.values_list("done_by", flat=True)) == {engineer_user.pk}

    messages = _sign_off(engineer_client, "sign_off_production", [checklist])

    assert messages == [("success", "1 checklist signed off.")]
    checklist = HandoverChecklist.objects.get(pk=checklist.pk)
    assert checklist.production_signed_off_by == engineer_user
    assert checklist.history.first().history_user == engineer_user
    html = engineer_client.get(reverse(CHANGELIST)).content.decode()
    assert "✔ Signed" in html and "▲ Unsigned" in html


@pytest.mark.parametrize(
    "open_items, done_items, expected",
    [
        (1, 0, ("success", "1 item marked done.")),
        (2, 1, ("success", "2 items marked done; 1 was already done.")),
        (1, 2, ("success", "1 item marked done; 2 were already done.")),
        (0, 1, ("info", "0 items marked done; 1 was already done.")),
    ],
)
def test_mark_done_says_how_many_items_it_marked(
    at_today, engineer_client, engineer_user, open_items, done_items, expected
):
    checklist = ChecklistFactory(area="Paint", production_owner=engineer_user)
    earlier = EngineerFactory(username="tomas")
    done = [ItemFactory(checklist=checklist, title=f"Done {n}", responsible=earlier) for n in range(done_items)]
    for item in done:
        services.item_mark_done(item=item, actor=earlier)
    items = done + [ItemFactory(checklist=checklist, title=f"Open {n}") for n in range(open_items)]

    response = engineer_client.post(
        reverse("admin:validation_handoveritem_changelist"),
        {"action": "mark_done", "_selected_action": [i.pk for i in items]},
        follow=True,
    )

    assert [(m.level_tag, str(m)) for m in response.context["messages"]] == [expected]
    assert HandoverItem.objects.filter(done_at__isnull=True).count() == 0
    assert HandoverItem.objects.filter(done_by=earlier).count() == done_items  # the earlier marks stay


def test_validation_test_form_explains_a_refused_waiver_and_dates(at_today, engineer_client):

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
        "Waiver reason: a waived test needs a reason.",
        "Planned end: must not be before the planned start.",
    }
    test.refresh_from_db()
    assert test.status == "in_progress"


@pytest.fixture
def signed(at_today, engineer_user):
    """The Paint checklist with its one required item done and the R&D side signed off by erin; one optional item."""
    checklist = ChecklistFactory(area="Paint", rd_owner=engineer_user)
    done = ItemFactory(checklist=checklist, title="Oven curve approved")
    services.item_mark_done(item=done, actor=engineer_user, evidence="Report PNT-001")
    ItemFactory(checklist=checklist, title="Colour poster", required=False)
    return services.checklist_sign_off(checklist=checklist, side="rd", actor=engineer_user)


SIGNED_BY_ERIN = "Checklist 'Paint' is signed off by R&D (erin, 2027-01-04); withdraw the sign-off before"


def _item_form(item, **changes) -> dict:
    data = {
        "checklist": item.checklist_id,
        "title": item.title,
        "responsible": item.responsible_id,
        "due_date": item.due_date.isoformat(),
        "evidence": item.evidence,
        "files-TOTAL_FORMS": 0,  # the page's evidence files inline, with no file to attach
        "files-INITIAL_FORMS": 0,
        "_save": "Save",
    }
    if item.required:
        data["required"] = "on"
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def _post_item(client, item, **changes):
    url = reverse("admin:validation_handoveritem_change", args=[item.pk])
    return client.post(url, _item_form(item, **changes))


def test_item_form_refuses_to_open_a_required_item_on_a_signed_off_checklist(signed, engineer_client):
    poster = signed.items.get(title="Colour poster")
    elsewhere = ItemFactory(checklist=ChecklistFactory(program=signed.program, area="Body"), title="Sealer robots")
    stored = list(HandoverItem.objects.order_by("id").values())

    made_required = _post_item(engineer_client, poster, required="on")
    moved_in = _post_item(engineer_client, elsewhere, checklist=signed.pk)
    added = engineer_client.post(
        reverse("admin:validation_handoveritem_add"),
        _item_form(ItemFactory.build(checklist=signed, title="Late-added audit", responsible=None), responsible=""),
    )

    assert [r.status_code for r in (made_required, moved_in, added)] == [200, 200, 200]
    assert made_required.context["adminform"].form.errors == {
        "required": [f"{SIGNED_BY_ERIN} making the open item 'Colour poster' required."]
    }
    assert moved_in.context["adminform"].form.errors == {
        "checklist": [f"{SIGNED_BY_ERIN} moving the open required item 'Sealer robots' into it."]
    }
    assert added.context["adminform"].form.errors == {
        "checklist": [f"{SIGNED_BY_ERIN} adding 'Late-added audit' as a required item that is not done."]
    }
    assert list(HandoverItem.objects.order_by("id").values()) == stored


def test_item_form_still_edits_done_and_optional_items_of_a_signed_off_checklist(signed, engineer_client):
    done = signed.items.get(title="Oven curve approved")
    poster = signed.items.get(title="Colour poster")

    renamed = _post_item(engineer_client, done, title="Oven curve v2 approved", evidence="Report PNT-002")
    retitled = _post_item(engineer_client, poster, title="Colour poster A1")

    assert [renamed.status_code, retitled.status_code] == [302, 302]
    done.refresh_from_db()
    assert (done.title, done.evidence, done.done) == ("Oven curve v2 approved", "Report PNT-002", True)
    assert done.history.first().history_user.username == "erin"
    assert signed.items.filter(title="Colour poster A1", required=False).exists()


def _checklist_form(checklist, rows) -> dict:
    data = {
        "program": checklist.program_id,
        "area": checklist.area,
        "rd_owner": checklist.rd_owner_id,
        "production_owner": checklist.production_owner_id,
        "items-TOTAL_FORMS": len(rows),
        "items-INITIAL_FORMS": sum(1 for row in rows if row.get("id")),
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
        "_save": "Save",
    }
    for n, row in enumerate(rows):
        data.update({f"items-{n}-{name}": value for name, value in row.items()})
        data[f"items-{n}-checklist"] = checklist.pk
    return data


def _rows(checklist) -> list[dict]:
    rows = []
    for item in checklist.items.order_by("due_date", "id"):
        row = {"id": item.pk, "title": item.title, "due_date": item.due_date.isoformat(), "evidence": item.evidence}
        if item.required:
            row["required"] = "on"
        rows.append(row)
    return rows


def test_checklist_inline_refuses_a_new_open_required_item_on_a_signed_off_checklist(signed, engineer_client):
    url = reverse("admin:validation_handoverchecklist_change", args=[signed.pk])
    stored = list(HandoverItem.objects.order_by("id").values())
    new_row = {"title": "Late-added audit", "due_date": "2027-02-01", "required": "on", "evidence": ""}

    refused = engineer_client.post(url, _checklist_form(signed, [*_rows(signed), new_row]))

    assert refused.status_code == 200
    (formset,) = refused.context["inline_admin_formsets"]
    assert [form.errors for form in formset.formset.forms] == [
        {},
        {},
        {"__all__": [f"{SIGNED_BY_ERIN} adding 'Late-added audit' as a required item that is not done."]},
    ]
    assert f"{SIGNED_BY_ERIN} adding 'Late-added audit'" in unescape(refused.content.decode())
    assert list(HandoverItem.objects.order_by("id").values()) == stored

    optional_row = {name: value for name, value in new_row.items() if name != "required"}
    saved = engineer_client.post(url, _checklist_form(signed, [*_rows(signed), optional_row]))
    assert saved.status_code == 302
    added = signed.items.get(title="Late-added audit")
    assert (added.required, added.history.first().history_user.username) == (False, "erin")
    signed.refresh_from_db()
    assert signed.rd_signed_off_at is not None


def _revert_url(obj, version) -> str:
    return reverse(f"admin:validation_{obj._meta.model_name}_simple_history", args=[obj.pk, version.history_id])


@pytest.mark.django_db(transaction=True)  # the revert form runs outside the test's transaction, as in production
def test_reverting_a_done_item_to_its_open_version_is_refused_on_a_signed_off_checklist(signed, engineer_client):
    item = signed.items.get(title="Oven curve approved")
    open_version = item.history.earliest("history_id")
    assert open_version.done_at is None

    refused = engineer_client.post(_revert_url(item, open_version), _item_form(item))

    assert refused.status_code == 200
    assert refused.context["adminform"].form.non_field_errors() == [
        f"{SIGNED_BY_ERIN} reopening the required item 'Oven curve approved'."
    ]
    item.refresh_from_db()
    assert item.done and item.history.count() == 2


@pytest.mark.django_db(transaction=True)
def test_reverting_a_checklist_leaves_its_sign_offs_alone(signed, engineer_client, engineer_user):
    signed_version = signed.history.latest("history_id")
    services.checklist_withdraw_sign_off(checklist=signed, side="rd", actor=launch_manager(), reason="Oven re-profiled")
    services.item_reopen(item=signed.items.get(title="Oven curve approved"), actor=engineer_user)
    form = {
        "program": signed.program_id,
        "area": "Paint shop",
        "rd_owner": signed.rd_owner_id,
        "production_owner": signed.production_owner_id,
        "_save": "Save",
    }

    reverted = engineer_client.post(_revert_url(signed, signed_version), form)

    assert reverted.status_code == 302
    signed.refresh_from_db()
    assert (signed.area, signed.rd_signed_off_at, signed.rd_signed_off_by) == ("Paint shop", None, None)
    assert signed.history.latest("history_id").rd_signed_off_at is None


def test_withdrawing_a_sign_off_in_the_admin_lets_a_refused_change_through(signed, engineer_client, engineer_user):
    poster = signed.items.get(title="Colour poster")
    assert _post_item(engineer_client, poster, required="on").status_code == 200  # refused while signed off
    unsigned = ChecklistFactory(program=signed.program, area="Body")
    engineer_user.groups.add(Group.objects.get_or_create(name="launch_managers")[0])

    messages = _sign_off(engineer_client, "withdraw_rd", [signed, unsigned], reason="Poster made mandatory")

    assert messages == [("success", "R&D sign-off withdrawn from 1 checklist; 1 was not signed off.")]
    assert signed.history.first().history_change_reason == "R&D sign-off withdrawn: Poster made mandatory"
    signed.refresh_from_db()
    assert (signed.rd_signed_off_at, signed.history.first().history_user.username) == (None, "erin")
    assert unsigned.history.count() == 1
    assert _post_item(engineer_client, poster, required="on").status_code == 302
    poster.refresh_from_db()
    assert (poster.required, poster.done) == (True, False)


# --- Trust in the admin: the same refusals as the API, shown on the page ---------------------------------------------


def test_the_admin_refuses_a_sign_off_by_someone_else_naming_the_owner(at_today, engineer_client):
    checklist = ChecklistFactory(area="Paint", rd_owner=EngineerFactory(username="li.wei"))
    for item in [ItemFactory(checklist=checklist, title="Oven curve approved")]:
        services.item_mark_done(item=item, actor=checklist.rd_owner)

    messages = _sign_off(engineer_client, "sign_off_rd", [checklist])

    assert messages == [
        (
            "error",
            "Only li.wei may sign off the R&D side of Paint (its R&D owner or a delegate the owner named); "
            "you are erin.",
        )
    ]
    checklist.refresh_from_db()
    assert checklist.rd_signed_off_at is None


def test_the_admin_refuses_a_withdrawal_without_a_launch_manager_or_a_reason(signed, engineer_client, engineer_user):
    not_manager = _sign_off(engineer_client, "withdraw_rd", [signed], reason="Poster made mandatory")
    assert not_manager == [("error", "Only a launch manager (the group has no members yet) may withdraw a sign-off.")]
    engineer_user.groups.add(Group.objects.get_or_create(name="launch_managers")[0])
    no_reason = _sign_off(engineer_client, "withdraw_rd", [signed])
    assert no_reason == [("error", "Say why the R&D sign-off is withdrawn.")]
    signed.refresh_from_db()
    assert signed.rd_signed_off_at is not None


def test_the_admin_refuses_to_mark_someone_elses_item_done_or_a_required_one_without_evidence(
    at_today, engineer_client, engineer_user
):
    theirs = ItemFactory(checklist=ChecklistFactory(area="Paint"), title="Oven curve approved")
    mine = ItemFactory(checklist=theirs.checklist, title="Sealer robots", responsible=engineer_user, evidence="")
    response = engineer_client.post(
        reverse("admin:validation_handoveritem_changelist"),
        {"action": "mark_done", "_selected_action": [theirs.pk, mine.pk]},
        follow=True,
    )
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    owners = sorted([theirs.responsible.username, theirs.checklist.rd_owner.username])
    assert messages[0][0] == "error" and messages[0][1].startswith(f"Only {owners[0]}, ")
    assert messages[1] == (
        "error",
        "'Sealer robots' is required: give its evidence (text or link) or an attached file to mark it done.",
    )
    assert messages[2] == ("info", "0 items marked done.")
    assert not HandoverItem.objects.filter(done_at__isnull=False).exists()


def _test_form(test, **changes) -> dict:
    data = {
        "program": test.program_id,
        "code": test.code,
        "name": test.name,
        "phase": "pv",
        "owner": test.owner_id,
        "planned_start": "2026-12-01",
        "planned_end": "2027-02-01",
        "status": test.status,
        "required_for_sop": "on",
        "result_note": test.result_note,
        "completed_on": "",
        "waiver_reason": "",
        "_save": "Save",
    }
    return {**data, **changes}


def test_the_admin_test_form_applies_the_status_rules(at_today, engineer_client, engineer_user):
    test = ValidationTestFactory(code="PV-CRASH-01")
    url = reverse("admin:validation_validationtest_change", args=[test.pk])

    failed = engineer_client.post(url, _test_form(test, status="failed"))
    waived = engineer_client.post(url, _test_form(test, status="waived", waiver_reason="Carry-over from SU6"))
    assert failed.context["adminform"].form.errors == {
        "result_note": ["PV-CRASH-01 failed: say what failed in the result note."]
    }
    assert waived.context["adminform"].form.errors == {
        "status": ["Only a launch manager (the group has no members yet) may waive PV-CRASH-01."]
    }
    test.refresh_from_db()
    assert test.status == "in_progress"

    engineer_user.groups.add(Group.objects.get_or_create(name="launch_managers")[0])
    saved = engineer_client.post(url, _test_form(test, status="waived", waiver_reason="Carry-over from SU6"))
    assert saved.status_code == 302
    test.refresh_from_db()
    assert (test.status, test.waiver_reason, test.history.first().history_user) == (
        "waived",
        "Carry-over from SU6",
        engineer_user,
    )
    passed = ValidationTestFactory(code="PV-ROOF-01")
    engineer_client.post(
        reverse("admin:validation_validationtest_change", args=[passed.pk]), _test_form(passed, status="passed")
    )
    passed.refresh_from_db()
    assert (passed.status, passed.completed_on.isoformat()) == ("passed", "2027-01-04")
