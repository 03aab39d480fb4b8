from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from sopgate.filtersets import BlockerFilterSet, ProgramFilterSet
from sopgate.gate.coverage import program_ramp
from sopgate.models import Program, RampStep, WorkCalendar
from sopgate.selectors import blocker_list_for_user, program_readiness
from sopgate.services import program_check_gate_settings

from .base import FILTER_BACKENDS, PARSERS, ModelViewSet
from .permissions import IsEngineer, IsEngineerOrAuthenticatedReading, IsEngineerOrSupplierReading
from .serializers import (
    BlockerSerializer,
    ProgramSerializer,
    RampCoverageSerializer,
    RampStepSerializer,
    ReadinessSerializer,
    WorkCalendarSerializer,
)

# Codes follow the models' CODE_VALIDATOR; anything else in the path is a 404 before any query.
CODE_REGEX = r"[A-Za-z0-9][A-Za-z0-9._-]*"


class ProgramViewSet(ModelViewSet):
    """Programs by code. Their gate settings (lead days, at-risk, stale-update and sign-off days) are changed by a
    launch manager only (403 naming who may)."""

    queryset = Program.objects.select_related("owner", "calendar")
    serializer_class = ProgramSerializer
    permission_classes = [IsEngineer]
    filterset_class = ProgramFilterSet
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "sop_date"]
    lookup_field = "code"
    lookup_value_regex = CODE_REGEX
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(
        summary="Read a program's readiness",
        description="The gate's decision (go, conditional, no_go), readiness percent, counts, forecast SOP date with "
        "its reason, and the open blockers, as of today.",
        responses=ReadinessSerializer,
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def readiness(self, request, code=None, format=None):  # noqa: A002 - DRF's name for the `.json` suffix
        program = self.get_object()
        return Response(ReadinessSerializer(program_readiness(program, today=timezone.localdate())).data)

    @extend_schema(summary="Read the achievable ramp, week by week", responses=RampCoverageSerializer, filters=False)
    @action(detail=True, methods=["get"], url_path="ramp-coverage", pagination_class=None, filter_backends=[])
    def ramp_coverage(self, request, code=None, format=None):  # noqa: A002 - DRF's name for the `.json` suffix
        """Per ISO week from the SOP week to the end of the ramp plan: planned and achievable vehicles and the
        bottleneck parts. A constant number of queries, whatever the program's size."""
        program = self.get_object()
        weeks = program_ramp(program).coverage()
        return Response(RampCoverageSerializer({"program": program.code, "weeks": weeks}).data)

    def _save(self, serializer):
        program = self.unsaved(serializer)
        with transaction.atomic():
            program_check_gate_settings(program=program, actor=self.request.user)
            serializer.save()

    perform_create = _save
    perform_update = _save


class WorkCalendarViewSet(ModelViewSet):
    """Work calendars by code: engineers write, everyone signed in reads."""

    queryset = WorkCalendar.objects.all()
    serializer_class = WorkCalendarSerializer
    permission_classes = [IsEngineerOrAuthenticatedReading]
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]
    lookup_field = "code"
    lookup_value_regex = CODE_REGEX
    http_method_names = ["get", "post", "patch", "head", "options"]


_PROGRAM_CODE = OpenApiParameter("program_code", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=f"^{CODE_REGEX}$")
_MONTH = OpenApiParameter("month", OpenApiTypes.DATE, OpenApiParameter.PATH, description="First day of the month.")


@extend_schema_view(
    list=extend_schema(parameters=[_PROGRAM_CODE]),
    create=extend_schema(parameters=[_PROGRAM_CODE]),
    retrieve=extend_schema(parameters=[_PROGRAM_CODE, _MONTH]),
    destroy=extend_schema(parameters=[_PROGRAM_CODE, _MONTH]),
)
class RampStepViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The ramp plan of one program: `/api/programs/{code}/ramp-steps/`, one step per month (`.../2026-07-01/`)."""

    serializer_class = RampStepSerializer
    permission_classes = [IsEngineer]
    filter_backends = FILTER_BACKENDS
    parser_classes = PARSERS
    ordering_fields = ["month", "planned_vehicles"]
    lookup_field = "month"
    lookup_value_regex = r"\d{4}-\d{2}-\d{2}"

    def get_program(self) -> Program:
        if not hasattr(self, "_program"):
            self._program = get_object_or_404(Program, code=self.kwargs["program_code"])
        return self._program

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no program in the path
            return RampStep.objects.none()
        return RampStep.objects.filter(program=self.get_program()).select_related("program").order_by("month")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "program_code" in self.kwargs and not getattr(self, "swagger_fake_view", False):
            context["program"] = self.get_program()
        return context

    def perform_create(self, serializer):
        with transaction.atomic():
            serializer.save(program=self.get_program())


class BlockerViewSet(viewsets.ReadOnlyModelViewSet):
    """The gate's findings. A supplier user reads the blockers about its own parts (another's is a 404), with the
    message saying what to fix and by when."""

    serializer_class = BlockerSerializer
    permission_classes = [IsEngineerOrSupplierReading]
    filter_backends = FILTER_BACKENDS
    filterset_class = BlockerFilterSet
    search_fields = ["object_label", "message"]
    ordering_fields = ["opened_at", "last_seen_at", "resolved_at", "severity", "rule"]

    def get_queryset(self):
        return blocker_list_for_user(self.request.user)
