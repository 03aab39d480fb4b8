"""What the evidence-file endpoints share (a part's files, a handover item's files): the fields of a file as the API
shows it, the multipart upload's parsers and the download. The limits and the store are the services' (one place:
`parts.services.evidence_file_keep`); who may see or add a file is each endpoint's."""

from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser

# An upload is `multipart/form-data` (a form-encoded body simply has no file, which is a 400 naming `file`).
UPLOAD_PARSERS = [MultiPartParser, FormParser]

DOWNLOAD_SCHEMA = extend_schema(
    summary="Download an evidence file",
    description="The file itself, as an attachment with its uploaded name.",
    responses={(200, "application/octet-stream"): bytes},
)


class StoredEvidenceSerializer(serializers.ModelSerializer):
    """A file's record (`parts.models.StoredEvidence`): the upload is written, the rest read. Subclasses name their
    model and fields, and `get_url` (the download's address)."""

    file = serializers.FileField(write_only=True, help_text="The file (multipart/form-data).")
    uploaded_by = serializers.CharField(source="uploaded_by_username", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        fields = ["id", "file", "name", "size", "uploaded_by", "uploaded_at", "url"]
        read_only_fields = ["name", "size", "uploaded_at"]

    def get_url(self, evidence) -> str:
        raise NotImplementedError


def evidence_download(evidence) -> FileResponse:
    """The stored file as an attachment with its uploaded name; a 404 when the store lost it."""
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from the store.") from None
    return FileResponse(handle, as_attachment=True, filename=evidence.name)
