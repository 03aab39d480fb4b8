"""Evidence files of a part: `/api/parts/{id}/files/` (list, multipart upload) and `.../files/{file}/content/`
(the file itself). Engineers see every part's files; a supplier user only its own parts' (another's is a 404)."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.reverse import reverse

from sopgate.api.permissions import IsEngineerOrSupplier

from ..choices import EvidenceKind
from ..models import EvidenceFile
from ..selectors import part_list_for_user
from ..services import evidence_file_add


class EvidenceFileSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True, help_text="The file (multipart/form-data).")
    kind = serializers.ChoiceField(choices=EvidenceKind.choices, default=EvidenceKind.OTHER)
    uploaded_by = serializers.CharField(source="uploaded_by_username", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceFile
        fields = ["id", "kind", "file", "name", "size", "uploaded_by", "uploaded_at", "url"]
        read_only_fields = ["name", "size", "uploaded_at"]

    def get_url(self, evidence: EvidenceFile) -> str:
        return reverse(
            "parts-api:part-file-content",
            kwargs={"part_pk": evidence.part_id, "pk": evidence.pk},
            request=self.context.get("request"),
        )


class PartFileViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Evidence files of one part (PPAP warrant, run-at-rate report, test report, other). Upload with
    `multipart/form-data` fields `file` and `kind`; a file over the size limit or of a type not taken is a 400
    naming the limit."""

    serializer_class = EvidenceFileSerializer
    permission_classes = [IsEngineerOrSupplier]
    parser_classes = [MultiPartParser, FormParser]
    filter_backends: list = []

    def part(self):
        if not hasattr(self, "_part"):
            parts = part_list_for_user(self.request.user)
            self._part = get_object_or_404(parts, pk=self.kwargs["part_pk"])
        return self._part

    def get_queryset(self):
        return EvidenceFile.objects.filter(part=self.part())

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = evidence_file_add(
            part=self.part(), actor=self.request.user, kind=data["kind"], upload=data["file"]
        )

    @extend_schema(
        summary="Download an evidence file",
        description="The file itself, as an attachment with its uploaded name.",
        responses={(200, "application/octet-stream"): bytes},
    )
    @action(detail=True, methods=["get"])
    def content(self, request, part_pk=None, pk=None):
        evidence = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            handle = evidence.file.open("rb")
        except FileNotFoundError:
            raise Http404("The file is missing from the store.") from None
        return FileResponse(handle, as_attachment=True, filename=evidence.name)
