"""The spreadsheet round trip: download the supplier's parts as XLSX, upload it back, see a preview of what changes
(and every row's errors), confirm to apply exactly that, all or nothing; the same file twice changes nothing."""

import html
import re
from datetime import date, datetime
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from parts.choices import PPAPStatus
from parts.models import CapacityLine, Part, SupplierUpdate
from tests.factories import TODAY, CapacityLineFactory

pytestmark = pytest.mark.django_db
COLUMNS = {
    "part_id": 1, "name": 5, "promised_date": 9, "ppap_status": 10, "capacity": 11, "tooling": 12, "note": 13,
    "run_at_rate_on": 14, "run_at_rate_per_week": 15,
}  # fmt: skip


def _download(client):
    response = client.get("/supplier/parts.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(BytesIO(response.content))


def _row_of(sheet, part) -> int:
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, COLUMNS["part_id"]).value == part.pk:
            return row
    raise AssertionError(f"part {part.pk} not in the sheet")


def _upload(client, book):
    out = BytesIO()
    book.save(out)
    upload = SimpleUploadedFile("parts.xlsx", out.getvalue())
    return client.post("/supplier/upload/", {"file": upload})


def _token(response) -> str:
    found = re.search(r'name="token" value="([0-9a-f]+)"', response.content.decode())
    return found.group(1) if found else ""


def _text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_the_download_has_one_row_per_own_part_ids_read_only_then_editable_columns(alice_client, portal):
    sheet = _download(alice_client).worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [
        "Part id", "Program", "Part number", "Revision", "Name", "Need date", "PPAP due", "Open blockers",
        "Promised date", "PPAP status", "Capacity per week", "Tooling stage", "Note",
        "Run at rate on", "Run at rate per week",
    ]  # fmt: skip
    yellow = [cell.column for cell in sheet[1] if cell.fill.fgColor.rgb.endswith("FFF4CC")]
    assert yellow == list(range(COLUMNS["promised_date"], COLUMNS["run_at_rate_per_week"] + 1))
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert [row[2] for row in rows] == ["BM-100", "LT-200", "HC-300"]  # what needs action first, as on the page
    blocked = rows[0]
    assert blocked[0] == portal.blocked.pk and blocked[1] == "SU7" and blocked[7] == 1
    assert blocked[5] == datetime(2027, 2, 20) and blocked[9:12] == ["not_submitted", 1000, "not_started"]


def test_text_that_a_spreadsheet_would_run_is_exported_as_text(alice_client, portal):
    Part.objects.filter(pk=portal.blocked.pk).update(name='=HYPERLINK("http://evil.example","x")')
    sheet = _download(alice_client).worksheets[0]
    assert (
        sheet.cell(_row_of(sheet, portal.blocked), COLUMNS["name"]).value == '\'=HYPERLINK("http://evil.example","x")'
    )


def test_round_trip_preview_confirm_and_the_same_file_again_changes_nothing(alice_client, portal):
    book = _download(alice_client)
    sheet = book.worksheets[0]
    row = _row_of(sheet, portal.blocked)
    sheet.cell(row, COLUMNS["promised_date"]).value = date(2027, 2, 12)
    sheet.cell(row, COLUMNS["ppap_status"]).value = "submitted"
    sheet.cell(row, COLUMNS["capacity"]).value = 9100
    sheet.cell(row, COLUMNS["note"]).value = "'=1+1 is text"  # as exported: the apostrophe keeps it text
    late_row = _row_of(sheet, portal.late)
    sheet.cell(late_row, COLUMNS["tooling"]).value = "soft_tool"

    preview = _upload(alice_client, book)
    assert preview.status_code == 200
    text = _text(preview)
    assert "2 rows to look at; 1 row unchanged." in text
    assert "Promised date : Jan. 20, 2027 → Feb. 12, 2027" in text
    assert "Capacity per week : 1,000 → 9,100" in text and "PPAP status : Not submitted → Submitted" in text
    assert "Tooling stage : Not started → Soft tool" in text
    assert not SupplierUpdate.objects.exists()  # a preview stores nothing

    confirmed = alice_client.post("/supplier/upload/confirm/", {"token": _token(preview)})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/supplier/"
    blocked = Part.objects.get(pk=portal.blocked.pk)
    assert (blocked.promised_date, blocked.ppap_status, blocked.capacity_per_week) == (
        date(2027, 2, 12),
        "submitted",
        9100,
    )
    assert Part.objects.get(pk=portal.late.pk).tooling_stage == "soft_tool"
    assert sorted(SupplierUpdate.objects.values_list("note", flat=True)) == ["", "=1+1 is text"]

    # The same file again, and the file downloaded now: nothing changes, nothing is stored.
    for again in (book, _download(alice_client)):
        second = _upload(alice_client, again)
        assert "Nothing to change" in _text(second) and not _token(second)
    assert SupplierUpdate.objects.count() == 2
    # A confirmation already used is not applied twice.
    replay = alice_client.post("/supplier/upload/confirm/", {"token": _token(preview)}, follow=True)
    assert "no longer current" in _text(replay) and SupplierUpdate.objects.count() == 2


