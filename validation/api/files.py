"""Evidence files of a handover item: `/api/handover-items/{id}/files/` (list, multipart upload) and
`.../files/{file}/content/` (the file itself). Engineers only, like the items: suppliers never see handover items.
Any engineer reads them; the item's responsible person or a checklist owner attaches one (403 naming who may)."""

from django.shortcuts import get_object_or_404
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.reverse import reverse

from sopgate.api.files import DOWNLOAD_SCHEMA, UPLOAD_PARSERS, StoredEvidenceSerializer, evidence_download
from sopgate.api.permissions import IsEngineer

from ..models import HandoverItem, HandoverItemFile
from ..services import item_file_add


class HandoverItemFileSerializer(StoredEvidenceSerializer):
    class Meta(StoredEvidenceSerializer.Meta):
        model = HandoverItemFile

    def get_url(self, evidence: HandoverItemFile) -> str:
        return reverse(
            "validation-api:handover-item-file-content",
            kwargs={"item_pk": evidence.item_id, "pk": evidence.pk},
            request=self.context.get("request"),
        )


class HandoverItemFileViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Evidence files of one handover item: with its `evidence` text, what a required item needs before it is
    marked done. Upload with `multipart/form-data` field `file` (the item's responsible person or a checklist owner;
    others get 403 naming who may); a file over the size limit or of a type not taken is a 400 naming the limit."""

    serializer_class = HandoverItemFileSerializer
    permission_classes = [IsEngineer]
    parser_classes = UPLOAD_PARSERS
    filter_backends: list = []

    def item(self) -> HandoverItem:
        if not hasattr(self, "_item"):
            items = HandoverItem.objects.select_related("checklist__rd_owner", "checklist__production_owner")
            self._item = get_object_or_404(items.select_related("responsible"), pk=self.kwargs["item_pk"])
        return self._item

    def get_queryset(self):
        return HandoverItemFile.objects.filter(item_id=self.kwargs.get("item_pk"))

    def list(self, request, *args, **kwargs):
        self.item()  # an unknown item is a 404, not an empty list
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        upload = serializer.validated_data["file"]
        serializer.instance = item_file_add(item=self.item(), actor=self.request.user, upload=upload)

    @DOWNLOAD_SCHEMA
    @action(detail=True, methods=["get"])
    def content(self, request, item_pk=None, pk=None):
        return evidence_download(get_object_or_404(self.get_queryset(), pk=pk))
