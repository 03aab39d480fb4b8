import csv
import io
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from sopgate.selectors import program_readiness
from sopgate.services import program_scan
from tests.dashboard.conftest import build_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(at_today):
    program = build_program("SU7", 8, at_today, scan=False)
    # A first scan three days ago, so blockers still open today are three days old.
    earlier = at_today - timedelta(days=3)
    program_scan(program_id=program.pk, today=earlier, now=timezone.make_aware(datetime.combine(earlier, time(9))))
    program_scan(program_id=program.pk, today=at_today)
    return program


def _expected_rows(readiness, today):
    rows = []
    for b in readiness.blockers:
        owner = b.owner.get_full_name() or b.owner.username
        if b.co_owner:
            owner += " & " + (b.co_owner.get_full_name() or b.co_owner.username)
        age = (today - timezone.localdate(b.opened_at)).days
        rows.append(
            [
                b.get_rule_display(),
                b.rule,
                b.get_severity_display(),
                b.get_object_type_display(),
                b.object_label,
                owner,
                age,
                b.message,
            ]
        )
    return rows


def test_csv_report_has_the_verdict_then_every_open_blocker(engineer_client, program, at_today):
    response = engineer_client.get("/programs/SU7/report.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="SU7-gate-report-2027-01-04.csv"' in response["Content-Disposition"]
    readiness = program_readiness(program, today=at_today)
    assert response.content.startswith("\ufeff".encode())  # so Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    summary = {row[0]: row[1] for row in rows[1:13]}
    assert summary["Decision"] == "No go"
    assert summary["Decision sentence"] == readiness.decision_sentence
    assert summary["Readiness %"] == str(float(readiness.readiness_pct))
    assert summary["Forecast SOP date"] == (
        readiness.forecast_sop_date.isoformat() if readiness.forecast_sop_date else "unknown"
    )
    assert summary["Forecast reason"] == readiness.forecast_reason
    assert summary["Open blocking"] == str(readiness.blocking_count)
    header = rows.index(["Rule", "Rule code", "Severity", "Object type", "Object", "Owner", "Age (days)", "Message"])
    body = rows[header + 1 :]
    expected = _expected_rows(readiness, at_today)
    assert len(body) == len(readiness.blockers) > 5
    assert body == [[str(v) for v in row] for row in expected]
    assert {row[6] for row in body} >= {"3"}  # blockers open since the first scan are 3 days old


def test_xlsx_report_matches_program_readiness(engineer_client, program, at_today):
    response = engineer_client.get("/programs/SU7/report.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    readiness = program_readiness(program, today=at_today)
    summary = {row[0]: row[1] for row in rows[1:13]}
    assert summary["Decision"] == "No go"
    assert summary["Readiness %"] == float(readiness.readiness_pct)
    assert summary["Days to SOP"] == readiness.days_to_sop
    assert summary["Forecast reason"] == readiness.forecast_reason
    header = next(i for i, row in enumerate(rows) if row[0] == "Rule")
    body = [row[:8] for row in rows[header + 1 :]]
    assert body == _expected_rows(readiness, at_today)


def test_report_cells_that_look_like_formulas_are_defused(engineer_client, at_today):
    from tests.factories import PartFactory

    program = build_program("SU7", 1, at_today)
    PartFactory(program=program, supplier=None, name='=HYPERLINK("http://x")')
    program_scan(program_id=program.pk, today=at_today)
    text = engineer_client.get("/programs/SU7/report.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_a_control_character_in_a_part_name_does_not_break_the_xlsx_report(engineer_client, at_today):
    from tests.factories import PartFactory

    program = build_program("SU7", 1, at_today)
    PartFactory(program=program, supplier=None, name="Seat\x01frame\x1f")
    program_scan(program_id=program.pk, today=at_today)
    response = engineer_client.get("/programs/SU7/report.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [str(value) for row in sheet.iter_rows(values_only=True) for value in row if value is not None]
    assert any("Seatframe" in cell for cell in cells)
    assert not any("\x01" in cell or "\x1f" in cell for cell in cells)


def test_xlsx_report_has_the_ramp_week_by_week_on_a_second_sheet(engineer_client, program):
    """The same weeks as the API's ramp coverage: planned and achievable vehicles, the gap (marked when below
    plan), every bottleneck part with its capacity and demand that week, and the closed dates."""
    from sopgate.gate.coverage import program_ramp

    response = engineer_client.get("/programs/SU7/report.xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Gate report", "Ramp"]
    sheet = workbook["Ramp"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:5] == ["ISO week", "Starts on", "Planned vehicles", "Achievable vehicles", "Gap"]
    weeks = program_ramp(program).coverage()
    assert len(rows) == 1 + len(weeks) and weeks
    for row, week in zip(rows[1:], weeks, strict=True):
        assert row[0] == week["week"] and row[1].date() == week["starts_on"]
        assert row[2:5] == [week["planned_vehicles"], week["achievable_vehicles"], week["gap"]]
    # The tightest parts make 1,500 a week against July's 10,000 vehicles (2,273 in a full week): below plan.
    july = next(n for n, week in enumerate(weeks, start=2) if week["week"] == "2027-W28")
    assert rows[july - 1][3] == 1500 and rows[july - 1][4] == 1500 - rows[july - 1][2] < 0
    named = rows[july - 1][5].split(", ")
    assert len(named) == len(weeks[july - 2]["bottleneck"]) and named[0].endswith(" (1500 / 2273)")
    assert sheet.cell(row=july, column=5).font.bold and sheet.cell(row=july, column=5).fill.fgColor.rgb.endswith(
        "FFC7CE"
    )
    assert sheet.freeze_panes == "B2"