def test_every_rows_errors_are_shown_and_nothing_can_be_confirmed(alice_client, portal):
    book = _download(alice_client)
    sheet = book.worksheets[0]
    sheet.cell(_row_of(sheet, portal.blocked), COLUMNS["promised_date"]).value = date(2027, 1, 3)  # before today
    sheet.cell(_row_of(sheet, portal.healthy), COLUMNS["ppap_status"]).value = "submitted"  # approved already
    sheet.cell(_row_of(sheet, portal.late), COLUMNS["capacity"]).value = "many"
    sheet.append([portal.theirs.pk, "SU7", "SF-900"] + [None] * 5 + [None, None, 5])  # another supplier's part
    preview = _upload(alice_client, book)
    text = _text(preview)
    assert "4 rows have errors. Nothing will be stored" in text
    assert "Promised date : A promised date cannot be before today (2027-01-04)." in text
    assert "PPAP status : The PPAP is approved: only the customer can change its status." in text
    assert "Capacity per week : Enter a whole number." in text
    assert f"Part id : No part with id {portal.theirs.pk} among your parts." in text
    assert not _token(preview)
    assert alice_client.post("/supplier/upload/confirm/", {"token": "0" * 32})["Location"] == "/supplier/upload/"
    assert not SupplierUpdate.objects.exists()


def test_confirm_is_all_or_nothing_when_a_part_changed_since_the_preview(alice_client, portal):
    book = _download(alice_client)
    sheet = book.worksheets[0]
    sheet.cell(_row_of(sheet, portal.blocked), COLUMNS["ppap_status"]).value = "submitted"
    sheet.cell(_row_of(sheet, portal.late), COLUMNS["capacity"]).value = 7000
    preview = _upload(alice_client, book)
    Part.objects.filter(pk=portal.blocked.pk).update(ppap_status=PPAPStatus.APPROVED)  # the customer decided
    refused = alice_client.post("/supplier/upload/confirm/", {"token": _token(preview)})
    assert refused.status_code == 200
    assert "Nothing was stored" in _text(refused) and "The PPAP is approved" in _text(refused)
    assert not SupplierUpdate.objects.exists() and Part.objects.get(pk=portal.late.pk).capacity_per_week == 100000


def test_a_file_that_is_not_a_spreadsheet_is_refused_by_name(alice_client, portal):
    response = alice_client.post("/supplier/upload/", {"file": SimpleUploadedFile("parts.xlsx", b"not a zip")})
    assert "This is not an XLSX spreadsheet" in _text(response)


def test_the_preview_confirms_only_for_the_supplier_that_made_it(client, portal, alice_client):
    book = _download(alice_client)
    book.worksheets[0].cell(2, COLUMNS["note"]).value = "from alice"
    token = _token(_upload(alice_client, book))
    client.force_login(portal.bob)  # a new session: bob has no preview
    assert client.post("/supplier/upload/confirm/", {"token": token}).status_code == 302
    assert not SupplierUpdate.objects.exists()


