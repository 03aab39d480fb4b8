"""Evidence files of a handover item (`/api/handover-items/{id}/files/`): the parts' limits and store, engineers
only, attached by who may mark the item done, and an attached file counts as a required item's evidence."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import client_for
from tests.factories import EngineerFactory, ItemFactory, api_token
from validation.models import HandoverItemFile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the default storage is the local folder in tests
    return tmp_path


@pytest.fixture
def item(world):
    """A required item with no evidence text yet; `eng` is its responsible person and owns its checklist."""
    world.item.evidence = ""
    world.item.save()
    return world.item


@pytest.fixture
def bystander():
    """An engineer who is neither the item's responsible person nor an owner of its checklist."""
    return client_for(api_token(EngineerFactory(username="olga")))


def _files(item_id):
    return f"/api/handover-items/{item_id}/files/"


def _upload(client, item_id, name="instructions.pdf", content=b"%PDF-1.7 work instructions rev C"):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(_files(item_id), {"file": upload}, format="multipart")


def test_the_responsible_engineer_uploads_lists_and_downloads_a_file(eng, item, media):
    created = _upload(eng, item.pk)
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("name", "size", "uploaded_by")} == {
        "name": "instructions.pdf",
        "size": 32,
        "uploaded_by": "eng",
    }
    assert body["url"].endswith(f"/api/handover-items/{item.pk}/files/{body['id']}/content/")
    stored = HandoverItemFile.objects.get()
    assert stored.item == item and stored.uploaded_by.username == "eng"
    assert stored.file.name.startswith(f"handover/{item.checklist_id}/{item.pk}/")
    assert (media / stored.file.name).read_bytes() == b"%PDF-1.7 work instructions rev C"

    listed = eng.get(_files(item.pk)).json()
    assert [f["name"] for f in listed["results"]] == ["instructions.pdf"]
    download = eng.get(body["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.7 work instructions rev C"
    assert 'filename="instructions.pdf"' in download["Content-Disposition"]


def test_a_file_over_the_limit_or_of_a_refused_type_is_a_400_naming_the_limit(eng, item, settings, media):
    settings.EVIDENCE_MAX_MB = 1
    too_big = _upload(eng, item.pk, content=b"x" * (2**20 + 1))
    assert too_big.status_code == 400
    assert too_big.json() == {"file": ["instructions.pdf is 1.0 MB; evidence files may be up to 1 MB."]}
    script = _upload(eng, item.pk, name="install.exe", content=b"MZ")
    assert script.status_code == 400
    assert script.json()["file"][0].startswith("install.exe: a .exe file is not taken; allowed: pdf, png, jpg")
    assert not HandoverItemFile.objects.exists() and not any(media.rglob("*.*"))  # nothing stored


def test_a_long_non_latin_name_is_kept_whole_and_stored_under_a_short_one(eng, item, media):
    name = "交接检查表-工作指导书" * 20 + ".pdf"  # 844 bytes in UTF-8: more than a file system takes
    created = _upload(eng, item.pk, name=name)
    assert created.status_code == 201, created.content
    stored = HandoverItemFile.objects.get()
    assert stored.name == name[:255]
    assert stored.file.name.endswith(".pdf") and len(stored.file.name.rsplit("/", 1)[1].encode()) <= 120
    assert b"".join(eng.get(created.json()["url"]).streaming_content) == b"%PDF-1.7 work instructions rev C"


def test_only_the_responsible_person_or_a_checklist_owner_attaches_and_engineers_read(
    world, eng, clients, bystander, item
):
    refused = _upload(bystander, item.pk)
    assert refused.status_code == 403
    assert refused.json() == {
        "file": [
            "Only eng may attach evidence to 'Work instructions released' (its responsible person or an owner of its "
            "checklist); you are olga."
        ]
    }
    assert not HandoverItemFile.objects.exists()
    url = _upload(eng, item.pk).json()["url"]
    assert bystander.get(_files(item.pk)).json()["count"] == 1  # every engineer reads
    assert bystander.get(url).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"), [("supplier_a", 403), ("supplier_b", 403), ("nobody", 403), ("anonymous", 401)]
)
def test_suppliers_and_non_engineers_never_see_an_items_files(world, eng, clients, item, role, status):
    url = _upload(eng, item.pk).json()["url"]
    client = clients[role]
    assert client.get(_files(item.pk)).status_code == status
    assert client.get(url).status_code == status
    assert _upload(client, item.pk).status_code == status
    assert HandoverItemFile.objects.count() == 1


def test_unknown_items_and_another_items_files_are_404(world, eng, item):
    other = ItemFactory(checklist=world.checklist, responsible=world.item.responsible)
    theirs = _upload(eng, other.pk).json()
    assert eng.get(_files(999_999)).status_code == 404
    assert _upload(eng, 999_999).status_code == 404
    assert eng.get(f"{_files(item.pk)}{theirs['id']}/content/").status_code == 404
    assert eng.get(f"{_files(other.pk)}999999/content/").status_code == 404
    assert HandoverItemFile.objects.count() == 1


def test_a_file_lost_by_the_store_is_a_404_not_a_500(eng, item, media):
    body = _upload(eng, item.pk).json()
    (media / HandoverItemFile.objects.get().file.name).unlink()
    missing = eng.get(body["url"])
    assert missing.status_code == 404 and missing.json() == {"detail": "The file is missing from the store."}


def test_a_required_item_is_done_with_an_attached_file_and_refused_without_any_evidence(eng, item):
    refused = eng.patch(f"/api/handover-items/{item.pk}/", {"done": True}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "evidence": [
            "'Work instructions released' is required: give its evidence (text or link) or an attached file to mark "
            "it done."
        ]
    }
    item.refresh_from_db()
    assert not item.done

    assert _upload(eng, item.pk).status_code == 201
    done = eng.patch(f"/api/handover-items/{item.pk}/", {"done": True}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["done"] is True and done.json()["evidence"] == ""
    item.refresh_from_db()
    assert item.done and item.done_by.username == "eng"


def test_the_file_list_issues_the_same_queries_for_1_and_30_files(eng, item):
    def count():
        with CaptureQueriesContext(connection) as queries:
            response = eng.get(_files(item.pk))
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    _upload(eng, item.pk)
    one = count()
    for n in range(29):
        _upload(eng, item.pk, name=f"training-{n}.pdf")
    many = count()
    # Token, knox's expired tokens, the user with its supplier membership, the item, the page count, the page.
    assert (one, many) == ((6, 1), (6, 30))


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=file\r\n\r\nabc"),  # no boundary
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=file; filename="),
        ("multipart/form-data; boundary=x", b"garbage without any part"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nx\r\n--x--'),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="file"; filename=""\r\n\r\n'),
        ("multipart/form-data; boundary=" + "x" * 2000, b"--x"),
        ("application/json", b'{"file": "aGVsbG8="}'),
        ("application/x-www-form-urlencoded", b"file=hello.pdf"),
    ],
)
def test_a_malformed_upload_is_a_4xx_naming_why_and_stores_nothing(eng, item, media, content_type, body):
    response = eng.generic("POST", _files(item.pk), body, content_type=content_type)
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    assert response.json()
    assert not HandoverItemFile.objects.exists() and not any(media.rglob("*.*"))
