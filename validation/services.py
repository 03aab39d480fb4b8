"""Writes to validation tests and handover checklists."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .choices import SignOffSide
from .models import HandoverChecklist, HandoverItem

_SIDE_FIELDS = {
    SignOffSide.RD: ("rd_signed_off_by", "rd_signed_off_at", "rd_signed_off"),
    SignOffSide.PRODUCTION: ("production_signed_off_by", "production_signed_off_at", "production_signed_off"),
}


def checklist_open_required_items(checklist: HandoverChecklist) -> list[HandoverItem]:
    return list(checklist.items.filter(required=True, done_at__isnull=True).order_by("due_date", "id"))


def checklist_sign_off(
    *, checklist: HandoverChecklist, side: str, actor, now: datetime | None = None
) -> HandoverChecklist:
    """Sign off one side of a checklist. Refused, naming the open items, while a required item is not done."""
    by_field, at_field, api_field = _SIDE_FIELDS[SignOffSide(side)]
    with transaction.atomic():
        checklist = HandoverChecklist.objects.select_for_update().get(pk=checklist.pk)
        if getattr(checklist, at_field) is not None:
            return checklist
        open_items = checklist_open_required_items(checklist)
        if open_items:
            titles = "; ".join(f"'{item.title}'" for item in open_items[:10])
            more = f" and {len(open_items) - 10} more" if len(open_items) > 10 else ""
            raise ValidationError(
                {
                    api_field: [
                        f"Cannot sign off {checklist.area}: {len(open_items)} required item"
                        f"{'s are' if len(open_items) != 1 else ' is'} not done: {titles}{more}."
                    ]
                }
            )
        setattr(checklist, by_field, actor)
        setattr(checklist, at_field, now or timezone.now())
        checklist._history_user = actor
        checklist.save(update_fields=[by_field, at_field])
    return checklist


def checklist_withdraw_sign_off(*, checklist: HandoverChecklist, side: str, actor) -> HandoverChecklist:
    by_field, at_field, _ = _SIDE_FIELDS[SignOffSide(side)]
    with transaction.atomic():
        checklist = HandoverChecklist.objects.select_for_update().get(pk=checklist.pk)
        setattr(checklist, by_field, None)
        setattr(checklist, at_field, None)
        checklist._history_user = actor
        checklist.save(update_fields=[by_field, at_field])
    return checklist


def item_mark_done(
    *, item: HandoverItem, actor, evidence: str | None = None, now: datetime | None = None
) -> HandoverItem:
    if item.done_at is None:
        item.done_at = now or timezone.now()
        item.done_by = actor
    if evidence is not None:
        item.evidence = evidence
    item._history_user = actor
    item.save()
    return item


def item_reopen(*, item: HandoverItem, actor) -> HandoverItem:
    item.done_at = None
    item.done_by = None
    item._history_user = actor
    item.save()
    return item
