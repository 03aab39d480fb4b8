from rest_framework import serializers

from sopgate.api.fields import BoundedDateField, BoundedModelSerializer, CodeField, KnownFieldsMixin, UsernameField

from ..choices import PPAPStatus, ToolingStage
from ..models import SUPPLIER_UPDATE_NOTE_MAX_LENGTH, Part, Supplier
from ..services import SUPPLIER_UPDATE_FIELDS

# Supplier updates accepted in one request; the whole batch is one transaction.
MAX_BATCH = 1000
SUPPLIER_UPDATE_CHANGES = (*SUPPLIER_UPDATE_FIELDS, "note")  # what an update may carry: the part's fields and a note


class SupplierSerializer(BoundedModelSerializer):
    alert_emails = serializers.ListField(
        child=serializers.EmailField(), max_length=50, required=False, help_text="Alert contacts."
    )

    calendar = CodeField(
        queryset=Supplier._meta.get_field("calendar").related_model.objects.all(),
        allow_null=True,
        required=False,
        help_text="The supplier's work calendar (code); empty = the plant's.",
    )

    class Meta:
        model = Supplier
        fields = ["id", "code", "name", "country", "alert_emails", "is_active", "calendar"]


class PartSerializer(serializers.Serializer):
    """A part as the API shows it, read from a row (a dict) of exactly the columns its fields name as their
    sources (`PART_ROW`): the list reads a page of them with `values()`, without a model instance per part."""

    id = serializers.IntegerField(read_only=True)
    program = serializers.CharField(source="program__code", read_only=True, help_text="Program code.")
    part_number = serializers.CharField(read_only=True)
    revision = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    supplier = serializers.CharField(source="supplier__code", read_only=True, allow_null=True)
    owner = serializers.CharField(source="owner__username", read_only=True, allow_null=True)
    criticality = serializers.ChoiceField(choices=Part._meta.get_field("criticality").choices, read_only=True)
    qty_per_vehicle = serializers.IntegerField(read_only=True)
    need_date = serializers.DateField(read_only=True, allow_null=True)
    effective_need_date = serializers.DateField(
        read_only=True, help_text="The need date the gate uses: need_date, else SOP minus the program's part lead days."
    )
    promised_date = serializers.DateField(read_only=True, allow_null=True)
    received_on = serializers.DateField(read_only=True, allow_null=True)
    ppap_status = serializers.ChoiceField(choices=PPAPStatus.choices, read_only=True)
    ppap_level = serializers.IntegerField(read_only=True)
    ppap_due_date = serializers.DateField(read_only=True, allow_null=True)
    effective_ppap_due_date = serializers.DateField(
        read_only=True,
        help_text="The PPAP due date the gate uses: ppap_due_date, else the effective need date minus the program's "
        "PPAP lead days.",
    )
    interim_expires_on = serializers.DateField(read_only=True, allow_null=True)
    tooling_stage = serializers.ChoiceField(choices=ToolingStage.choices, read_only=True)
    capacity_per_week = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The capacity plan's line in force today, where the part has one."
    )
    run_at_rate_on = serializers.DateField(read_only=True, allow_null=True)
    run_at_rate_per_week = serializers.IntegerField(read_only=True, allow_null=True)
    last_supplier_update_at = serializers.DateTimeField(read_only=True, allow_null=True)
    late = serializers.BooleanField(read_only=True, help_text="Late as of today (the `part_late` rule).")
    open_blockers = serializers.IntegerField(read_only=True, help_text="Open gate blockers about this part.")


# The columns (`values()` names) a part's row holds: what `PartSerializer` reads.
PART_ROW = tuple(field.source for field in PartSerializer().fields.values())


class PartWriteSerializer(BoundedModelSerializer):
    """What a part's create and PATCH take (their shape: `services.part_save` decides whether the part may be saved
    so); the answer is the part read back as a `PartSerializer` row."""

    program = CodeField(queryset=Part._meta.get_field("program").related_model.objects.all())
    supplier = CodeField(queryset=Supplier.objects.all(), allow_null=True, required=False)
    owner = UsernameField(allow_null=True, required=False)
    # Known, so a client may send back what it read (`KnownFieldsMixin`); computed as of today, never written.
    late = serializers.BooleanField(read_only=True)
    open_blockers = serializers.IntegerField(read_only=True)
    effective_need_date = serializers.DateField(read_only=True)
    effective_ppap_due_date = serializers.DateField(read_only=True)

    class Meta:
        model = Part
        fields = list(PartSerializer().fields)
        read_only_fields = ["last_supplier_update_at"]


