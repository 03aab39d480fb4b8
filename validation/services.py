"""Writes to validation tests and handover checklists, with the trust rules of DOMAIN.md: who may sign off, mark an
item done or waive a test, and what each needs first. A refusal changes nothing and names who may act
(`sopgate.roles.NotPermitted`, 403 in the API) or what is missing (ValidationError, 400)."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from parts.services import evidence_file_keep
from sopgate.roles import NotPermitted, launch_manager_names, people_text, user_is_launch_manager

from .choices import SignOffSide, TestStatus
from .models import HandoverChecklist, HandoverItem, HandoverItemFile, ValidationTest

_SIDE_FIELDS = {
    SignOffSide.RD: ("rd_signed_off_by", "rd_signed_off_at", "rd_signed_off"),
    SignOffSide.PRODUCTION: ("production_signed_off_by", "production_signed_off_at", "production_signed_off"),
}

# The stored sign-offs, as columns: who (the key's column) and when, of each side.
_SIGN_OFF_COLUMNS = [column for by, at, _ in _SIDE_FIELDS.values() for column in (f"{by}_id", at)]


def checklist_open_required_items(checklist: HandoverChecklist) -> list[HandoverItem]:
    return list(checklist.items.filter(required=True, done_at__isnull=True).order_by("due_date", "id"))


def checklist_signers(checklist: HandoverChecklist, side: str) -> list:
    """Who may sign `side` of the checklist: its owner of that side and the delegates that owner named."""
    owner = checklist.rd_owner if side == SignOffSide.RD else checklist.production_owner
    delegates = checklist.rd_delegates if side == SignOffSide.RD else checklist.production_delegates
    return [person for person in (owner, *delegates.all()) if person is not None]


def _check_signer(checklist: HandoverChecklist, side: str, actor) -> None:
    by_field, _, api_field = _SIDE_FIELDS[SignOffSide(side)]
    label = SignOffSide(side).label
    signers = checklist_signers(checklist, side)
    if actor not in signers:
        raise NotPermitted(
            api_field,
            f"Only {people_text(signers)} may sign off the {label} side of {checklist.area} (its {label} owner or "
            f"a delegate the owner named); you are {actor.get_username()}.",
        )
    other = SignOffSide.PRODUCTION if side == SignOffSide.RD else SignOffSide.RD
    other_by, other_at, _ = _SIDE_FIELDS[other]
    if getattr(checklist, other_at) is not None and getattr(checklist, f"{other_by}_id") == actor.pk:
        raise ValidationError(
            {
                api_field: [
                    f"{actor.get_username()} signed off the {other.label} side of {checklist.area}; the two sides are "
                    f"signed by two different people."
                ]
            }
        )


def checklist_sign_off(
    *, checklist: HandoverChecklist, side: str, actor, now: datetime | None = None
) -> HandoverChecklist:
    """Sign off one side of a checklist, as its owner of that side or a delegate, and not as the other side's
    signer. Refused, naming the open items, while a required item is not done."""
    by_field, at_field, api_field = _SIDE_FIELDS[SignOffSide(side)]
    with transaction.atomic():
        checklist = (
            HandoverChecklist.objects.select_for_update(of=("self",))
            .select_related("rd_owner", "production_owner")
            .get(pk=checklist.pk)
        )
        if getattr(checklist, at_field) is not None:
            return checklist
        _check_signer(checklist, side, actor)
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


def checklist_withdraw_sign_off(
    *, checklist: HandoverChecklist, side: str, actor, reason: str = ""
) -> HandoverChecklist:
    """Withdraw one side's sign-off: a launch manager's decision, with a reason (kept as the history row's change
    reason). A side that is not signed off is left as it is (no history row)."""
    by_field, at_field, api_field = _SIDE_FIELDS[SignOffSide(side)]
    if not user_is_launch_manager(actor):
        raise NotPermitted(api_field, f"Only {launch_manager_names()} may withdraw a sign-off.")
    reason = (reason or "").strip()
    with transaction.atomic():
        checklist = HandoverChecklist.objects.select_for_update().get(pk=checklist.pk)
        if getattr(checklist, at_field) is None:
            return checklist
        if not reason:
            raise ValidationError(
                {"withdrawal_reason": [f"Say why the {SignOffSide(side).label} sign-off is withdrawn."]}
            )
        setattr(checklist, by_field, None)
        setattr(checklist, at_field, None)
        checklist._history_user = actor
        checklist._change_reason = f"{SignOffSide(side).label} sign-off withdrawn: {reason}"[:100]
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


def item_finishers(item: HandoverItem) -> list:
    """Who may mark the item done: its responsible person and the owners of its checklist."""
    checklist = item.checklist
    return [person for person in (item.responsible, checklist.rd_owner, checklist.production_owner) if person]


def _check_finisher(item: HandoverItem, actor, field: str, action: str) -> None:
    finishers = item_finishers(item)
    if finishers and actor not in finishers:
        raise NotPermitted(
            field,
            f"Only {people_text(finishers)} may {action} (its responsible person or an owner of its checklist); "
            f"you are {actor.get_username()}.",
        )


def item_has_evidence(item: HandoverItem) -> bool:
    """Evidence text (a link or a reference) or an attached file: what a required item needs to be marked done."""
    return bool((item.evidence or "").strip()) or (item.pk is not None and item.files.exists())


def _check_done(item: HandoverItem, actor) -> None:
    _check_finisher(item, actor, "done", f"mark '{item.title}' done")
    if item.required and not item_has_evidence(item):
        raise ValidationError(
            {
                "evidence": [
                    f"'{item.title}' is required: give its evidence (text or link) or an attached file to mark it done."
                ]
            }
        )


def item_check_attacher(*, item: HandoverItem, actor) -> None:
    """Refuse (NotPermitted naming who may) `actor` attaching evidence to `item` as it is about to be saved."""
    _check_finisher(item, actor, "file", f"attach evidence to '{item.title}'")


def item_file_add(*, item: HandoverItem, actor, upload) -> HandoverItemFile:
    """Attach `upload` to `item` as its evidence, by its responsible person or a checklist owner (anyone when none
    is named, as for marking it done). The size and type limits and the store are the parts' evidence files'
    (`parts.services.evidence_file_keep`): a refused file names the limit and nothing is stored."""
    item_check_attacher(item=item, actor=actor)
    return evidence_file_keep(HandoverItemFile(item=item), actor=actor, upload=upload)


def item_save(*, item: HandoverItem, actor, done: bool | None = None, now: datetime | None = None) -> HandoverItem:
    """Save a new or changed item (its fields set by the caller), marked done (`done=True`, by `actor`, now) or
    reopened (`done=False`) on the way. Marking done is for the responsible person or a checklist owner, and a
    required item needs its evidence (text or link) or an attached file first. Refused, changing nothing, where `item_check_sign_offs` refuses."""
    was_done = item.done_at, item.done_by
    if done is True and item.done_at is None:
        _check_done(item, actor)
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


def test_save(*, test: ValidationTest, actor, today: date | None = None) -> ValidationTest:
    """Save a new or changed validation test (its fields set by the caller) with the status rules of DOMAIN.md
    "Trust", checked when the status changes to:

    - `failed`: a `result_note` says what failed;
    - `passed`: `completed_on` (today when empty), not in the future;
    - `waived`: a `waiver_reason`, and only a launch manager who is not the test's owner waives.
    """
    with transaction.atomic():
        if test.pk is not None:
            ValidationTest.objects.select_for_update().filter(pk=test.pk).exists()  # the status compared stays so
        test_check_status(test=test, actor=actor, today=today)
        test._history_user = actor
        test.save()
    return test


def test_check_status(*, test: ValidationTest, actor, today: date | None = None) -> None:
    """Refuse a status change of `test` (its fields as about to be saved) that `actor` may not make or that lacks
    what it needs; a `passed` without a completion date gets today's. Nothing is checked while the status stays."""
    stored = None
    if test.pk is not None:
        stored = ValidationTest.objects.filter(pk=test.pk).values_list("status", flat=True).first()
    if test.status == stored:
        return
    today = today or timezone.localdate()
    if test.status == TestStatus.FAILED and not (test.result_note or "").strip():
        raise ValidationError({"result_note": [f"{test.code} failed: say what failed in the result note."]})
    if test.status == TestStatus.PASSED:
        if test.completed_on is None:
            test.completed_on = today
        elif test.completed_on > today:
            raise ValidationError(
                {"completed_on": [f"{test.code} cannot have passed on {test.completed_on}: that is after today."]}
            )
    if test.status == TestStatus.WAIVED:
        if not user_is_launch_manager(actor):
            raise NotPermitted("status", f"Only {launch_manager_names()} may waive {test.code}.")
        if test.owner_id is not None and test.owner_id == actor.pk:
            raise NotPermitted("status", f"{actor.get_username()} owns {test.code}: another launch manager waives it.")
        if not (test.waiver_reason or "").strip():
            raise ValidationError({"waiver_reason": [f"Say why {test.code} is waived."]})
