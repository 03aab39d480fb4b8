"""A handover item's evidence files in the admin: shown on the checklist's items and the item's page, attached there
within the limits and only by who may; a required item is then marked done without evidence text."""

from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sopgate.demo.load import engineers_group
from tests.factories import ChecklistFactory, EngineerFactory, ItemFactory
from validation import services
from validation.models import HandoverItem, HandoverItemFile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT, settings.EVIDENCE_MAX_MB = tmp_path, 1
    return tmp_path


@pytest.fixture
def checklist(at_today, engineer_user):
    """Paint: erin owns its R&D side; 'Oven curve approved' is required and has no evidence text yet."""
    checklist = ChecklistFactory(area="Paint", rd_owner=engineer_user, production_owner=EngineerFactory())
    ItemFactory(checklist=checklist, title="Oven curve approved", evidence="", responsible=EngineerFactory())
    ItemFactory(checklist=checklist, title="Sealer robots validated")
    return checklist


def _checklist_page(checklist):
    return reverse("admin:validation_handoverchecklist_change", args=[checklist.pk])


def _checklist_form(checklist, attach: dict, delete=()) -> dict:
    """The checklist's change form as its page shows it, with files to attach per item title."""
    items = list(checklist.items.order_by("due_date", "id"))
    data = {
        "program": checklist.program_id,
        "area": checklist.area,
        "rd_owner": checklist.rd_owner_id,
        "production_owner": checklist.production_owner_id,
        "items-TOTAL_FORMS": len(items),
        "items-INITIAL_FORMS": len(items),
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
        "_save": "Save",
    }
    for n, item in enumerate(items):
        row = {
            "id": item.pk,
            "checklist": checklist.pk,
            "title": item.title,
            "responsible": item.responsible_id,
            "due_date": item.due_date.isoformat(),
            "evidence": item.evidence,
        }
        if item.required:
            row["required"] = "on"
        if item.title in attach:
            row["attach"] = SimpleUploadedFile(*attach[item.title])
        if item.title in delete:
            row["DELETE"] = "on"
        data.update({f"items-{n}-{name}": value for name, value in row.items()})
    return data


def _row_errors(response):
    (formset,) = response.context["inline_admin_formsets"]
    return {form.instance.title: form.errors for form in formset.formset.forms if form.errors}


def test_an_item_file_is_attached_on_the_checklist_page_within_the_limits(checklist, engineer_client, media):
    url, oven = _checklist_page(checklist), checklist.items.get(title="Oven curve approved")

    refused = engineer_client.post(url, _checklist_form(checklist, {oven.title: ("oven.exe", b"MZ")}))
    too_big = engineer_client.post(url, _checklist_form(checklist, {oven.title: ("oven.pdf", b"x" * (2**20 + 1))}))
    assert (refused.status_code, too_big.status_code) == (200, 200)
    assert _row_errors(refused)[oven.title]["attach"][0].startswith("oven.exe: a .exe file is not taken; allowed:")
    assert _row_errors(too_big) == {oven.title: {"attach": ["oven.pdf is 1.0 MB; evidence files may be up to 1 MB."]}}
    assert not HandoverItemFile.objects.exists() and not any(media.rglob("*.*"))

    saved = engineer_client.post(url, _checklist_form(checklist, {oven.title: ("oven.pdf", b"%PDF oven curve")}))
    assert saved.status_code == 302
    evidence = HandoverItemFile.objects.get()
    assert (evidence.item, evidence.name, evidence.uploaded_by.username) == (oven, "oven.pdf", "erin")
    assert oven.history.count() == 1  # attaching a file is not a change of the item
    link = f'href="/api/handover-items/{oven.pk}/files/{evidence.pk}/content/"'
    assert link in engineer_client.get(url).content.decode()
    item_page = engineer_client.get(reverse("admin:validation_handoveritem_change", args=[oven.pk]))
    assert f"{link}>oven.pdf</a>" in item_page.content.decode()
    download = engineer_client.get(f"/api/handover-items/{oven.pk}/files/{evidence.pk}/content/")
    assert b"".join(download.streaming_content) == b"%PDF oven curve"


