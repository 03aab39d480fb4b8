"""The gate report for the review meeting, as CSV and XLSX: the verdict first, then every open blocker; the XLSX
has a second sheet with the ramp week by week (planned against achievable vehicles and the bottleneck parts)."""

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from ..choices import Decision, ObjectType, Rule, Severity
from ..gate.coverage import program_ramp
from ..models import Blocker
from ..selectors import Readiness
from ..spreadsheets import formula_safe

BLOCKER_COLUMNS = ["Rule", "Rule code", "Severity", "Object type", "Object", "Owner", "Age (days)", "Message"]
RAMP_COLUMNS = [
    "ISO week",
    "Starts on",
    "Planned vehicles",
    "Achievable vehicles",
    "Gap",
    "Bottleneck parts (capacity / demand that week)",
    "Closed dates (plant and bottleneck suppliers)",
]


def person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def blocker_owners(blocker: Blocker) -> str:
    return " & ".join(name for name in (person(blocker.owner), person(blocker.co_owner)) if name) or "unassigned"


def blocker_age_days(blocker: Blocker, today: date) -> int:
    return max(0, (today - timezone.localdate(blocker.opened_at)).days)


@dataclass(frozen=True)
class GateReport:
    title: str
    summary: list[tuple[str, object]]
    blockers: list[list[object]]
    ramp: list[list[object]]


def gate_report(readiness: Readiness) -> GateReport:
    program = readiness.program
    summary = [
        ("Program", f"{program.code} {program.name}"),
        ("As of", readiness.as_of),
        ("SOP date", program.sop_date),
        ("Days to SOP", readiness.days_to_sop),
        ("Decision", Decision(readiness.decision).label),
        ("Decision sentence", readiness.decision_sentence),
        ("Readiness %", float(readiness.readiness_pct)),
        ("Items done", f"{readiness.done_items} of {readiness.total_items}"),
        ("Open blocking", readiness.blocking_count),
        ("Open warnings", readiness.warning_count),
        ("Forecast SOP date", readiness.forecast_sop_date or "unknown"),
        ("Forecast reason", readiness.forecast_reason),
    ]
    rows = [
        [
            Rule(b.rule).label,
            b.rule,
            Severity(b.severity).label,
            ObjectType(b.object_type).label,
            b.object_label,
            blocker_owners(b),
            blocker_age_days(b, readiness.as_of),
            b.message,
        ]
        for b in readiness.blockers
    ]
    return GateReport(f"{program.code} gate report {readiness.as_of:%Y-%m-%d}", summary, rows, _ramp_rows(program))


def _ramp_rows(program) -> list[list[object]]:
    """A row per week of the ramp, as on the program page (`ProgramRamp.coverage`); every bottleneck part named."""
    return [
        [
            week["week"],
            week["starts_on"],
            week["planned_vehicles"],
            week["achievable_vehicles"],
            week["gap"],
            ", ".join(
                f"{b['part_number']} {b['revision']} ({b['capacity']} / {b['demand']})" for b in week["bottleneck"]
            )
            if week["planned_vehicles"]
            else "",
            ", ".join(day.isoformat() for day in week["closed"]),
        ]
        for week in program_ramp(program).coverage()
    ]


def render_csv(report: GateReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([report.title])
    for label, value in report.summary:
        writer.writerow([label, formula_safe(value.isoformat() if isinstance(value, date) else value)])
    writer.writerow([])
    writer.writerow(BLOCKER_COLUMNS)
    for row in report.blockers:
        writer.writerow([formula_safe(v) for v in row])
    return out.getvalue()


def render_xlsx(report: GateReport) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Gate report"
    bold = Font(bold=True)
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in report.summary:
        sheet.append([label, formula_safe(value)])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        if isinstance(value, date):
            sheet.cell(row=sheet.max_row, column=2).number_format = "yyyy-mm-dd"
    sheet.append([])
    sheet.append(BLOCKER_COLUMNS)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = bold
    for row in report.blockers:
        sheet.append([formula_safe(v) for v in row])
    if report.blockers:
        sheet.auto_filter.ref = f"A{header_row}:{chr(64 + len(BLOCKER_COLUMNS))}{sheet.max_row}"
    sheet.freeze_panes = f"A{header_row + 1}"
    for column, width in zip("ABCDEFGH", (26, 22, 11, 18, 42, 28, 11, 90), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2, max_row=header_row - 2, min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, horizontal="left")
    _ramp_sheet(workbook, report.ramp, bold)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _ramp_sheet(workbook: Workbook, rows: list[list[object]], bold: Font) -> None:
    """The ramp week by week; a week below plan has its gap in bold red on a pale red fill."""
    sheet = workbook.create_sheet("Ramp")
    sheet.append(RAMP_COLUMNS)
    for cell in sheet[1]:
        cell.font = bold
    short_font, short_fill = Font(bold=True, color="9C0006"), PatternFill("solid", fgColor="FFC7CE")
    for row in rows:
        sheet.append([formula_safe(v) for v in row])
        sheet.cell(row=sheet.max_row, column=2).number_format = "yyyy-mm-dd"
        if row[4] is not None and row[4] < 0:
            gap = sheet.cell(row=sheet.max_row, column=5)
            gap.font, gap.fill = short_font, short_fill
    if not rows:
        sheet.append(["No ramp plan yet: add ramp steps to the program."])
    sheet.freeze_panes = "B2"
    for column, width in zip("ABCDEFG", (11, 12, 16, 19, 9, 60, 44), strict=True):
        sheet.column_dimensions[column].width = width
