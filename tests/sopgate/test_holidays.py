from datetime import date

import pytest

from sopgate.holidays import HolidayFileError, holiday_dates


def test_an_ics_all_day_event_closes_each_of_its_days():
    ics = (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Spring Festival\r\nDTSTART;VALUE=DATE:20270206\r\n"
        b"DTEND;VALUE=DATE:20270209\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270501\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    assert holiday_dates(ics, filename="cn.ics") == [
        date(2027, 2, 6),
        date(2027, 2, 7),
        date(2027, 2, 8),
        date(2027, 5, 1),
    ]


def test_a_csv_date_column_and_a_bad_row_named():
    assert holiday_dates(b"name,date\nTag der Arbeit,2027-05-01\nNeujahr,2027-01-01\n", filename="de.csv") == [
        date(2027, 1, 1),
        date(2027, 5, 1),
    ]
    with pytest.raises(HolidayFileError, match="Row 3"):
        holiday_dates(b"name,date\nA,2027-05-01\nB,May 2\n", filename="de.csv")
    with pytest.raises(HolidayFileError, match="No dates"):
        holiday_dates(b"nothing here\n", filename="x.csv")
