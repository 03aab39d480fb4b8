"""Evidence files of a part (`/api/parts/{id}/files/`): kept through Django's storage API, limited by setting,
scoped per supplier (DOMAIN.md "Trust": evidence files)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from parts.models import EvidenceFile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the default storage is the local folder in tests
    return tmp_path


def _upload(client, part_id, name="warrant.pdf", content=b"%PDF-1.7 warrant", kind="ppap_warrant"):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(f"/api/parts/{part_id}/files/", {"file": upload, "kind": kind}, format="multipart")


def test_a_supplier_uploads_lists_and_downloads_evidence_of_its_own_part(world, alice, media):
    created = _upload(alice, world.part_a.pk)
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("kind", "name", "size", "uploaded_by")} == {
        "kind": "ppap_warrant",
        "name": "warrant.pdf",
        "size": 16,
        "uploaded_by": "alice",
    }
    assert body["url"].endswith(f"/api/parts/{world.part_a.pk}/files/{body['id']}/content/")
    stored = EvidenceFile.objects.get()
    assert stored.file.name.startswith(f"evidence/ACME/{world.part_a.pk}/") and (media / stored.file.name).exists()

    listed = alice.get(f"/api/parts/{world.part_a.pk}/files/").json()
    assert [f["name"] for f in listed["results"]] == ["warrant.pdf"]
    download = alice.get(body["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.7 warrant"
    assert 'filename="warrant.pdf"' in download["Content-Disposition"]


def test_another_suppliers_part_is_a_404_on_every_file_path(world, alice, clients):
    theirs = _upload(clients["supplier_b"], world.part_b.pk).json()
    assert _upload(alice, world.part_b.pk).status_code == 404
    assert alice.get(f"/api/parts/{world.part_b.pk}/files/").status_code == 404
    assert alice.get(f"/api/parts/{world.part_b.pk}/files/{theirs['id']}/content/").status_code == 404
    assert alice.get(f"/api/parts/{world.part_a.pk}/files/{theirs['id']}/content/").status_code == 404
    assert EvidenceFile.objects.count() == 1
    assert clients["engineer"].get(f"/api/parts/{world.part_b.pk}/files/").json()["count"] == 1  # engineers see all
    assert clients["nobody"].get(f"/api/parts/{world.part_b.pk}/files/").status_code == 403
    assert clients["anonymous"].get(f"/api/parts/{world.part_b.pk}/files/").status_code == 401


def test_a_file_over_the_limit_or_of_a_refused_type_is_a_400_naming_the_limit(world, alice, settings, media):
    settings.EVIDENCE_MAX_MB = 1
    too_big = _upload(alice, world.part_a.pk, content=b"x" * (2**20 + 1))
    assert too_big.status_code == 400
    assert too_big.json() == {"file": ["warrant.pdf is 1.0 MB; evidence files may be up to 1 MB."]}
    script = _upload(alice, world.part_a.pk, name="run.exe", content=b"MZ")
    assert script.status_code == 400
    assert script.json()["file"][0].startswith("run.exe: a .exe file is not taken; allowed: pdf, png, jpg")
    unknown_kind = _upload(alice, world.part_a.pk, kind="selfie")
    assert list(unknown_kind.json()) == ["kind"]
    assert not EvidenceFile.objects.exists() and not any(media.rglob("*.*"))  # nothing stored


def test_the_store_is_chosen_by_setting():
    """settings.py as a deployment reads it: the local folder by default, an S3-compatible bucket when named."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = "from django.conf import settings as s; print(s.STORAGES['default']['BACKEND'])"
    backends = []
    for bucket in ("", "sopgate-evidence"):
        env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "x" * 50, "EVIDENCE_S3_BUCKET": bucket}
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=Path(__file__).resolve().parents[2],
            env={**env, "DJANGO_SETTINGS_MODULE": "sopgate.settings"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        backends.append(result.stdout.strip())
    assert backends == ["django.core.files.storage.FileSystemStorage", "storages.backends.s3.S3Storage"]