def test_run_at_rate_round_trips_through_its_yellow_columns(alice_client, portal):
    Part.objects.filter(pk=portal.healthy.pk).update(run_at_rate_on=date(2026, 12, 1), run_at_rate_per_week=8000)
    book = _download(alice_client)
    sheet = book.worksheets[0]
    healthy, blocked = _row_of(sheet, portal.healthy), _row_of(sheet, portal.blocked)
    assert sheet.cell(healthy, COLUMNS["run_at_rate_on"]).value == datetime(2026, 12, 1)
    assert sheet.cell(healthy, COLUMNS["run_at_rate_on"]).number_format == "yyyy-mm-dd"
    assert sheet.cell(healthy, COLUMNS["run_at_rate_per_week"]).value == 8000
    sheet.cell(blocked, COLUMNS["run_at_rate_on"]).value = date(2027, 1, 2)
    sheet.cell(blocked, COLUMNS["run_at_rate_per_week"]).value = 1100
    sheet.cell(healthy, COLUMNS["run_at_rate_per_week"]).value = 8500

    preview = _upload(alice_client, book)
    text = _text(preview)
    assert "Run at rate on : — → Jan. 2, 2027" in text and "Run at rate per week : — → 1,100" in text
    assert "Run at rate per week : 8,000 → 8,500" in text and "Run at rate on : Dec." not in text
    assert alice_client.post("/supplier/upload/confirm/", {"token": _token(preview)}).status_code == 302
    assert Part.objects.values_list("run_at_rate_on", "run_at_rate_per_week").get(pk=portal.blocked.pk) == (
        date(2027, 1, 2),
        1100,
    )
    assert Part.objects.get(pk=portal.healthy.pk).run_at_rate_per_week == 8500
    stored = SupplierUpdate.objects.get(part=portal.blocked)
    assert (stored.run_at_rate_on, stored.run_at_rate_per_week) == (date(2027, 1, 2), 1100)
    assert "Nothing to change" in _text(_upload(alice_client, _download(alice_client)))


def test_a_bad_run_at_rate_is_named_in_its_row(alice_client, portal):
    book = _download(alice_client)
    sheet = book.worksheets[0]
    sheet.cell(_row_of(sheet, portal.blocked), COLUMNS["run_at_rate_on"]).value = "last week"
    sheet.cell(_row_of(sheet, portal.late), COLUMNS["run_at_rate_per_week"]).value = -3
    text = _text(_upload(alice_client, book))
    assert "2 rows have errors" in text and "Run at rate on : Enter a valid date." in text
    assert "Run at rate per week : Ensure this value is greater than or equal to 0." in text
    assert not SupplierUpdate.objects.exists()


def test_a_changed_capacity_is_the_plans_line_from_today_where_the_part_has_a_plan(alice_client, portal):
    CapacityLineFactory(part=portal.blocked, effective_from=date(2026, 12, 1), capacity_per_week=1000)
    CapacityLineFactory(part=portal.blocked, effective_from=date(2027, 3, 1), capacity_per_week=9500)
    book = _download(alice_client)
    sheet = book.worksheets[0]
    sheet.cell(_row_of(sheet, portal.blocked), COLUMNS["capacity"]).value = 2000
    sheet.cell(_row_of(sheet, portal.healthy), COLUMNS["capacity"]).value = 9200  # no plan: its one figure
    preview = _upload(alice_client, book)
    assert "A changed capacity per week counts from today" in _text(preview)
    assert not CapacityLine.objects.filter(effective_from=TODAY).exists()  # the preview stores nothing
    alice_client.post("/supplier/upload/confirm/", {"token": _token(preview)})
    lines = CapacityLine.objects.filter(part=portal.blocked).values_list("effective_from", "capacity_per_week")
    assert list(lines) == [(date(2026, 12, 1), 1000), (TODAY, 2000), (date(2027, 3, 1), 9500)]
    assert not CapacityLine.objects.filter(part=portal.healthy).exists()
    assert Part.objects.get(pk=portal.blocked.pk).capacity_per_week == 2000
    assert Part.objects.get(pk=portal.healthy.pk).capacity_per_week == 9200
    assert "Nothing to change" in _text(_upload(alice_client, _download(alice_client)))


def test_a_file_downloaded_before_the_run_at_rate_columns_still_uploads(alice_client, portal):
    book = _download(alice_client)
    sheet = book.worksheets[0]
    sheet.delete_cols(COLUMNS["run_at_rate_on"], 2)
    sheet.cell(_row_of(sheet, portal.blocked), COLUMNS["note"]).value = "old file"
    preview = _upload(alice_client, book)
    assert "1 row to look at; 2 rows unchanged." in _text(preview)
    alice_client.post("/supplier/upload/confirm/", {"token": _token(preview)})
    assert SupplierUpdate.objects.get().note == "old file"
