"""Handover sign-off: refused while required items are open (naming them), attributable once allowed; and once
signed off, no item change may open a required item behind the signature."""

from datetime import datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sopgate.roles import NotPermitted
from tests.factories import TODAY, ChecklistFactory, EngineerFactory, ItemFactory, launch_manager
from validation.models import HandoverChecklist, HandoverItem
from validation.services import (
    checklist_save,
    checklist_sign_off,
    checklist_withdraw_sign_off,
    item_mark_done,
    item_reopen,
    item_save,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def checklist(at_today):
    checklist = ChecklistFactory(
        area="Battery pack",
        rd_owner=EngineerFactory(username="alice"),
        production_owner=EngineerFactory(username="tomas"),
    )
    ItemFactory(checklist=checklist, title="Leak test validated")
    ItemFactory(checklist=checklist, title="Work instructions signed")
    ItemFactory(checklist=checklist, title="Nice-to-have poster", required=False)
    return checklist


def test_sign_off_refused_naming_the_open_required_items(checklist):
    with pytest.raises(ValidationError) as refused:
        checklist_sign_off(checklist=checklist, side="rd", actor=checklist.rd_owner)
    assert refused.value.message_dict == {
        "rd_signed_off": [
            "Cannot sign off Battery pack: 2 required items are not done: "
            "'Leak test validated'; 'Work instructions signed'."
        ]
    }
    checklist.refresh_from_db()
    assert (checklist.rd_signed_off_by, checklist.rd_signed_off_at) == (None, None)
    assert checklist.history.count() == 1


def test_sign_off_succeeds_once_required_items_are_done_and_records_the_actor(checklist, time_machine):
    lead = checklist.production_owner
    for item in checklist.items.filter(required=True):
        item_mark_done(item=item, actor=lead, evidence="Report BAT-001")
    later = timezone.make_aware(datetime.combine(TODAY, time(11, 0)))
    time_machine.move_to(later, tick=False)

    signed = checklist_sign_off(checklist=checklist, side="production", actor=lead)

    assert (signed.production_signed_off_by, signed.production_signed_off_at) == (lead, later)
    assert signed.rd_signed_off_at is None  # one side only
    record = HandoverChecklist.history.filter(id=checklist.pk).first()
    assert (record.history_user, record.production_signed_off_by_id) == (lead, lead.pk)
    item_record = checklist.items.filter(required=True).first().history.first()
    assert (item_record.history_user, item_record.done_by_id) == (lead, lead.pk)


def test_sign_off_twice_changes_nothing(checklist):
    for item in checklist.items.all():
        item_mark_done(item=item, actor=checklist.rd_owner)
    first = checklist.rd_owner
    checklist_sign_off(checklist=checklist, side="rd", actor=first)
    again = checklist_sign_off(checklist=checklist, side="rd", actor=EngineerFactory())
    assert again.rd_signed_off_by == first
    assert checklist.history.count() == 2


@pytest.fixture
def signed(checklist):
    """The Battery pack checklist with its required items done and the R&D side signed off by alice, its owner."""
    alice = checklist.rd_owner
    for item in checklist.items.filter(required=True):
        item_mark_done(item=item, actor=alice, evidence="Report BAT-001")
    return checklist_sign_off(checklist=checklist, side="rd", actor=alice)


def _refused(change, signed) -> dict:
    """Run `change`, expect a refusal, and check that nothing was written: items, their history, the sign-off."""
    items = list(HandoverItem.objects.order_by("id").values())
    history = HandoverItem.history.count()
    with pytest.raises(ValidationError) as refused:
        change()
    assert list(HandoverItem.objects.order_by("id").values()) == items
    assert HandoverItem.history.count() == history
    signed.refresh_from_db()
    assert signed.rd_signed_off_at is not None
    return refused.value.message_dict


SIGNED_BY_ALICE = "Checklist 'Battery pack' is signed off by R&D (alice, 2027-01-04); withdraw the sign-off before"


def test_adding_an_open_required_item_to_a_signed_off_checklist_is_refused(signed):
    late = HandoverItem(checklist=signed, title="Late-added torque audit", required=True)

    errors = _refused(lambda: item_save(item=late, actor=EngineerFactory()), signed)

    assert errors == {
        "checklist": [f"{SIGNED_BY_ALICE} adding 'Late-added torque audit' as a required item that is not done."]
    }


def test_reopening_a_required_item_of_a_signed_off_checklist_is_refused(signed):
    item = signed.items.get(title="Leak test validated")

    errors = _refused(lambda: item_reopen(item=item, actor=EngineerFactory()), signed)

    assert errors == {"done": [f"{SIGNED_BY_ALICE} reopening the required item 'Leak test validated'."]}
    assert item.done  # the caller's copy is left as it is stored


def test_making_an_open_item_required_on_a_signed_off_checklist_is_refused(signed):
    poster = signed.items.get(title="Nice-to-have poster")
    poster.required = True

    errors = _refused(lambda: item_save(item=poster, actor=EngineerFactory()), signed)

    assert errors == {"required": [f"{SIGNED_BY_ALICE} making the open item 'Nice-to-have poster' required."]}


def test_moving_an_open_required_item_into_a_signed_off_checklist_is_refused(signed):
    elsewhere = ItemFactory(checklist=ChecklistFactory(program=signed.program), title="Coolant fill validated")
    elsewhere.checklist = signed

    errors = _refused(lambda: item_save(item=elsewhere, actor=EngineerFactory()), signed)

    assert errors == {
        "checklist": [f"{SIGNED_BY_ALICE} moving the open required item 'Coolant fill validated' into it."]
    }


def test_refusal_names_both_sides_and_a_deleted_signer(signed, time_machine):
    time_machine.move_to(timezone.make_aware(datetime(2027, 1, 6, 10, 0)), tick=False)
    tomas = signed.production_owner
    checklist_sign_off(checklist=signed, side="production", actor=tomas)
    signed.refresh_from_db()
    signed.rd_signed_off_by.delete()
    item = signed.items.get(title="Work instructions signed")

    errors = _refused(lambda: item_reopen(item=item, actor=tomas), signed)

    assert errors == {
        "done": [
            "Checklist 'Battery pack' is signed off by R&D (nobody, 2027-01-04) and production (tomas, 2027-01-06); "
            "withdraw the sign-offs before reopening the required item 'Work instructions signed'."
        ]
    }


def test_changes_that_open_no_required_item_still_work_on_a_signed_off_checklist(signed):
    lead = signed.production_owner
    done = signed.items.get(title="Leak test validated")
    done.title, done.evidence = "Leak test validated at 2 bar", "Report BAT-002"
    item_save(item=done, actor=lead)
    poster = signed.items.get(title="Nice-to-have poster")
    item_mark_done(item=poster, actor=lead)
    item_reopen(item=poster, actor=lead)  # not required: the signature does not cover it
    item_save(item=HandoverItem(checklist=signed, title="Optional photo board", required=False), actor=lead)
    already_done = item_save(
        item=HandoverItem(checklist=signed, title="Torque audit", evidence="Audit TA-7"), actor=lead, done=True
    )
    done.required = False
    item_save(item=done, actor=lead)
    done.required = True  # back to required: it is done, so nothing opens
    item_save(item=done, actor=lead)

    signed.refresh_from_db()
    assert signed.rd_signed_off_by.username == "alice"
    assert list(signed.items.filter(required=True, done_at__isnull=True)) == []
    assert (already_done.done_by, signed.items.get(title="Leak test validated at 2 bar").evidence) == (
        lead,
        "Report BAT-002",
    )
    assert signed.items.get(title="Torque audit").history.first().history_user == lead


def test_an_item_left_open_before_the_rule_can_still_be_edited(signed):
    stale = ItemFactory(checklist=signed, title="Operator training")  # written around the services, as old data was
    stale.evidence = "Training plan v2"
    item_save(item=stale, actor=EngineerFactory())
    stale.refresh_from_db()
    assert (stale.evidence, stale.done) == ("Training plan v2", False)


def test_after_withdrawing_the_sign_off_items_can_be_reopened_and_added(signed):
    lead = signed.production_owner
    checklist_withdraw_sign_off(checklist=signed, side="rd", actor=launch_manager(), reason="Leak test redone")
    item = item_reopen(item=signed.items.get(title="Leak test validated"), actor=lead)
    item_save(item=HandoverItem(checklist=signed, title="Late-added torque audit"), actor=lead)

    assert not item.done
    assert signed.items.filter(required=True, done_at__isnull=True).count() == 2
    with pytest.raises(ValidationError):
        checklist_sign_off(checklist=signed, side="rd", actor=signed.rd_owner)


def test_saving_a_checklist_keeps_the_stored_sign_offs(signed):
    stale = HandoverChecklist.objects.get(pk=signed.pk)  # a form opened while R&D had signed off
    lead = signed.production_owner
    checklist_withdraw_sign_off(checklist=signed, side="rd", actor=launch_manager(), reason="Leak test redone")
    item_reopen(item=signed.items.get(title="Leak test validated"), actor=lead)

    stale.area = "Battery pack and BMS"
    checklist_save(checklist=stale, actor=lead)

    signed.refresh_from_db()
    assert (signed.area, signed.rd_signed_off_at, signed.rd_signed_off_by) == ("Battery pack and BMS", None, None)
    record = signed.history.first()
    assert (record.history_user, record.rd_signed_off_at) == (lead, None)
    withdrawal = signed.history.all()[1]
    assert (withdrawal.history_user.username, withdrawal.history_change_reason) == (
        "lena",
        "R&D sign-off withdrawn: Leak test redone",
    )


def test_withdrawing_a_side_that_is_not_signed_off_changes_nothing(signed):
    checklist_withdraw_sign_off(checklist=signed, side="production", actor=launch_manager(), reason="Not signed")
    signed.refresh_from_db()
    assert signed.rd_signed_off_at is not None
    assert signed.history.count() == 2  # created, signed off by R&D


# --- Trust: who may sign off, withdraw, mark done (DOMAIN.md "Trust: who may do what") -------------------------------


def _all_required_done(checklist):
    for item in checklist.items.filter(required=True):
        item_mark_done(item=item, actor=checklist.production_owner)


def test_only_the_sides_owner_or_a_delegate_signs_it_off(checklist):
    _all_required_done(checklist)
    stranger = EngineerFactory(username="engineer")
    with pytest.raises(NotPermitted) as refused:
        checklist_sign_off(checklist=checklist, side="rd", actor=stranger)
    assert refused.value.message_dict == {
        "rd_signed_off": [
            "Only alice may sign off the R&D side of Battery pack (its R&D owner or a delegate the owner named); "
            "you are engineer."
        ]
    }
    checklist.refresh_from_db()
    assert checklist.rd_signed_off_at is None and checklist.history.count() == 1

    deputy = EngineerFactory(username="deputy")
    checklist.rd_delegates.add(deputy)
    with pytest.raises(NotPermitted, match=r"^Only alice or deputy may sign off the R&D side"):
        checklist_sign_off(checklist=checklist, side="rd", actor=stranger)
    assert checklist_sign_off(checklist=checklist, side="rd", actor=deputy).rd_signed_off_by == deputy


def test_the_two_sides_are_signed_by_two_different_people(checklist):
    _all_required_done(checklist)
    alice = checklist.rd_owner
    checklist.production_delegates.add(alice)
    checklist_sign_off(checklist=checklist, side="rd", actor=alice)
    with pytest.raises(ValidationError) as refused:
        checklist_sign_off(checklist=checklist, side="production", actor=alice)
    assert refused.value.message_dict == {
        "production_signed_off": [
            "alice signed off the R&D side of Battery pack; the two sides are signed by two different people."
        ]
    }
    checklist.refresh_from_db()
    assert checklist.production_signed_off_at is None
    checklist_sign_off(checklist=checklist, side="production", actor=checklist.production_owner)


def test_withdrawing_a_sign_off_needs_a_launch_manager_and_a_reason(signed):
    with pytest.raises(NotPermitted) as refused:
        checklist_withdraw_sign_off(checklist=signed, side="rd", actor=signed.rd_owner, reason="changed my mind")
    assert refused.value.message_dict == {
        "rd_signed_off": ["Only a launch manager (the group has no members yet) may withdraw a sign-off."]
    }
    lena = launch_manager()
    with pytest.raises(NotPermitted, match=r"Only a launch manager \(lena\) may withdraw"):
        checklist_withdraw_sign_off(checklist=signed, side="rd", actor=signed.rd_owner, reason="changed my mind")
    with pytest.raises(ValidationError) as no_reason:
        checklist_withdraw_sign_off(checklist=signed, side="rd", actor=lena, reason="  ")
    assert no_reason.value.message_dict == {"withdrawal_reason": ["Say why the R&D sign-off is withdrawn."]}
    signed.refresh_from_db()
    assert signed.rd_signed_off_at is not None and signed.history.count() == 2


def test_an_item_is_marked_done_by_its_responsible_person_or_a_checklist_owner(checklist):
    item = checklist.items.get(title="Leak test validated")
    item.responsible = EngineerFactory(username="wei")
    item.save()
    with pytest.raises(NotPermitted) as refused:
        item_mark_done(item=item, actor=EngineerFactory(username="engineer"))
    assert refused.value.message_dict == {
        "done": [
            "Only alice, tomas or wei may mark 'Leak test validated' done (its responsible person or an owner of its "
            "checklist); you are engineer."
        ]
    }
    item.refresh_from_db()
    assert not item.done and item.history.count() == 2
    for actor in (item.responsible, checklist.rd_owner):
        item_reopen(item=item_mark_done(item=item, actor=actor), actor=actor)


def test_a_required_item_needs_evidence_to_be_marked_done(checklist):
    item = checklist.items.get(title="Leak test validated")
    item.evidence = ""
    item.save()
    with pytest.raises(ValidationError) as refused:
        item_mark_done(item=item, actor=item.responsible)
    assert refused.value.message_dict == {
        "evidence": [
            "'Leak test validated' is required: give its evidence (text or link) or an attached file to mark it done."
        ]
    }
    item.refresh_from_db()
    assert not item.done
    optional = checklist.items.get(title="Nice-to-have poster")
    optional.evidence = ""
    assert item_mark_done(item=optional, actor=optional.responsible).done  # evidence is asked of required items
    assert item_mark_done(item=item, actor=item.responsible, evidence="https://plm.example/LT-4").done
