import functools

from rest_framework import serializers

from sopgate.api.fast import FastReadMixin, FastValidationMixin
from sopgate.api.fields import BoundedDateField, BoundedModelSerializer, CodeField, KnownFieldsMixin, UsernameField

from ..choices import PPAP_CUSTOMER_DECISIONS, PPAPStatus, ToolingStage
from ..models import SUPPLIER_UPDATE_NOTE_MAX_LENGTH, Part, Supplier, SupplierUpdate
from ..services import (
    UPDATE_COLUMNS,
    LockedParts,
    part_program_change_refusal,
    parts_lock,
    supplier_ppap_refusal,
)

# Supplier updates accepted in one request; the whole batch is one transaction.
MAX_BATCH = 1000
SUPPLIER_UPDATE_CHANGES = ("promised_date", "ppap_status", "capacity_per_week", "tooling_stage", "note")


class SupplierSerializer(BoundedModelSerializer):
    alert_emails = serializers.ListField(
        child=serializers.EmailField(), max_length=50, required=False, help_text="Alert contacts."
    )

    class Meta:
        model = Supplier
        fields = ["id", "code", "name", "country", "alert_emails", "is_active"]


class PartSerializer(FastReadMixin, BoundedModelSerializer):
    program = CodeField(queryset=Part._meta.get_field("program").related_model.objects.all())
    supplier = CodeField(queryset=Supplier.objects.all(), allow_null=True, required=False)
    owner = UsernameField(allow_null=True, required=False)
    late = serializers.BooleanField(read_only=True, help_text="Late as of today (the `part_late` rule).")
    open_blockers = serializers.IntegerField(read_only=True, help_text="Open gate blockers about this part.")

    class Meta:
        model = Part
        fields = [
            "id",
            "program",
            "part_number",
            "revision",
            "name",
            "supplier",
            "owner",
            "criticality",
            "qty_per_vehicle",
            "need_date",
            "promised_date",
            "received_on",
            "ppap_status",
            "ppap_level",
            "ppap_due_date",
            "interim_expires_on",
            "tooling_stage",
            "capacity_per_week",
            "last_supplier_update_at",
            "late",
            "open_blockers",
        ]
        read_only_fields = ["last_supplier_update_at"]

    def validate_program(self, program):
        refusal = self.instance and part_program_change_refusal(self.instance, program.pk)
        if refusal:
            raise serializers.ValidationError(refusal)
        return program


