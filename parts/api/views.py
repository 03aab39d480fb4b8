from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import APIException, ErrorDetail, ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from sopgate.api.base import FILTER_BACKENDS, PARSERS, ModelViewSet
from sopgate.api.permissions import IsEngineerOrSupplier, IsEngineerOrSupplierReading
from sopgate.gate.part_status import part_list_for_api

from ..capacity import CapacityLinesRefused, capacity_line_delete, capacity_lines_apply
from ..filtersets import CapacityLineFilterSet, PartFilterSet, SupplierFilterSet, SupplierUpdateFilterSet
from ..selectors import capacity_line_list_for_user, supplier_list_for_user, supplier_update_rows_for_user
from ..services import SupplierDailyLimitExceeded, SupplierUpdatesRefused, part_save, supplier_updates_apply
from .idempotency import HEADER, run_once
from .serializers import (
    PART_ROW,
    CapacityLineSerializer,
    PartSerializer,
    PartWriteSerializer,
    SupplierSerializer,
    SupplierUpdateSerializer,
    SupplierUpdateWriteSerializer,
    supplier_updates_validated,
)


class SupplierViewSet(ModelViewSet):
    serializer_class = SupplierSerializer
    permission_classes = [IsEngineerOrSupplierReading]
    filterset_class = SupplierFilterSet
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "country"]
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9][A-Za-z0-9._-]*"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return supplier_list_for_user(self.request.user)


class PartViewSet(ModelViewSet):
    """Parts of the programs, with the dates the gate uses (`effective_need_date`, `effective_ppap_due_date`) and
    what it thinks of them as of today (`late`, `open_blockers`). A supplier token lists only its supplier's parts;
    suppliers report through `/api/supplier-updates/`, engineers change parts here."""

    # Read as rows (PartSerializer over values()), written through PartWriteSerializer; a write answers with the part
    # read back as a row.

    serializer_class = PartSerializer
    permission_classes = [IsEngineerOrSupplierReading]
    filterset_class = PartFilterSet
    search_fields = ["part_number", "name"]
    ordering_fields = [
        "id",
        "part_number",
        "revision",
        "name",
        "criticality",
        "need_date",
        "promised_date",
        "received_on",
        "ppap_status",
        "ppap_due_date",
        "capacity_per_week",
        "last_supplier_update_at",
        "late",
        "open_blockers",
    ]

    def get_queryset(self):
        return part_list_for_api(self.request.user, today=timezone.localdate())

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset.values(*PART_ROW) if self.request.method in SAFE_METHODS else queryset

    def get_serializer_class(self):
        return PartSerializer if self.request.method in SAFE_METHODS else PartWriteSerializer

    def _save(self, serializer):
        # The service saves the part, so that it can refuse a move the domain forbids before anything is written.
        serializer.instance = part_save(part=self.unsaved(serializer), actor=self.request.user)

    perform_create = _save
    perform_update = _save

    def answer(self, instance) -> dict:
        return PartSerializer(self.get_queryset().values(*PART_ROW).get(pk=instance.pk)).data


class DailyLimitReached(APIException):
    """429 for `SupplierDailyLimitExceeded`: the limit and the counts as numbers, `Retry-After` until midnight."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "daily_limit"

    def __init__(self, refusal: SupplierDailyLimitExceeded):
        super().__init__(str(refusal))
        # Set after APIException's own handling, which would turn the numbers into strings.
        self.detail = {
            "detail": ErrorDetail(str(refusal), code=self.default_code),
            "limit": refusal.limit,
            "stored_today": refusal.stored,
            "requested": refusal.requested,
        }
        self.wait = refusal.retry_after  # DRF's exception handler sends it as Retry-After


_ONE_OR_MANY_IN = PolymorphicProxySerializer(
    component_name="SupplierUpdateWriteOneOrMany",
    serializers=[SupplierUpdateWriteSerializer, SupplierUpdateWriteSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)
_ONE_OR_MANY_OUT = PolymorphicProxySerializer(
    component_name="SupplierUpdateOneOrMany",
    serializers=[SupplierUpdateSerializer, SupplierUpdateSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


class SupplierUpdateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """What suppliers reported about their parts: promised date, PPAP submission, capacity, tooling stage, note.
    POST one object, or a list of up to 1,000 applied all or nothing (errors by item index). Name a part by `part`
    (id) or by `program` + `part_number` (+ `revision`). A supplier may not promise a date before today nor set a
    PPAP status that is the customer's decision; it may store up to its daily limit (429 after)."""

    serializer_class = SupplierUpdateSerializer
    permission_classes = [IsEngineerOrSupplier]
    filter_backends = FILTER_BACKENDS
    parser_classes = PARSERS
    filterset_class = SupplierUpdateFilterSet
    search_fields = ["note", "part__part_number"]
    ordering_fields = ["reported_at", "id"]

    def get_queryset(self):
        return supplier_update_rows_for_user(self.request.user)

    @extend_schema(
        request=_ONE_OR_MANY_IN,
        responses={201: _ONE_OR_MANY_OUT},
        examples=[
            OpenApiExample(
                "One update",
                request_only=True,
                value={"program": "SU7", "part_number": "BM-107", "promised_date": "2027-01-20", "note": "extra shift"},
            ),
            OpenApiExample(
                "A batch, all or nothing",
                request_only=True,
                value=[
                    {"part": 1021, "ppap_status": "submitted", "note": "PSW sent to SQE"},
                    {"program": "SU7", "part_number": "SF-200", "revision": "B", "capacity_per_week": 2400},
                ],
            ),
            OpenApiExample(
                "Refused item of a batch",
                response_only=True,
                status_codes=["400"],
                value=[{}, {"promised_date": ["A promised date cannot be before today (2027-01-04)."]}],
            ),
        ],
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                description="Optional. A retry with the same key gets the first response back and stores nothing twice.",
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        return run_once(request, lambda: self._create(request))

    def _create(self, request):
        items, errors = supplier_updates_validated(request.data)
        try:
            stored = supplier_updates_apply(actor=request.user, items=items)
        except SupplierUpdatesRefused as refused:
            errors = [shape or rules for shape, rules in zip(errors, refused.errors, strict=True)]
            raise ValidationError(errors if isinstance(request.data, list) else errors[0]) from refused
        except SupplierDailyLimitExceeded as refusal:
            raise DailyLimitReached(refusal) from refusal
        body = SupplierUpdateSerializer(stored, many=True).data
        return Response(body if isinstance(request.data, list) else body[0], status=status.HTTP_201_CREATED)


class CapacityLineViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Capacity plan lines of the parts the caller may see; a supplier writes its own parts' lines only (another's
    part is not found). Posting a line for a day the part already has a line for replaces it."""

    serializer_class = CapacityLineSerializer
    permission_classes = [IsEngineerOrSupplier]
    filter_backends = FILTER_BACKENDS
    parser_classes = PARSERS
    filterset_class = CapacityLineFilterSet
    ordering_fields = ["effective_from", "id"]

    def get_queryset(self):
        return capacity_line_list_for_user(self.request.user).order_by("part_id", "effective_from")

    def perform_create(self, serializer):
        try:
            [line] = capacity_lines_apply(actor=self.request.user, items=[dict(serializer.validated_data)])
        except CapacityLinesRefused as refused:
            raise ValidationError(refused.errors[0]) from refused
        serializer.instance = self.get_queryset().get(part_id=line.part_id, effective_from=line.effective_from)

    def perform_destroy(self, instance):
        try:
            capacity_line_delete(actor=self.request.user, line=instance)
        except CapacityLinesRefused as refused:
            raise ValidationError(refused.errors[0]) from refused
