"""Evidence files of a part: `/api/parts/{id}/files/` (list, multipart upload) and `.../files/{file}/content/`
(the file itself). Engineers see every part's files; a supplier user only its own parts' (another's is a 404)."""

from django.shortcuts import get_object_or_404
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.reverse import reverse

from sopgate.api.files import DOWNLOAD_SCHEMA, UPLOAD_PARSERS, StoredEvidenceSerializer, evidence_download
from sopgate.api.permissions import IsEngineerOrSupplier

from ..choices import EvidenceKind
from ..models import EvidenceFile
from ..selectors import part_list_for_user
from ..services import evidence_file_add


class EvidenceFileSerializer(StoredEvidenceSerializer):
    kind = serializers.ChoiceField(choices=EvidenceKind.choices, default=EvidenceKind.OTHER)

    class Meta(StoredEvidenceSerializer.Meta):
        model = EvidenceFile
        fields = ["id", "kind", *StoredEvidenceSerializer.Meta.fields[1:]]

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
    parser_classes = UPLOAD_PARSERS
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

    @DOWNLOAD_SCHEMA
    @action(detail=True, methods=["get"])
    def content(self, request, part_pk=None, pk=None):
        return evidence_download(get_object_or_404(self.get_queryset(), pk=pk))
