"""Handover sign-off: refused while required items are open (naming them), attributable once allowed."""

from datetime import datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.factories import TODAY, ChecklistFactory, EngineerFactory, ItemFactory
from validation.models import HandoverChecklist
from validation.services import checklist_sign_off, item_mark_done

pytestmark = pytest.mark.django_db


@pytest.fixture
def checklist(at_today):
    checklist = ChecklistFactory(area="Battery pack")
    ItemFactory(checklist=checklist, title="Leak test validated")
    ItemFactory(checklist=checklist, title="Work instructions signed")
    ItemFactory(checklist=checklist, title="Nice-to-have poster", required=False)
    return checklist


def test_sign_off_refused_naming_the_open_required_items(checklist):
    with pytest.raises(ValidationError) as refused:
        checklist_sign_off(checklist=checklist, side="rd", actor=EngineerFactory())
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
    lead = EngineerFactory(username="tomas")
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
        item_mark_done(item=item, actor=EngineerFactory())
    first = EngineerFactory()
    checklist_sign_off(checklist=checklist, side="rd", actor=first)
    again = checklist_sign_off(checklist=checklist, side="rd", actor=EngineerFactory())
    assert again.rd_signed_off_by == first
    assert checklist.history.count() == 2