def test_only_who_may_mark_an_item_done_attaches_its_file(checklist, media):
    olga = EngineerFactory(username="olga")
    olga.groups.add(engineers_group())
    client = Client()
    client.force_login(olga)
    oven = checklist.items.get(title="Oven curve approved")

    refused = client.post(_checklist_page(checklist), _checklist_form(checklist, {oven.title: ("oven.pdf", b"%PDF")}))

    assert refused.status_code == 200
    (error,) = _row_errors(refused)[oven.title]["attach"]
    assert error.startswith("Only ") and error.endswith(
        "may attach evidence to 'Oven curve approved' (its responsible person or an owner of its checklist); "
        "you are olga."
    )
    assert "erin" in error and not HandoverItemFile.objects.exists() and not any(media.rglob("*.*"))


def test_the_item_page_attaches_a_file_and_the_item_is_then_marked_done(checklist, engineer_client):
    oven = checklist.items.get(title="Oven curve approved")
    url = reverse("admin:validation_handoveritem_change", args=[oven.pk])
    button = reverse("admin:validation_handoveritem_button", args=[oven.pk, "mark_done_button"])

    refused = engineer_client.post(button, {"evidence": ""}, follow=True)
    messages = [str(m) for m in refused.context["messages"]]
    assert "'Oven curve approved' is required: give its evidence (text or link) or an attached file" in messages[0]

    def attach(name, content):
        form = {
            "checklist": checklist.pk,
            "title": oven.title,
            "responsible": oven.responsible_id,
            "due_date": oven.due_date.isoformat(),
            "evidence": "",
            "required": "on",
            "files-TOTAL_FORMS": "1",
            "files-INITIAL_FORMS": "0",
            "files-0-file": SimpleUploadedFile(name, content),
            "_save": "Save",
        }
        return engineer_client.post(url, form)

    not_taken = attach("curve.exe", b"MZ")
    (formset,) = [f for f in not_taken.context["inline_admin_formsets"] if f.formset.prefix == "files"]
    assert formset.formset.forms[0].errors["file"][0].startswith("curve.exe: a .exe file is not taken")
    assert not HandoverItemFile.objects.exists()
    assert attach("curve.pdf", b"%PDF oven curve").status_code == 302
    assert oven.files.get().name == "curve.pdf"

    done = engineer_client.post(button, {"evidence": ""}, follow=True)
    assert [str(m) for m in done.context["messages"]][-1] == "'Oven curve approved' marked done."
    oven.refresh_from_db()
    assert oven.done and oven.done_by.username == "erin" and oven.evidence == ""


def test_an_item_with_files_is_kept_when_its_row_is_deleted(checklist, engineer_client):
    oven = checklist.items.get(title="Oven curve approved")
    services.item_file_add(item=oven, actor=oven.responsible, upload=SimpleUploadedFile("oven.pdf", b"%PDF"))

    refused = engineer_client.post(_checklist_page(checklist), _checklist_form(checklist, {}, delete=[oven.title]))

    assert refused.status_code == 200
    assert "would require deleting the following protected related objects" in unescape(refused.content.decode())
    assert HandoverItem.objects.filter(pk=oven.pk).exists() and oven.files.count() == 1


def test_the_checklist_page_issues_the_same_queries_for_1_and_5_files_per_item(checklist, engineer_client):
    items = list(checklist.items.all())

    def attach_and_count(n):
        for item in items:
            for i in range(n):
                upload = SimpleUploadedFile(f"{item.pk}-{i}.pdf", b"%PDF")
                services.item_file_add(item=item, actor=checklist.rd_owner, upload=upload)
        with CaptureQueriesContext(connection) as queries:
            response = engineer_client.get(_checklist_page(checklist))
        assert response.status_code == 200
        return len(queries), response.content.decode().count("/content/")

    one = attach_and_count(1)
    five = attach_and_count(4)
    assert (one[1], five[1]) == (2, 10)
    assert one[0] == five[0]
