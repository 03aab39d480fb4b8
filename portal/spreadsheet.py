"""The supplier's parts as an XLSX file and back: one row per part, its ids and read-only columns, then the columns
a supplier reports. Reading a file back gives, per row, what would change and what is wrong with it; whether a
change may be stored is still `parts.services.supplier_updates_apply`'s to say.

"Capacity per week" is the part's capacity from today: the service makes a changed value the capacity plan's line
from today where the part has a plan (a plan's later lines are planned on the part's page, not here). The run at
rate columns come last, so a file downloaded before they existed still uploads.

Exported text that a spreadsheet would run as a formula starts with an apostrophe (`sopgate.spreadsheets`), and
the apostrophe is taken off again on the way back, so a downloaded file uploads back unchanged: a file uploaded
twice changes nothing the second time.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from parts.choices import PPAPStatus, ToolingStage
from parts.models import Part
from sopgate.spreadsheets import formula_safe, formula_unquoted

from .forms import SHEET_FIELDS, SUPPLIER_PPAP_CHOICES, SheetRowForm

READ_ONLY_COLUMNS = [
    ("part_id", gettext_lazy("Part id")),
    ("program", gettext_lazy("Program")),
    ("part_number", gettext_lazy("Part number")),
    ("revision", gettext_lazy("Revision")),
    ("name", gettext_lazy("Name")),
    ("effective_need_date", gettext_lazy("Need date")),
    ("effective_ppap_due_date", gettext_lazy("PPAP due")),
    ("open_blockers", gettext_lazy("Open blockers")),
]
EDITABLE_COLUMNS = [
    ("promised_date", gettext_lazy("Promised date")),
    ("ppap_status", gettext_lazy("PPAP status")),
    ("capacity_per_week", gettext_lazy("Capacity per week")),
    ("tooling_stage", gettext_lazy("Tooling stage")),
    ("note", gettext_lazy("Note")),
    ("run_at_rate_on", gettext_lazy("Run at rate on")),
    ("run_at_rate_per_week", gettext_lazy("Run at rate per week")),
]
COLUMNS = READ_ONLY_COLUMNS + EDITABLE_COLUMNS
LABELS = dict(COLUMNS)
MAX_ROWS = 1000  # as many as one API batch
MAX_BYTES = 5 * 2**20
_READ_ONLY_FILL = PatternFill("solid", fgColor="E8EBF0")
_EDITABLE_FILL = PatternFill("solid", fgColor="FFF4CC")


def parts_workbook(parts: list[Part], *, open_blockers: dict[int, int], notes: dict[int, str]) -> bytes:
    """The parts as an XLSX file, in the active language: headers, a dropdown of the codes a supplier may enter,
    and a second sheet explaining them."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Parts")
    sheet.append([str(label) for _name, label in COLUMNS])
    for index, (_name, _label) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = _READ_ONLY_FILL if index <= len(READ_ONLY_COLUMNS) else _EDITABLE_FILL
    for part in parts:
        sheet.append(
            [
                part.pk,
                formula_safe(part.program.code),
                formula_safe(part.part_number),
                formula_safe(part.revision),
                formula_safe(part.name),
                part.effective_need_date,
                part.effective_ppap_due_date,
                open_blockers.get(part.pk, 0),
                part.promised_date,
                part.ppap_status,
                part.capacity_per_week,
                part.tooling_stage,
                formula_safe(notes.get(part.pk, "")),
                part.run_at_rate_on,
                part.run_at_rate_per_week,
            ]
        )
    last = max(sheet.max_row, 2)
    for column in ("F", "G", "I", "N"):
        for (cell,) in sheet.iter_rows(min_row=2, max_row=last, min_col=ord(column) - 64, max_col=ord(column) - 64):
            cell.number_format = "yyyy-mm-dd"
    for column, choices in (("J", [value for value, _label in SUPPLIER_PPAP_CHOICES]), ("L", ToolingStage.values)):
        validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
        validation.add(f"{column}2:{column}{last}")
        sheet.add_data_validation(validation)
    widths = (8, 10, 16, 9, 30, 12, 12, 9, 14, 16, 12, 18, 40, 14, 12)
    for column, width in zip("ABCDEFGHIJKLMNO", widths, strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "F2"
    _help_sheet(book)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _help_sheet(book: Workbook) -> None:
    sheet = book.create_sheet(_("Help"))
    sheet.append([_("Fill in the yellow columns and upload the file back. An empty cell changes nothing.")])
    sheet.append([_("Promised date: YYYY-MM-DD, not before today.")])
    sheet.append([_("PPAP status: report 'submitted' when the PPAP is handed in; approval is the customer's.")])
    sheet.append(
        [
            _(
                "Capacity per week: what you can deliver from today. Where the part has a capacity plan, a changed "
                "value becomes its line from today; plan later changes on the part's page."
            )
        ]
    )
    sheet.append(
        [_("Run at rate on: YYYY-MM-DD, the day you demonstrated your rate; run at rate per week: that rate.")]
    )
    for value, label in PPAPStatus.choices:
        sheet.append(["", value, str(label)])
    sheet.append([_("Tooling stage:")])
    for value, label in ToolingStage.choices:
        sheet.append(["", value, str(label)])
    sheet.column_dimensions["B"].width = 20


class SheetUnreadable(Exception):
    """The upload is not an XLSX file of this layout; the message says why, for people."""


@dataclass
class SheetRow:
    number: int  # the row's number in the spreadsheet
    part: Part | None
    changes: dict[str, tuple[object, object]] = field(default_factory=dict)  # field: (now, after)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def change_list(self) -> list[tuple[str, str, str]]:
        """(column, now, after) of each change, for people: in the active language, dates and numbers as it
        writes them."""
        return [
            (str(LABELS[name]), shown(name, now), shown(name, after)) for name, (now, after) in self.changes.items()
        ]

    def error_list(self) -> list[tuple[str, str]]:
        return [(str(LABELS.get(name, "")), str(message)) for name, found in self.errors.items() for message in found]

    @property
    def item(self) -> dict | None:
        """What the row reports, as `supplier_updates_apply` takes it; None for a row with errors."""
        if self.errors or self.part is None:
            return None
        return {"part_id": self.part.pk, **{name: after for name, (_now, after) in self.changes.items()}}


def sheet_rows(upload, *, parts: dict[int, Part], notes: dict[int, str]) -> list[SheetRow]:
    """Read an uploaded file: per filled row, what it would change on which of `parts` (the supplier's own, by
    id), or its errors. Raises SheetUnreadable for a file that is not such a spreadsheet."""
    if upload.size > MAX_BYTES:
        raise SheetUnreadable(_("The file is larger than %(limit)s MB.") % {"limit": MAX_BYTES // 2**20})
    try:
        book = load_workbook(upload, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not an XLSX workbook
        raise SheetUnreadable(_("This is not an XLSX spreadsheet; upload the file downloaded here.")) from error
    sheet = book.worksheets[0]
    rows = []
    seen: dict[int, int] = {}
    for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        values = list(values[: len(COLUMNS)]) + [None] * (len(COLUMNS) - len(values))
        if all(value in (None, "") for value in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise SheetUnreadable(_("The file has more than %(limit)s rows.") % {"limit": MAX_ROWS})
        rows.append(
            _sheet_row(number, dict(zip((name for name, _label in COLUMNS), values, strict=True)), parts, notes, seen)
        )
    book.close()
    return rows


def _sheet_row(number: int, values: dict, parts: dict[int, Part], notes: dict[int, str], seen: dict[int, int]):
    part_id = values["part_id"]
    if isinstance(part_id, float) and part_id.is_integer():
        part_id = int(part_id)
    if isinstance(part_id, str) and part_id.strip().isdigit():
        part_id = int(part_id.strip())
    part = parts.get(part_id) if isinstance(part_id, int) else None
    if part is None:
        return SheetRow(
            number, None, errors={"part_id": [_("No part with id %(id)s among your parts.") % {"id": part_id}]}
        )
    if part_id in seen:
        return SheetRow(
            number, part, errors={"part_id": [_("This part is also in row %(row)s.") % {"row": seen[part_id]}]}
        )
    seen[part_id] = number
    data = {name: _as_text(values[name]) for name in SHEET_FIELDS}
    data["note"] = formula_unquoted(data["note"]).strip()
    if data["ppap_status"] == part.ppap_status:
        data["ppap_status"] = ""  # unchanged, also where it is a status only the customer sets
    if data["note"] == notes.get(part.pk, ""):
        data["note"] = ""
    form = SheetRowForm.for_part(part, data=data)
    if not form.is_valid():
        return SheetRow(number, part, errors={name: list(messages) for name, messages in form.errors.items()})
    reported = form.reported()
    return SheetRow(number, part, changes={name: (_current(part, name), value) for name, value in reported.items()})


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if not isinstance(value, str) else value.strip()


def _current(part: Part, name: str):
    return "" if name == "note" else getattr(part, name)


_CHOICES = {"ppap_status": dict(PPAPStatus.choices), "tooling_stage": dict(ToolingStage.choices)}


def shown(name: str, value) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, int):
        return intcomma(value)
    return str(_CHOICES.get(name, {}).get(value, value))
