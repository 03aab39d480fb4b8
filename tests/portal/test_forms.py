"""The part page's forms: a report and an evidence file go through the same services as the API, and each refusal
is shown next to the field it names, storing nothing."""

import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from parts.choices import PPAPStatus
from parts.models import EvidenceFile, Part, SupplierUpdate

pytestmark = pytest.mark.django_db


def _field_errors(response, name: str) -> list[str]:
    """The error messages shown with the form field `name` (Django's field group: errors above the input)."""
    page = response.content.decode()
    group = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", group.group(1), re.S) if group else []


def _post(client, part, **data):
    return client.post(f"/supplier/parts/{part.pk}/", data)


def test_a_report_stores_what_changed_and_the_note(alice_client, portal):
    response = _post(
        alice_client,
        portal.blocked,
        promised_date="2027-02-15",
        ppap_status="submitted",
        capacity_per_week="2500",
        tooling_stage="not_started",  # unchanged: not reported
        note="PPAP handed in",
    )
    assert response.status_code == 302 and response["Location"] == f"/supplier/parts/{portal.blocked.pk}/"
    update = SupplierUpdate.objects.get()
    assert (update.promised_date, update.ppap_status, update.capacity_per_week, update.tooling_stage, update.note) == (
        date(2027, 2, 15),
        "submitted",
        2500,
        "",
        "PPAP handed in",
    )
    assert (update.reported_by_username, update.supplier_id) == ("alice", portal.acme.pk)
    part = Part.objects.get(pk=portal.blocked.pk)
    assert (part.promised_date, part.ppap_status, part.capacity_per_week) == (date(2027, 2, 15), "submitted", 2500)
    page = alice_client.get(response["Location"])
    assert "Your update of BM-100 is stored." in page.content.decode()
    assert "PPAP handed in" in page.content.decode()


def test_a_promise_before_today_is_refused_next_to_the_promised_date(alice_client, portal):
    response = _post(alice_client, portal.blocked, promised_date="2027-01-03")
    assert response.status_code == 200
    assert _field_errors(response, "promised_date") == ["A promised date cannot be before today (2027-01-04)."]
    assert not SupplierUpdate.objects.exists()


def test_a_ppap_decision_of_the_customer_is_refused_next_to_the_ppap_field(alice_client, portal):
    approved = portal.healthy  # the factory's part is approved
    response = _post(alice_client, approved, ppap_status="submitted")
    assert _field_errors(response, "ppap_status") == ["The PPAP is approved: only the customer can change its status."]
    # "approved" is not a choice a supplier has at all.
    response = _post(alice_client, portal.blocked, ppap_status="approved")
    assert "Select a valid choice" in _field_errors(response, "ppap_status")[0]
    assert not SupplierUpdate.objects.exists()
    assert Part.objects.get(pk=approved.pk).ppap_status == PPAPStatus.APPROVED


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"capacity_per_week": "-5"}, "capacity_per_week", "Ensure this value is greater than or equal to 0."),
        ({"capacity_per_week": "lots"}, "capacity_per_week", "Enter a whole number."),
        ({"promised_date": "soon"}, "promised_date", "Enter a valid date."),
        ({"note": "x" * 2001}, "note", "Ensure this value has at most 2000 characters (it has 2001)."),
        (
            {"tooling_stage": "welded"},
            "tooling_stage",
            "Select a valid choice. welded is not one of the available choices.",
        ),
    ],
    ids=["negative-capacity", "text-capacity", "bad-date", "long-note", "unknown-stage"],
)
def test_malformed_values_are_refused_next_to_their_field(alice_client, portal, data, field, message):
    response = _post(alice_client, portal.blocked, **data)
    assert response.status_code == 200
    assert _field_errors(response, field) == [message]
    assert not SupplierUpdate.objects.exists()


def test_a_report_of_nothing_asks_for_a_change_or_a_note(alice_client, portal):
    response = _post(alice_client, portal.blocked, capacity_per_week="1000", tooling_stage="not_started")
    assert "Nothing changed. Change a field, or write a note" in response.content.decode()
    assert not SupplierUpdate.objects.exists()
    # A note alone confirms that everything is on track (the part's last update moves on).
    assert _post(alice_client, portal.blocked, note="On track").status_code == 302
    assert Part.objects.get(pk=portal.blocked.pk).last_supplier_update_at is not None


def test_the_daily_limit_is_refused_above_the_form(alice_client, portal, settings):
    settings.SUPPLIER_DAILY_UPDATE_LIMIT = 1
    assert _post(alice_client, portal.blocked, note="first").status_code == 302
    response = _post(alice_client, portal.blocked, note="second")
    assert "A supplier may store at most 1 updates a day" in response.content.decode()
    assert SupplierUpdate.objects.count() == 1


def _upload(client, part, name="warrant.pdf", content=b"%PDF-1.7 warrant", kind="ppap_warrant"):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(f"/supplier/parts/{part.pk}/files/", {"kind": kind, "file": upload})


def test_an_evidence_file_is_uploaded_listed_and_downloaded(alice_client, portal, media):
    response = _upload(alice_client, portal.blocked)
    assert response.status_code == 302 and response["Location"].endswith(f"/supplier/parts/{portal.blocked.pk}/#files")
    evidence = EvidenceFile.objects.get()
    assert (evidence.kind, evidence.name, evidence.uploaded_by_username) == ("ppap_warrant", "warrant.pdf", "alice")
    page = alice_client.get(f"/supplier/parts/{portal.blocked.pk}/").content.decode()
    link = f"/supplier/parts/{portal.blocked.pk}/files/{evidence.pk}/"
    assert link in page and "PPAP warrant" in page
    download = alice_client.get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.7 warrant"
    assert 'filename="warrant.pdf"' in download["Content-Disposition"]


def test_an_evidence_file_over_the_limit_or_of_a_refused_type_names_the_limit(alice_client, portal, settings):
    settings.EVIDENCE_MAX_MB = 1
    too_big = _upload(alice_client, portal.blocked, content=b"x" * (2**20 + 1))
    assert _field_errors(too_big, "file") == ["warrant.pdf is 1.0 MB; evidence files may be up to 1 MB."]
    wrong_type = _upload(alice_client, portal.blocked, name="run.exe")
    assert _field_errors(wrong_type, "file")[0].startswith("run.exe: a .exe file is not taken; allowed: pdf, png")
    assert not EvidenceFile.objects.exists()
