from rest_framework import serializers

from sopgate.choices import Decision
from sopgate.models import Blocker, Program, RampStep, WorkCalendar

from .fields import BoundedModelSerializer, CodeField, UsernameField


class WorkCalendarSerializer(BoundedModelSerializer):
    class Meta:
        model = WorkCalendar
        fields = ["id", "code", "name", "working_weekdays", "closed_dates"]

    def validate_closed_dates(self, value):
        return sorted(set(value))


class ProgramSerializer(BoundedModelSerializer):
    owner = UsernameField(allow_null=True, required=False)
    calendar = CodeField(
        queryset=WorkCalendar.objects.all(), allow_null=True, required=False, help_text="The plant calendar's code."
    )

    class Meta:
        model = Program
        fields = [
            "id",
            "code",
            "name",
            "sop_date",
            "owner",
            "part_lead_days",
            "ppap_lead_days",
            "at_risk_days",
            "stale_update_days",
            "signoff_days",
            "calendar",
            "last_scanned_at",
        ]
        read_only_fields = ["last_scanned_at"]


class RampStepSerializer(BoundedModelSerializer):
    program = serializers.CharField(source="program.code", read_only=True)

    class Meta:
        model = RampStep
        fields = ["id", "program", "month", "planned_vehicles"]

    def validate_month(self, value):
        if value.day != 1:
            raise serializers.ValidationError("Use the first day of the month, e.g. 2026-07-01.")
        return value

    def validate(self, attrs):
        program = self.context["program"]
        if RampStep.objects.filter(program=program, month=attrs["month"]).exists():
            raise serializers.ValidationError(
                {"month": [f"{program.code} already plans {attrs['month']:%B %Y}; delete that step first."]}
            )
        return attrs


class BlockerSerializer(serializers.ModelSerializer):
    program = CodeField(read_only=True)
    owner = UsernameField(read_only=True)

    class Meta:
        model = Blocker
        fields = [
            "id",
            "program",
            "rule",
            "severity",
            "object_type",
            "object_id",
            "object_label",
            "owner",
            "message",
            "opened_at",
            "last_seen_at",
            "resolved_at",
        ]
        read_only_fields = fields


class DoneTotalSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class ReadinessItemCountsSerializer(serializers.Serializer):
    parts = DoneTotalSerializer()
    tests = DoneTotalSerializer()
    handover_items = DoneTotalSerializer()


class ReadinessCountsSerializer(serializers.Serializer):
    by_severity = serializers.DictField(child=serializers.IntegerField(), help_text="Open blockers per severity.")
    by_rule = serializers.DictField(child=serializers.IntegerField(), help_text="Open blockers per rule code.")
    items = ReadinessItemCountsSerializer(help_text="Done and total items that make up the readiness percent.")


class ReadinessSerializer(serializers.Serializer):
    """The answer of `sopgate.selectors.program_readiness`, as the dashboard shows it."""

    program = serializers.CharField(source="program.code")
    sop_date = serializers.DateField(source="program.sop_date")
    decision = serializers.ChoiceField(choices=Decision.choices)
    readiness_pct = serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False)
    forecast_sop_date = serializers.DateField(allow_null=True)
    forecast_reason = serializers.CharField()
    counts = ReadinessCountsSerializer()
    blockers = BlockerSerializer(many=True, help_text="Open blockers.")


class BottleneckPartSerializer(serializers.Serializer):
    part = serializers.IntegerField()
    part_number = serializers.CharField()
    revision = serializers.CharField()
    capacity = serializers.IntegerField()
    demand = serializers.IntegerField()


class CoverageWeekSerializer(serializers.Serializer):
    week = serializers.CharField(help_text="ISO week, e.g. 2027-W09.")
    starts_on = serializers.DateField()
    planned_vehicles = serializers.IntegerField(help_text="The week's share of the monthly plan by the plant calendar.")
    achievable_vehicles = serializers.IntegerField(
        allow_null=True, help_text="The least, over sourced parts of known capacity, of capacity ÷ qty per vehicle."
    )
    bottleneck = BottleneckPartSerializer(many=True)


class RampCoverageSerializer(serializers.Serializer):
    program = serializers.CharField()
    weeks = CoverageWeekSerializer(many=True)
