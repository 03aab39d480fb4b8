"""Change pages show what the gate thinks and carry one-click buttons that go through the services, with the same
refusals as the list actions and forms; the lists filter late and blocked rows; names read as people's names."""

from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from parts.choices import PPAPStatus
from parts.models import SupplierUpdate
from sopgate.models import Blocker, DigestDelivery
from sopgate.services import program_scan
from tests.factories import ChecklistFactory, EngineerFactory, ItemFactory, PartFactory, ValidationTestFactory
from validation.choices import TestStatus as Status
from validation.models import ValidationTest

pytestmark = pytest.mark.django_db


def _press(client, obj, name, **data):
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_button", args=[obj.pk, name])
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_part_page_shows_dates_blockers_and_update_history(at_today, engineer_client):
    part = PartFactory(part_number="SEAT-1", supplier=None, need_date=None)
    SupplierUpdate.objects.create(
        part=part, reported_by=EngineerFactory(first_name="Sam", last_name="Supplier"), reported_at=datetime(
            2026, 11, 2, 8, tzinfo=UTC), capacity_per_week=1234, note="Second shift from May")  # fmt: skip
    program_scan(program_id=part.program_id)
    assert Blocker.objects.filter(object_id=part.pk, resolved_at__isnull=True).exists()

    page = unescape(engineer_client.get(reverse("admin:parts_part_change", args=[part.pk])).content.decode())
    need = (part.program.sop_date - timedelta(days=part.program.part_lead_days)).isoformat()
    assert f'Effective need date</th><td class="sg-nowrap">{need}' in page
    assert "PPAP due" in page
    assert "Open blockers (1)" in page and "no supplier" in page.lower()
    assert "Supplier updates (1)" in page and "Sam Supplier" in page and "Second shift from May" in page
    assert ">Approve PPAP</button>" not in page  # already approved
    assert ">Mark received today</button>" in page


def test_approve_ppap_button(at_today, engineer_client):
    part = PartFactory(ppap_status=PPAPStatus.SUBMITTED)
    page = engineer_client.get(reverse("admin:parts_part_change", args=[part.pk])).content.decode()
    assert ">Approve PPAP</button>" in page
    assert _press(engineer_client, part, "approve_ppap_button") == [
        ("success", f"PPAP of {part.part_number} approved.")
    ]
    part.refresh_from_db()
    assert part.ppap_status == PPAPStatus.APPROVED


def test_a_button_is_pressed_by_post_only_and_unknown_buttons_are_404(engineer_client):
    part = PartFactory(ppap_status=PPAPStatus.SUBMITTED)
    url = reverse("admin:parts_part_button", args=[part.pk, "approve_ppap_button"])
    assert engineer_client.get(url).status_code == 405
    assert engineer_client.post(reverse("admin:parts_part_button", args=[part.pk, "delete"])).status_code == 404
    part.refresh_from_db()
    assert part.ppap_status == PPAPStatus.SUBMITTED


def test_mark_done_button_refuses_like_the_action(at_today, engineer_client, engineer_user):
    item = ItemFactory(title="Oven curve", evidence="")
    assert _press(engineer_client, item, "mark_done_button") == [
        ("error", unescape(_refusal_someone_else(item, engineer_user)))
    ]
    item.responsible = engineer_user
    item.save()
    [(level, text)] = _press(engineer_client, item, "mark_done_button")
    assert level == "error" and "give its evidence" in text
    assert _press(engineer_client, item, "mark_done_button", evidence="Report 7") == [
        ("success", "'Oven curve' marked done.")
    ]
    item.refresh_from_db()
    assert item.done_at is not None and item.done_by == engineer_user and item.evidence == "Report 7"


def _refusal_someone_else(item, user):
    from validation.services import item_mark_done

    try:
        item_mark_done(item=item, actor=user)
    except Exception as refused:  # noqa: BLE001 - the refusal's own text
        return refused.message
    raise AssertionError("not refused")


def test_sign_off_and_withdraw_buttons_keep_the_rules(at_today, engineer_client, engineer_user):
    checklist = ChecklistFactory(area="Paint")
    [(level, text)] = _press(engineer_client, checklist, "sign_off_rd_button")
    assert level == "error" and checklist.rd_owner.username in text
    checklist.rd_owner = engineer_user
    checklist.save()
    ItemFactory(checklist=checklist, done_at=datetime(2026, 11, 1, tzinfo=UTC), done_by=engineer_user)
    assert _press(engineer_client, checklist, "sign_off_rd_button") == [("success", "1 checklist signed off.")]
    page = engineer_client.get(reverse("admin:validation_handoverchecklist_change", args=[checklist.pk]))
    assert ">Withdraw R&amp;D sign-off</button>" in page.content.decode()
    [(level, text)] = _press(engineer_client, checklist, "withdraw_rd_button", reason="Oven re-profiled")
    assert level == "error" and "may withdraw a sign-off" in text
    engineer_user.groups.add(Group.objects.get_or_create(name="launch_managers")[0])
    [(level, text)] = _press(engineer_client, checklist, "withdraw_rd_button", reason="")
    assert level == "error"
    [(level, text)] = _press(engineer_client, checklist, "withdraw_rd_button", reason="Oven re-profiled")
    assert level == "success"
    checklist.refresh_from_db()
    assert checklist.rd_signed_off_at is None


