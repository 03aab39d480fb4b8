from rest_framework import serializers

from sopgate.api.fields import BoundedModelSerializer, CodeField, UsernameField

from ..models import HandoverChecklist, HandoverItem, ValidationTest

_PROGRAMS = ValidationTest._meta.get_field("program").related_model.objects.all()
_PARTS = ValidationTest._meta.get_field("part").related_model.objects.all()


class ValidationTestSerializer(BoundedModelSerializer):
    program = CodeField(queryset=_PROGRAMS)
    part = serializers.PrimaryKeyRelatedField(queryset=_PARTS, allow_null=True, required=False)
    owner = UsernameField(allow_null=True, required=False)

    class Meta:
        model = ValidationTest
        fields = [
            "id",
            "program",
            "part",
            "code",
            "name",
            "phase",
            "owner",
            "planned_start",
            "planned_end",
            "status",
            "required_for_sop",
            "result_note",
            "completed_on",
            "waiver_reason",
        ]

    def validate(self, attrs: dict) -> dict:
        def value(name):
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        errors = {}
        part, program = value("part"), value("program")
        if part is not None and program is not None and part.program_id != program.pk:
            errors["part"] = [f"Part {part.pk} belongs to another program than {program.code}."]
        start, end = value("planned_start"), value("planned_end")
        if start is not None and end is not None and end < start:
            errors["planned_end"] = [f"Planned end {end} is before planned start {start}."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class HandoverItemSerializer(BoundedModelSerializer):
    checklist = serializers.PrimaryKeyRelatedField(queryset=HandoverChecklist.objects.all())
    responsible = UsernameField(allow_null=True, required=False)
    done = serializers.BooleanField(
        required=False,
        help_text="PATCH true to mark the item done by you, now; false to reopen it (refused for a required item "
        "while its checklist is signed off).",
    )
    done_by = UsernameField(read_only=True)

    class Meta:
        model = HandoverItem
        fields = ["id", "checklist", "title", "responsible", "due_date", "required", "done", "done_by", "done_at"]
        fields += ["evidence"]
        read_only_fields = ["done_at"]


class NestedHandoverItemSerializer(HandoverItemSerializer):
    class Meta(HandoverItemSerializer.Meta):
        read_only_fields = HandoverItemSerializer.Meta.fields


class HandoverChecklistSerializer(BoundedModelSerializer):
    program = CodeField(queryset=_PROGRAMS)
    rd_owner = UsernameField(allow_null=True, required=False)
    production_owner = UsernameField(allow_null=True, required=False)
    rd_signed_off = serializers.BooleanField(
        required=False, help_text="PATCH true to sign off the R&D side (refused while required items are open)."
    )
    rd_signed_off_by = UsernameField(read_only=True)
    production_signed_off = serializers.BooleanField(
        required=False,
        help_text="PATCH true to sign off the production side: its owner or a delegate, not the R&D side's signer, "
        "and only when every required item is done; false (a launch manager, with withdrawal_reason) withdraws it.",
    )
    production_signed_off_by = UsernameField(read_only=True)
    rd_delegates = UsernameField(many=True, required=False, help_text="May sign the R&D side for its owner.")
    production_delegates = UsernameField(
        many=True, required=False, help_text="May sign the production side for its owner."
    )
    withdrawal_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        help_text='Why a sign-off is withdrawn (`PATCH {"rd_signed_off": false, "withdrawal_reason": "..."}`); '
        "a launch manager's decision.",
    )
    items = NestedHandoverItemSerializer(many=True, read_only=True)

    class Meta:
        model = HandoverChecklist
        fields = [
            "id",
            "program",
            "area",
            "rd_owner",
            "production_owner",
            "rd_delegates",
            "production_delegates",
            "rd_signed_off",
            "rd_signed_off_by",
            "rd_signed_off_at",
            "production_signed_off",
            "production_signed_off_by",
            "production_signed_off_at",
            "withdrawal_reason",
            "items",
        ]
        read_only_fields = ["rd_signed_off_at", "production_signed_off_at"]
