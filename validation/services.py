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

# The stored sign-offs, as columns: who (the key's column) and when, of each side.
_SIGN_OFF_COLUMNS = [column for by, at, _ in _SIDE_FIELDS.values() for column in (f"{by}_id", at)]


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
    """Withdraw one side's sign-off; a side that is not signed off is left as it is (no history row)."""
    by_field, at_field, _ = _SIDE_FIELDS[SignOffSide(side)]
    with transaction.atomic():
        checklist = HandoverChecklist.objects.select_for_update().get(pk=checklist.pk)
        if getattr(checklist, at_field) is None:
            return checklist
        setattr(checklist, by_field, None)
        setattr(checklist, at_field, None)
        checklist._history_user = actor
        checklist.save(update_fields=[by_field, at_field])
    return checklist


def checklist_save(*, checklist: HandoverChecklist, actor) -> HandoverChecklist:
    """Save a checklist's own fields (area, owners) and keep its sign-offs as they are stored.

    Sign-offs change only through `checklist_sign_off` (which checks the items) and `checklist_withdraw_sign_off`.
    A form saves the whole row, and a revert in the admin brings an old version's sign-offs back with it: that would
    sign a checklist off again over open items, or drop a sign-off given since the form was opened.
    """
    with transaction.atomic():
        if checklist.pk is not None:
            stored = HandoverChecklist.objects.select_for_update().filter(pk=checklist.pk).values(*_SIGN_OFF_COLUMNS)
            for name, value in stored.get().items():
                setattr(checklist, name, value)
        checklist._history_user = actor
        checklist.save()
    return checklist


def _sign_offs(checklist: HandoverChecklist) -> list[str]:
    """'R&D (alice, 2026-11-20)' for each signed side; a signer whose account was deleted shows as nobody."""
    signed = []
    for side, (by_field, at_field, _) in _SIDE_FIELDS.items():
        at = getattr(checklist, at_field)
        if at is not None:
            by = getattr(checklist, by_field)
            label = side.label if side == SignOffSide.RD else side.label.lower()
            signed.append(f"{label} ({by.get_username() if by else 'nobody'}, {timezone.localdate(at).isoformat()})")
    return signed


def item_check_sign_offs(*, item: HandoverItem) -> None:
    """Refuse to let `item`, as it is about to be saved, add an open required item to a signed-off checklist.

    A side signs off a checklist because every required item is done (`checklist_sign_off`); a required item that
    is added, reopened, made required or moved in afterwards would leave that signature standing over open work.
    The signature is a person's statement, so it is not withdrawn behind their back: the change is refused until
    someone withdraws it (`checklist_withdraw_sign_off`). Items already open on a signed-off checklist (from before
    this rule) may still be edited; only the change that would open one is refused.

    Locks the target checklist, as `checklist_sign_off` does, so a sign-off and such a change cannot both pass;
    call it inside the transaction that saves the item. Raises a ValidationError naming the field that was changed.
    """
    if not item.required or item.done_at is not None or item.checklist_id is None:
        return
    checklist = (
        HandoverChecklist.objects.select_for_update(of=("self",))
        .select_related("rd_signed_off_by", "production_signed_off_by")
        .get(pk=item.checklist_id)
    )
    signed = _sign_offs(checklist)
    if not signed:
        return
    stored = None
    if item.pk is not None:
        stored = (
            HandoverItem.objects.select_for_update()
            .filter(pk=item.pk)
            .values("checklist_id", "required", "done_at")
            .first()
        )
    if stored is None:
        field, change = "checklist", f"adding '{item.title}' as a required item that is not done"
    elif stored["checklist_id"] != item.checklist_id:
        field, change = "checklist", f"moving the open required item '{item.title}' into it"
    elif stored["done_at"] is not None:
        field, change = "done", f"reopening the required item '{item.title}'"
    elif not stored["required"]:
        field, change = "required", f"making the open item '{item.title}' required"
    else:
        return  # already open and required on this checklist: this change does not open anything
    sign_off = "the sign-off" if len(signed) == 1 else "the sign-offs"
    raise ValidationError(
        {
            field: [
                f"Checklist '{checklist.area}' is signed off by {' and '.join(signed)}; "
                f"withdraw {sign_off} before {change}."
            ]
        }
    )


def item_save(*, item: HandoverItem, actor, done: bool | None = None, now: datetime | None = None) -> HandoverItem:
    """Save a new or changed item (its fields set by the caller), marked done (`done=True`, by `actor`, now) or
    reopened (`done=False`) on the way. Refused, changing nothing, where `item_check_sign_offs` refuses."""
    was_done = item.done_at, item.done_by
    if done is True and item.done_at is None:
        item.done_at, item.done_by = now or timezone.now(), actor
    elif done is False:
        item.done_at, item.done_by = None, None
    try:
        with transaction.atomic():
            item_check_sign_offs(item=item)
            item._history_user = actor
            item.save()
    except ValidationError:
        item.done_at, item.done_by = was_done
        raise
    return item


def item_mark_done(
    *, item: HandoverItem, actor, evidence: str | None = None, now: datetime | None = None
) -> HandoverItem:
    if evidence is not None:
        item.evidence = evidence
    return item_save(item=item, actor=actor, done=True, now=now)


def item_reopen(*, item: HandoverItem, actor) -> HandoverItem:
    """Refused while the item is required and its checklist is signed off (see `item_check_sign_offs`)."""
    return item_save(item=item, actor=actor, done=False)