def test_record_result_buttons_apply_the_status_rules(at_today, engineer_client):
    test = ValidationTestFactory(code="PV-CRASH-01")
    assert _press(engineer_client, test, "record_failed") == [
        ("error", "PV-CRASH-01 failed: say what failed in the result note.")
    ]
    assert _press(engineer_client, test, "record_failed", note="B-pillar cracked") == [
        ("success", "PV-CRASH-01 recorded failed.")
    ]
    assert _press(engineer_client, test, "record_passed") == [("success", "PV-CRASH-01 recorded passed.")]
    test = ValidationTest.objects.get(pk=test.pk)
    assert test.status == Status.PASSED and test.result_note == "B-pillar cracked" and test.completed_on


def test_lists_filter_late_and_blocked(at_today, engineer_client):
    healthy = PartFactory(part_number="OK-1")
    unsourced = PartFactory(part_number="NOSUP-1", supplier=None)
    program_scan(program_id=unsourced.program_id)
    program_scan(program_id=healthy.program_id)
    changelist = reverse("admin:parts_part_changelist")
    blocked = engineer_client.get(changelist, {"blocked": "blocking"}).content.decode()
    assert "NOSUP-1" in blocked and "OK-1" not in blocked
    clean = engineer_client.get(changelist, {"blocked": "no"}).content.decode()
    assert "OK-1" in clean and "NOSUP-1" not in clean
    late_test = ValidationTestFactory(code="LATE-1", planned_end=at_today - timedelta(days=3))
    ValidationTestFactory(code="SOON-1", planned_end=at_today + timedelta(days=3))
    late = engineer_client.get(reverse("admin:validation_validationtest_changelist"), {"late": "yes"}).content.decode()
    assert late_test.code in late and "SOON-1" not in late
    ItemFactory(title="Overdue item", due_date=at_today - timedelta(days=1))
    ItemFactory(title="Later item", due_date=at_today + timedelta(days=1))
    late = engineer_client.get(reverse("admin:validation_handoveritem_changelist"), {"late": "yes"}).content.decode()
    assert "Overdue item" in late and "Later item" not in late


def test_lists_show_full_names_and_readable_labels(engineer_client):
    owner = EngineerFactory(username="o.wner", first_name="Olga", last_name="Owner")
    PartFactory(owner=owner)
    page = engineer_client.get(reverse("admin:parts_part_changelist")).content.decode()
    assert "Olga Owner" in page and "o.wner" not in page
    assert DigestDelivery._meta.verbose_name_plural == "digest deliveries"
    assert ValidationTest._meta.get_field("required_for_sop").verbose_name == "required for SOP"
    assert "Digest deliveries" in engineer_client.get(reverse("admin:index")).content.decode()
    ValidationTestFactory()
    tests_list = engineer_client.get(reverse("admin:validation_validationtest_changelist")).content.decode()
    assert "Required for SOP" in tests_list


def test_part_page_charts_its_demand_against_capacity_week_by_week(at_today, engineer_client):
    """SOP Monday 1 March 2027: March's 2,300 vehicles over its 23 working days make 500 in the SOP week, against
    a capacity of 400 a week: short by 100 at the end of 2027-W09."""
    from tests.factories import CapacityLineFactory, RampStepFactory

    part = PartFactory(part_number="SEAT-2", capacity_per_week=400)
    RampStepFactory(program=part.program, month=part.program.sop_date.replace(day=1), planned_vehicles=2300)
    CapacityLineFactory(part=part, effective_from=at_today, capacity_per_week=400)
    page = unescape(engineer_client.get(reverse("admin:parts_part_change", args=[part.pk])).content.decode())
    assert "The ramp, week by week" in page and '<svg class="wc-svg"' in page
    assert "Short from 2027-W09: cumulative demand exceeds cumulative capacity." in page
    assert "Short by 100 units at the end of 2027-W09." in page
    assert "<title>2027-W09: capacity 400, demand 500</title>" in page
    assert 'charts/weeks.css"' in page  # the chart's stylesheet is on the admin's pages
    add = engineer_client.get(reverse("admin:parts_part_add")).content.decode()
    assert "The ramp, week by week" not in add and "What the gate thinks" not in add