class StoredUsernameField(serializers.CharField):
    """A username stored as text when the row was written, so it outlives the user; none stored shows as null."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value or None


class SupplierUpdateSerializer(serializers.Serializer):
    """A stored supplier update, as it is read back: from the rows the list reads
    (`selectors.supplier_update_rows_for_user`) or those the service returns (`services.supplier_updates_apply`),
    dicts of the same keys."""

    id = serializers.IntegerField(read_only=True)
    part = serializers.IntegerField(source="part_id", read_only=True, help_text="Part id.")
    program = serializers.CharField(read_only=True, help_text="The part's program code.")
    part_number = serializers.CharField(read_only=True)
    revision = serializers.CharField(read_only=True)
    reported_by = StoredUsernameField(
        source="reported_by_username", help_text="Username of the reporter, kept after the user is deleted."
    )
    reported_at = serializers.DateTimeField(read_only=True)
    promised_date = serializers.DateField(read_only=True, allow_null=True)
    ppap_status = serializers.ChoiceField(
        choices=PPAPStatus.choices, allow_blank=True, read_only=True, help_text="Empty when not reported."
    )
    capacity_per_week = serializers.IntegerField(read_only=True, allow_null=True)
    tooling_stage = serializers.ChoiceField(
        choices=ToolingStage.choices, allow_blank=True, read_only=True, help_text="Empty when not reported."
    )
    run_at_rate_on = serializers.DateField(read_only=True, allow_null=True)
    run_at_rate_per_week = serializers.IntegerField(read_only=True, allow_null=True)
    note = serializers.CharField(read_only=True)


class SupplierUpdateWriteSerializer(KnownFieldsMixin, serializers.Serializer):
    """One reported change, its shape and types. The part is named by `part` (id) or by `program` +
    `part_number` (+ `revision`); whether it exists, may be written and may take what is reported is
    `parts.services.supplier_updates_apply`'s to say."""

    part = serializers.IntegerField(
        source="part_id", required=False, min_value=1, max_value=2**63 - 1, help_text="Part id."
    )
    program = serializers.CharField(required=False, max_length=32, help_text="Program code, with `part_number`.")
    part_number = serializers.CharField(required=False, max_length=64)
    revision = serializers.CharField(
        required=False, max_length=16, help_text="Needed only when the part number has several revisions."
    )
    promised_date = BoundedDateField(required=False)
    ppap_status = serializers.ChoiceField(choices=PPAPStatus.choices, required=False)
    capacity_per_week = serializers.IntegerField(required=False, min_value=0, max_value=2147483647)
    tooling_stage = serializers.ChoiceField(choices=ToolingStage.choices, required=False)
    run_at_rate_on = BoundedDateField(required=False)
    run_at_rate_per_week = serializers.IntegerField(required=False, min_value=0, max_value=2147483647)
    note = serializers.CharField(required=False, allow_blank=True, max_length=SUPPLIER_UPDATE_NOTE_MAX_LENGTH)

    def validate(self, attrs: dict) -> dict:
        if "part_id" in attrs:
            extra = [name for name in ("program", "part_number", "revision") if name in attrs]
            if extra:
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


def supplier_updates_validated(data) -> tuple[list[dict | None], list[dict]]:
    """The shape and types of one update (an object) or a batch (a list of up to `MAX_BATCH`): per item, its
    validated values or None, and its errors (an empty dict where fine). A body that is neither, an empty
    batch or one too long raises ValidationError.

    One serializer validates every item, as DRF's ListSerializer does (`child.run_validation`), keeping the
    values of the good items beside the errors of the bad: the service still checks those, so that a refusal
    names every problem of a batch at once.
    """
    if not isinstance(data, dict | list):
        raise serializers.ValidationError({"non_field_errors": ["Send an update object or a list of them."]})
    raw_items = data if isinstance(data, list) else [data]
    if not raw_items:
        raise serializers.ValidationError({"non_field_errors": ["Send at least one update."]})
    if len(raw_items) > MAX_BATCH:
        raise serializers.ValidationError(
            {"non_field_errors": [f"Send at most {MAX_BATCH} updates at once; got {len(raw_items)}."]}
        )
    child = SupplierUpdateWriteSerializer()
    items: list[dict | None] = []
    errors: list[dict] = []
    for raw in raw_items:
        try:
            items.append(dict(child.run_validation(raw)))
            errors.append({})
        except serializers.ValidationError as exc:
            items.append(None)
            errors.append(exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail})
    return items, errors


class CapacityLineSerializer(serializers.Serializer):
    """A line of a part's capacity plan: read from rows (`selectors.capacity_line_rows_for_user`), written through
    `capacity.capacity_lines_apply` (posting a line for a day the part already has replaces it)."""

    id = serializers.IntegerField(read_only=True)
    part = serializers.IntegerField(source="part_id", min_value=1, max_value=2**63 - 1, help_text="Part id.")
    effective_from = BoundedDateField()
    capacity_per_week = serializers.IntegerField(min_value=0, max_value=2147483647)
    reported_by = StoredUsernameField(source="reported_by_username")
    reported_at = serializers.DateTimeField(read_only=True)
