"""BOM import and export through the part admin (django-import-export): all rows or none."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from parts.models import Part
from parts.resources import import_error_messages
from sopgate.models import Program
from tests.factories import EngineerFactory, PartFactory, ProgramFactory, SupplierFactory

pytestmark = pytest.mark.django_db

HEADER = "program,part_number,revision,name,supplier,qty_per_vehicle,need_date,criticality,owner"
GOOD_ROWS = [
    "SU7,BM-100,B,Battery module,CATL-NB,8,2027-02-10,critical,anna",
    "SU7,SF-200,A,Seat frame,LEAR-SF,2,,safety,",
    "SU7,FL-300,,Frunk liner,,1,2027-02-01,standard,anna",
]


@pytest.fixture
def bom_world(db):
    ProgramFactory(code="SU7")
    SupplierFactory(code="CATL-NB")
    SupplierFactory(code="LEAR-SF")
    return EngineerFactory(username="anna")


def _csv(*rows, header=HEADER):
    return io.BytesIO("\n".join([header, *rows]).encode())


def _format_index(client, title):
    """The import/export format choice is an index into the configured formats; find it by its title."""
    form = client.get(reverse("admin:parts_part_import")).context["form"]
    return next(value for value, label in form.fields["format"].choices if label == title)


def _upload(client, content, name, title="csv"):
    content.name = name
    return client.post(
        reverse("admin:parts_part_import"),
        {"resource": "0", "format": _format_index(client, title), "import_file": content},
    )


def _confirm(client, preview):
    confirm = preview.context["confirm_form"]
    return client.post(reverse("admin:parts_part_process_import"), confirm.initial, follow=True)


def _export(client, title, query=""):
    """The changelist (filtered by `query`) exported in the format named `title`, every field selected."""
    url = reverse("admin:parts_part_export") + query
    form = client.get(url).context["form"]
    data = {"format": next(value for value, label in form.fields["format"].choices if label == title), "resource": "0"}
    data.update({name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)})
    response = client.post(url, data)
    assert response.status_code == 200
    return response


def _row_errors(response):
    """Every error the preview shows, one line per row and field."""
    return import_error_messages(response.context["result"])


def test_good_csv_imports_every_row_with_codes_resolved(bom_world, engineer_client):
    preview = _upload(engineer_client, _csv(*GOOD_ROWS), "bom.csv")
    assert preview.status_code == 200
    assert _row_errors(preview) == []
    assert Part.objects.count() == 0  # the preview is a dry run
    response = _confirm(engineer_client, preview)
    assert response.status_code == 200
    assert Part.objects.count() == 3
    battery = Part.objects.select_related("program", "supplier", "owner").get(part_number="BM-100")
    assert (battery.program.code, battery.revision, battery.supplier.code) == ("SU7", "B", "CATL-NB")
    assert (battery.qty_per_vehicle, str(battery.need_date), battery.criticality) == (8, "2027-02-10", "critical")
    assert battery.owner.username == "anna"
    liner = Part.objects.get(part_number="FL-300")
    assert (liner.revision, liner.supplier) == ("A", None)  # empty revision means A; no supplier = unsourced
    seat = Part.objects.get(part_number="SF-200")
    assert (seat.need_date, seat.owner) == (None, None)
    # The import is attributable: the history rows name the engineer who imported the file.
    assert {h.history_user.username for h in Part.history.all()} == {"erin"}


def test_xlsx_file_imports_too(bom_world, engineer_client):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["SU7", "BM-100", "B", "Battery module", "CATL-NB", 8, date(2027, 2, 10), "critical", "anna"])
    sheet.append(["SU7", "SF-200", "A", "Seat frame", "LEAR-SF", 2, None, "safety", None])
    content = io.BytesIO()
    book.save(content)
    content.seek(0)
    preview = _upload(engineer_client, content, "bom.xlsx", title="xlsx")
    assert _row_errors(preview) == []
    _confirm(engineer_client, preview)
    assert sorted(Part.objects.values_list("part_number", flat=True)) == ["BM-100", "SF-200"]
    assert Part.objects.get(part_number="BM-100").need_date == date(2027, 2, 10)  # a real date cell


@pytest.mark.parametrize(
    "bad_row, expected",
    [
        ("SU7,XX-1,A,Mystery part,NOPE-42,1,2027-02-10,standard,anna", "Unknown supplier code 'NOPE-42'"),
        (
            "SU7,XX-1,A,Mystery part,CATL-NB,1,2027-02-30,standard,anna",
            "'2027-02-30' is not a valid date; use YYYY-MM-DD",
        ),
        ("SU7,XX-1,A,Mystery part,CATL-NB,0,2027-02-10,standard,anna", "qty_per_vehicle"),
        ("SU7,XX-1,A,Mystery part,CATL-NB,1,2027-02-10,vital,anna", "vital"),
        ("SU7,XX-1,A,Mystery part,CATL-NB,1,2027-02-10,standard,nobody", "Unknown owner username 'nobody'"),
        ("ZZ9,XX-1,A,Mystery part,CATL-NB,1,2027-02-10,standard,anna", "Unknown program code 'ZZ9'"),
        (
            "SU7, BM-100 ,B,Battery module again,CATL-NB,8,2027-02-10,critical,anna",
            "Duplicate part BM-100 rev B in this file (first on row 1)",
        ),
        ("SU7,FL-300,A,Frunk liner again,,1,,standard,", "Duplicate part FL-300 rev A in this file (first on row 3)"),
    ],
    ids=[
        "unknown-supplier",
        "impossible-date",
        "zero-qty",
        "bad-criticality",
        "unknown-owner",
        "unknown-program",
        "duplicate-part",
        "duplicate-with-empty-revision",
    ],
)
def test_a_bad_row_is_named_and_nothing_imports(bom_world, engineer_client, bad_row, expected):
    preview = _upload(engineer_client, _csv(*GOOD_ROWS, bad_row), "bom.csv")
    assert preview.status_code == 200
    errors = _row_errors(preview)
    assert len(errors) >= 1, errors
    assert any(expected in error and error.startswith("Row 4") for error in errors), errors
    assert "confirm_form" not in preview.context  # no way to import the file
    assert Part.objects.count() == 0
    assert expected.replace("'", "&#x27;") in preview.content.decode()


def test_export_of_the_filtered_changelist_as_csv(engineer_client):
    su7, other = ProgramFactory(code="SU7"), ProgramFactory(code="SU8")
    PartFactory(program=su7, part_number="BM-100", revision="B", supplier=SupplierFactory(code="CATL-NB"))
    PartFactory(program=other, part_number="XX-999")
    response = _export(engineer_client, "csv", f"?program__id__exact={su7.pk}")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # so Excel reads the file as UTF-8
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == HEADER
    assert len(lines) == 2
    assert lines[1].startswith("SU7,BM-100,B,Seat frame,CATL-NB,1,")


def test_data_changing_between_preview_and_confirm_imports_nothing(bom_world, engineer_client):
    preview = _upload(engineer_client, _csv(*GOOD_ROWS), "bom.csv")
    assert _row_errors(preview) == []
    # Someone renames the seat supplier after the preview: row 2 now names an unknown supplier.
    from parts.models import Supplier

    Supplier.objects.filter(code="LEAR-SF").update(code="LEAR-SK")
    response = _confirm(engineer_client, preview)
    assert Part.objects.count() == 0
    shown = [str(m) for m in response.context["messages"]]
    assert "Nothing was imported: the file has errors." in shown
    assert "Row 2, supplier: Unknown supplier code 'LEAR-SF'." in shown
    assert not any(m.startswith("Import finished") for m in shown)


FORMULA_NUMBER = '=HYPERLINK("http://evil","x")'
FORMULA_NAME = "=cmd|' /C calc'!A0"


@pytest.fixture
def formula_part(db):
    """A part whose text cells a spreadsheet would run as formulas, owned by a user whose name starts with @."""
    return PartFactory(
        program=ProgramFactory(code="SU7"),
        part_number=FORMULA_NUMBER,
        name=FORMULA_NAME,
        supplier=SupplierFactory(code="CATL-NB"),
        owner=EngineerFactory(username="@ops"),
        qty_per_vehicle=4,
    )


def test_export_to_csv_keeps_formulas_as_text(formula_part, engineer_client):
    rows = list(csv.reader(io.StringIO(_export(engineer_client, "csv").content.decode("utf-8-sig"))))
    assert rows[1] == ["SU7", "'" + FORMULA_NUMBER, "A", "'" + FORMULA_NAME, "CATL-NB", "4", "", "standard", "'@ops"]


@pytest.mark.parametrize(
    "name, exported",
    [
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-40", "-40"),  # a negative number is not a formula
        ("Seat frame = welded", "Seat frame = welded"),
    ],
)
def test_export_quotes_every_cell_a_spreadsheet_would_run(engineer_client, name, exported):
    PartFactory(program=ProgramFactory(code="SU7"), name=name)
    rows = list(csv.reader(io.StringIO(_export(engineer_client, "csv").content.decode("utf-8-sig"))))
    assert rows[1][3] == exported


def test_export_to_xlsx_writes_formulas_as_text(formula_part, engineer_client):
    response = _export(engineer_client, "xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    number, name, qty, owner = sheet["B2"], sheet["D2"], sheet["F2"], sheet["I2"]
    assert (number.value, number.data_type) == ("'" + FORMULA_NUMBER, "s")
    assert (name.value, name.data_type) == ("'" + FORMULA_NAME, "s")
    assert (owner.value, owner.data_type) == ("'@ops", "s")
    assert qty.value == 4  # numbers stay numbers


def test_export_to_xlsx_drops_control_characters_a_spreadsheet_cannot_hold(engineer_client):
    PartFactory(program=ProgramFactory(code="SU7"), name="Seat\x01frame\x0b=1")
    response = _export(engineer_client, "xlsx")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content)).active["D2"].value == "Seatframe=1"


def test_an_exported_file_imports_back_unchanged(formula_part, engineer_client):
    exported = io.BytesIO(_export(engineer_client, "csv").content)
    preview = _upload(engineer_client, exported, "bom.csv")
    assert _row_errors(preview) == []
    _confirm(engineer_client, preview)
    part = Part.objects.select_related("owner").get()
    assert (part.part_number, part.name, part.owner.username) == (FORMULA_NUMBER, FORMULA_NAME, "@ops")
    assert part.history.count() == 1  # the import found nothing to change


@pytest.mark.parametrize("qty", ["1.5", "abc", "-2", "0", "Infinity"])
def test_a_quantity_that_is_not_a_whole_number_of_one_or_more_is_named(bom_world, engineer_client, qty):
    preview = _upload(
        engineer_client, _csv(GOOD_ROWS[0], f"SU7,XX-1,A,Mystery part,CATL-NB,{qty},,standard,"), "bom.csv"
    )
    message = f"'{qty}' is not a whole number of 1 or more."
    assert _row_errors(preview) == [f"Row 2, qty_per_vehicle: {message}"]
    assert "confirm_form" not in preview.context
    assert message.replace("'", "&#x27;") in preview.content.decode()
    assert Part.objects.count() == 0


def test_quantities_written_as_decimals_by_a_spreadsheet_import_as_whole_numbers(bom_world, engineer_client):
    preview = _upload(engineer_client, _csv("SU7,BM-100,B,Battery module,CATL-NB, 8.0 ,,critical,anna"), "bom.csv")
    assert _row_errors(preview) == []
    _confirm(engineer_client, preview)
    assert Part.objects.get().qty_per_vehicle == 8


def test_bad_numbers_and_dates_in_an_xlsx_file_are_named(bom_world, engineer_client):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["SU7", "BM-100", "B", "Battery module", "CATL-NB", 8.0, date(2027, 2, 10), "critical", "anna"])
    sheet.append(["SU7", "SF-200", "A", "Seat frame", "LEAR-SF", 1.5, 46428, "safety", None])
    content = io.BytesIO()
    book.save(content)
    content.seek(0)
    preview = _upload(engineer_client, content, "bom.xlsx", title="xlsx")
    assert _row_errors(preview) == [
        "Row 2, qty_per_vehicle: '1.5' is not a whole number of 1 or more.",
        "Row 2, need_date: '46428' is not a valid date; use YYYY-MM-DD, e.g. 2027-02-10.",
    ]
    assert "confirm_form" not in preview.context
    assert Part.objects.count() == 0


def test_a_file_without_a_revision_column_imports_as_revision_a(bom_world, engineer_client):
    PartFactory(program=Program.objects.get(code="SU7"), part_number="SF-200", revision="A", qty_per_vehicle=1)
    header = "program,part_number,name,supplier,qty_per_vehicle,need_date,criticality,owner"
    rows = ["SU7,BM-100,Battery module,CATL-NB,8,2027-02-10,critical,anna", "SU7,SF-200,Seat frame,LEAR-SF,2,,safety,"]
    preview = _upload(engineer_client, _csv(*rows, header=header), "bom.csv")
    assert _row_errors(preview) == []
    _confirm(engineer_client, preview)
    assert sorted(Part.objects.values_list("part_number", "revision", "qty_per_vehicle")) == [
        ("BM-100", "A", 8),
        ("SF-200", "A", 2),  # the existing rev A part, updated
    ]


@pytest.mark.parametrize("missing", ["program", "part_number"])
def test_a_file_without_a_key_column_is_refused_with_the_column_named(bom_world, engineer_client, missing):
    columns = HEADER.split(",")
    keep = [i for i, column in enumerate(columns) if column != missing]
    header = ",".join(columns[i] for i in keep)
    rows = [",".join(row.split(",")[i] for i in keep) for row in GOOD_ROWS]
    preview = _upload(engineer_client, _csv(*rows, header=header), "bom.csv")
    message = f"The file has no {missing} column; the first row must name the columns, e.g. {HEADER}"
    assert _row_errors(preview)[0] == f"File: {message}"
    page = preview.content.decode()
    assert message in page
    assert "Traceback" not in page
    assert "confirm_form" not in preview.context
    assert Part.objects.count() == 0


def test_a_csv_file_that_is_not_utf8_is_refused_with_what_to_do(bom_world, engineer_client):
    rows = [HEADER, "SU7,BM-100,B,Kühlplatte,CATL-NB,8,2027-02-10,critical,anna"]
    preview = _upload(engineer_client, io.BytesIO("\n".join(rows).encode("latin-1")), "bom.csv")
    assert preview.context["form"].errors["import_file"] == [
        "The file is not UTF-8 text. Save it as CSV UTF-8 (Excel: Save As, CSV UTF-8) and upload it again, "
        "or choose xlsx for an Excel workbook."
    ]
    assert "confirm_form" not in preview.context
    assert Part.objects.count() == 0
    # Excel's CSV UTF-8 (with its byte order mark) imports, umlaut and all.
    preview = _upload(engineer_client, io.BytesIO("\n".join(rows).encode("utf-8-sig")), "bom.csv")
    _confirm(engineer_client, preview)
    assert Part.objects.get().name == "Kühlplatte"


def test_a_suppliers_login_as_owner_is_named_and_nothing_imports(bom_world, engineer_client, django_assert_num_queries):
    from parts.models import SupplierUser
    from parts.resources import OwnerWidget
    from tests.factories import UserFactory

    sam = UserFactory(username="sam")
    SupplierUser.objects.create(user=sam, supplier=SupplierFactory(code="SAM-CO"))
    preview = _upload(engineer_client, _csv(*GOOD_ROWS, "SU7,XX-1,A,Mystery part,CATL-NB,1,,standard,sam"), "bom.csv")
    assert "Row 4, owner: 'sam' is a supplier's login; owners are the customer's own people." in _row_errors(preview)
    assert Part.objects.count() == 0
    # The login and its membership come in one query: the check costs a row nothing more.
    with django_assert_num_queries(1), pytest.raises(ValueError):
        OwnerWidget().clean("sam")


# --- What Excel writes (issue 19) ------------------------------------------------------------------------------------


def test_a_semicolon_csv_as_german_excel_writes_it_imports(bom_world, engineer_client):
    rows = [row.replace(",", ";") for row in GOOD_ROWS]
    content = io.BytesIO(("\ufeff" + "\n".join([HEADER.replace(",", ";"), *rows])).encode())  # "CSV UTF-8", BOM
    preview = _upload(engineer_client, content, "Stückliste.csv")
    assert preview.status_code == 200 and _row_errors(preview) == []
    _confirm(engineer_client, preview)
    assert Part.objects.get(part_number="BM-100").qty_per_vehicle == 8
    assert Part.objects.count() == 3


def test_the_format_is_taken_from_the_files_extension(bom_world, engineer_client):
    for name, content in (("bom.csv", _csv(*GOOD_ROWS)), ("bom.xlsx", _xlsx_of(GOOD_ROWS))):
        content.name = name
        preview = engineer_client.post(reverse("admin:parts_part_import"), {"resource": "0", "import_file": content})
        assert preview.status_code == 200 and "confirm_form" in preview.context, name
    unknown = io.BytesIO(b"x")
    unknown.name = "bom.pages"
    refused = engineer_client.post(reverse("admin:parts_part_import"), {"resource": "0", "import_file": unknown})
    assert refused.context["form"].errors["format"][0].startswith("Choose the file's format: '.pages' is none of ")


def test_a_criticality_by_its_label_imports_and_a_wrong_one_lists_the_choices(bom_world, engineer_client):
    labelled = _upload(engineer_client, _csv("SU7,BM-100,B,Battery module,CATL-NB,8,2027-02-10,Safety,anna"), "a.csv")
    assert _row_errors(labelled) == []
    wrong = _upload(engineer_client, _csv("SU7,BM-100,B,Battery module,CATL-NB,8,2027-02-10,Vital,anna"), "b.csv")
    assert _row_errors(wrong) == [
        "Row 1, criticality: 'Vital' is not a criticality; use one of: safety, critical, standard."
    ]


def test_the_preview_lists_every_row_error_as_text(bom_world, engineer_client):
    bad = ["SU7,XX-1,A,Mystery part,NOPE-42,1,2027-02-30,standard,anna"]
    html = _upload(engineer_client, _csv(*GOOD_ROWS, *bad), "bom.csv").content.decode()
    listed = html[html.index('class="sg-import-errors"') :]
    assert "Row 4, supplier: Unknown supplier code &#x27;NOPE-42&#x27;." in listed
    assert "Row 4, need_date: &#x27;2027-02-30&#x27; is not a valid date" in listed
    assert "Nothing was imported: 1 row of the file has errors" in html


def _xlsx_of(rows) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for row in rows:
        sheet.append(next(csv.reader([row])))
    content = io.BytesIO()
    book.save(content)
    content.seek(0)
    return content