class StoredUsernameField(serializers.CharField):
    """A username stored as text when the row was written, so it outlives the user; none stored shows as null."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value or None


class SupplierUpdateSerializer(FastReadMixin, serializers.ModelSerializer):
    """A stored supplier update, as it is read back."""

    program = serializers.CharField(source="part.program.code", read_only=True)
    part_number = serializers.CharField(source="part.part_number", read_only=True)
    revision = serializers.CharField(source="part.revision", read_only=True)
    reported_by = StoredUsernameField(
        source="reported_by_username", help_text="Username of the reporter, kept after the user is deleted."
    )
    ppap_status = serializers.ChoiceField(
        choices=PPAPStatus.choices, allow_blank=True, read_only=True, help_text="Empty when not reported."
    )
    tooling_stage = serializers.ChoiceField(
        choices=ToolingStage.choices, allow_blank=True, read_only=True, help_text="Empty when not reported."
    )

    class Meta:
        model = SupplierUpdate
        fields = [
            "id",
            "part",
            "program",
            "part_number",
            "revision",
            "reported_by",
            "reported_at",
            "promised_date",
            "ppap_status",
            "capacity_per_week",
            "tooling_stage",
            "note",
        ]
        read_only_fields = fields


def supplier_update_echo(rows, *, parts: dict[int, tuple[str, str, str]]) -> list[dict]:
    """`SupplierUpdateSerializer(updates, many=True).data` for updates just stored, as plain dicts.

    `rows` are the stored updates as `AppliedUpdates.rows` holds them (values in `UPDATE_COLUMNS` order);
    `parts` maps each part id to (program code, part number, revision). The values of one batch repeat (one
    reporter, one time stamp, few dates and programs), so each distinct value of a column is shown once through
    the serializer field's own `to_representation`; DRF's per-field walk would cost more than the database work
    of a 500-item batch.
    """
    if not rows:
        return []
    fields = _echo_fields()
    columns = dict(zip(UPDATE_COLUMNS, zip(*rows, strict=True), strict=True))
    codes, numbers, revisions = zip(*map(parts.__getitem__, columns["part_id"]), strict=True)
    shown = {
        "id": columns["id"],
        "part": columns["part_id"],
        "program": _shown(fields["program"], codes),
        "part_number": _shown(fields["part_number"], numbers),
        "revision": _shown(fields["revision"], revisions),
        "reported_by": _shown(fields["reported_by"], columns["reported_by_username"]),
        **{name: _shown(fields[name], columns[name]) for name in _ECHOED_COLUMNS},
    }
    names = list(shown)
    return [dict(zip(names, values, strict=True)) for values in zip(*shown.values(), strict=True)]


_ECHOED_COLUMNS = ("reported_at", "promised_date", "ppap_status", "capacity_per_week", "tooling_stage", "note")


@functools.cache
def _echo_fields():
    # Built once: the serializer has no context, and its fields show a value the same way in every request.
    return SupplierUpdateSerializer().fields


def _shown(field, values) -> list:
    """`field.to_representation` of each value, computed once per distinct value (None stays None, as DRF shows
    a null attribute). A column holds values of one type, so equal values show alike."""
    distinct = {value: None if value is None else field.to_representation(value) for value in set(values)}
    return list(map(distinct.__getitem__, values))


class SupplierUpdateWriteSerializer(FastValidationMixin, KnownFieldsMixin, serializers.Serializer):
    """One reported change. The part is named by `part` (id) or by `program` + `part_number` (+ `revision`)."""

    part = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1, help_text="Part id.")
    program = serializers.CharField(required=False, max_length=32, help_text="Program code, with `part_number`.")
    part_number = serializers.CharField(required=False, max_length=64)
    revision = serializers.CharField(
        required=False, max_length=16, help_text="Needed only when the part number has several revisions."
    )
    promised_date = BoundedDateField(required=False)
    ppap_status = serializers.ChoiceField(choices=PPAPStatus.choices, required=False)
    capacity_per_week = serializers.IntegerField(required=False, min_value=0, max_value=2147483647)
    tooling_stage = serializers.ChoiceField(choices=ToolingStage.choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=SUPPLIER_UPDATE_NOTE_MAX_LENGTH)

    def validate_ppap_status(self, value: str) -> str:
        # A customer decision is refused before any part is read; what the part's own status allows is checked
        # once the part is locked (`supplier_update_items`).
        if self.context.get("is_supplier") and value in PPAP_CUSTOMER_DECISIONS:
            raise serializers.ValidationError(supplier_ppap_refusal(PPAPStatus.NOT_SUBMITTED, value))
        return value

    def validate(self, attrs: dict) -> dict:
        if "part" in attrs:
            if not attrs.keys().isdisjoint(("program", "part_number", "revision")):
                extra = [name for name in ("program", "part_number", "revision") if name in attrs]
                raise serializers.ValidationError(
                    {extra[0]: ["Name the part either by `part` (id) or by `program` + `part_number`, not both."]}
                )
        else:
            missing = [name for name in ("program", "part_number") if name not in attrs]
            if missing:
                raise serializers.ValidationError(
                    {name: ["Required unless the part is named by `part` (id)."] for name in missing}
                )
        if attrs.keys().isdisjoint(SUPPLIER_UPDATE_CHANGES):
            raise serializers.ValidationError(
                {"non_field_errors": [f"Report at least one of: {', '.join(SUPPLIER_UPDATE_CHANGES)}."]}
            )
        return attrs


def supplier_update_items(data, *, parts, is_supplier: bool) -> tuple[list[dict], object, LockedParts | None]:
    """Validate one update (an object) or a batch (a list), resolve the named parts within `parts` and lock them.

    Returns the items for `parts.services.supplier_updates_apply_locked` (each with `part_id`), the errors, shaped
    like the input: a dict for one object, a list with one dict per item index for a batch (empty where fine),
    and the locked parts. A part outside `parts` (missing, or another supplier's) is "not found", exactly like a
    missing one. Runs in the transaction that applies the items: the check that a part exists is the lock on it,
    so it cannot vanish before the write. Costs one query, and one more when parts are named by number.
    """
    from ..selectors import part_revisions_by_number

    many = isinstance(data, list)
    if many and not data:
        return [], {"non_field_errors": ["Send at least one update."]}, None
    if many and len(data) > MAX_BATCH:
        return [], {"non_field_errors": [f"Send at most {MAX_BATCH} updates at once; got {len(data)}."]}, None
    raw_items = data if many else [data]
    errors: list[dict] = []
    items: list[dict] = []
    # One serializer validates every item (as DRF's ListSerializer does): building its fields once, not per item.
    serializer = SupplierUpdateWriteSerializer(context={"is_supplier": is_supplier})
    for raw in raw_items:
        try:
            items.append(dict(serializer.run_validation(raw)))
            errors.append({})
        except serializers.ValidationError as exc:
            items.append({})
            detail = exc.detail
            errors.append(dict(detail) if isinstance(detail, dict) else {"non_field_errors": list(detail)})

    numbers = {(item["program"], item["part_number"]) for item in items if "part_number" in item}
    revisions = part_revisions_by_number(parts, numbers) if numbers else {}
    for item, item_errors in zip(items, errors, strict=True):
        if not item_errors and "part_number" in item:
            _resolve_number(item, item_errors, revisions)
    wanted = {item["part"] for item in items if "part" in item}
    wanted.update(item["part_id"] for item in items if "part_id" in item)
    locked = parts_lock(wanted, within=parts) if wanted else LockedParts({}, set(), {}, {})
    for item, item_errors in zip(items, errors, strict=True):
        if item_errors:
            continue
        if "part" in item:
            if item["part"] in locked.names:
                item["part_id"] = item.pop("part")
            else:
                item_errors["part"] = [f"No part with id {item['part']}."]
        elif item["part_id"] not in locked.names:  # named by number, and deleted since
            item_errors["part_number"] = [f"No part {item['part_number']} in program {item['program']}."]
        else:
            del item["program"], item["part_number"]
    if is_supplier:
        _check_supplier_ppap(items, errors, locked)
    if any(errors):
        return [], (errors if many else errors[0]), None
    return items, None, locked


def _check_supplier_ppap(items: list[dict], errors: list[dict], locked: LockedParts) -> None:
    """Refuse the PPAP statuses a supplier may not report for the part as it stands when the item applies (the
    items of a batch apply in order)."""
    statuses = dict(locked.ppap_statuses)
    for item, item_errors in zip(items, errors, strict=True):
        if item_errors or "ppap_status" not in item:
            continue
        refusal = supplier_ppap_refusal(statuses[item["part_id"]], item["ppap_status"])
        if refusal:
            item_errors["ppap_status"] = [refusal]
        else:
            statuses[item["part_id"]] = item["ppap_status"]


def _resolve_number(item: dict, item_errors: dict, revisions: dict[tuple[str, str], dict[str, int]]) -> None:
    """Set `part_id` of an item that names its part by program and number (and revision), or say why not."""
    code, number = item["program"], item["part_number"]
    by_revision = revisions.get((code, number), {})
    revision = item.pop("revision", None)
    if revision is not None:
        if revision in by_revision:
            item["part_id"] = by_revision[revision]
        else:
            item_errors["revision"] = [f"No revision {revision} of part {number} in program {code}."]
    elif len(by_revision) == 1:
        item["part_id"] = next(iter(by_revision.values()))
    elif not by_revision:
        item_errors["part_number"] = [f"No part {number} in program {code}."]
    else:
        item_errors["revision"] = [
            f"Part {number} in program {code} has several revisions ({', '.join(sorted(by_revision))}); name one."
        ]
