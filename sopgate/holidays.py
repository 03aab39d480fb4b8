"""Closed dates read from a holiday list: a CSV with a date column (the first column that holds ISO dates, or one
named date) or an iCalendar file's all-day events (`DTSTART;VALUE=DATE:20270206`). No dependency: an ICS export of
holidays is a line per event start, and that line is all a work calendar needs."""

import csv
import io
import re
from datetime import date, timedelta

_ICS_START = re.compile(r"^DTSTART(?:;[^:]*)?:(\d{8})", re.MULTILINE)
_ICS_END = re.compile(r"^DTEND(?:;[^:]*)?:(\d{8})", re.MULTILINE)


class HolidayFileError(ValueError):
    pass


def _ics_day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def holiday_dates(content: bytes, *, filename: str) -> list[date]:
    """The dates of a holiday list, sorted and without repeats; HolidayFileError naming what is wrong."""
    text = content.decode("utf-8-sig", errors="replace")
    days: set[date] = set()
    if filename.lower().endswith((".ics", ".ical")) or "BEGIN:VCALENDAR" in text[:200]:
        for event in text.replace("\r\n ", "").split("BEGIN:VEVENT")[1:]:
            start = _ICS_START.search(event)
            if not start:
                continue
            first = _ics_day(start.group(1))
            end = _ICS_END.search(event)
            # An all-day event's DTEND is the day after its last day.
            last = _ics_day(end.group(1)) - timedelta(days=1) if end else first
            days.update(first + timedelta(n) for n in range(max(0, (last - first).days) + 1))
    else:
        rows = list(csv.reader(io.StringIO(text)))
        header = [cell.strip().lower() for cell in rows[0]] if rows else []
        column = header.index("date") if "date" in header else None
        for number, row in enumerate(rows, start=1):
            cells = [row[column]] if column is not None and column < len(row) else row
            for cell in cells:
                try:
                    days.add(date.fromisoformat(cell.strip()))
                    break
                except ValueError:
                    continue
            else:
                if column is not None and number > 1:
                    raise HolidayFileError(f"Row {number}: {cells[0]!r} is not a date (YYYY-MM-DD).")
    if not days:
        raise HolidayFileError("No dates found: give a CSV with YYYY-MM-DD dates, or an .ics file of all-day events.")
    return sorted(days)
