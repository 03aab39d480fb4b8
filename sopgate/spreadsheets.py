"""Cells of files that open in a spreadsheet (the gate report, the BOM export): text is never run as a formula.

Excel and LibreOffice run a cell that starts with =, +, -, @, a tab or a carriage return as a formula, also from a
CSV file (CSV or formula injection: `=HYPERLINK(...)`, `=cmd|' /C calc'!A0`). Such text is written with a leading
apostrophe. A number is not a formula, also when it is written as text ("-40"), and is left alone.

Nor may a cell hold a control character other than tab, line feed and carriage return: an XLSX file cannot store
one (openpyxl raises IllegalCharacterError, and one U+0001 in a part name failed the whole gate report). They are
dropped, from every format alike, so the CSV and the XLSX of a report say the same.
"""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
# The characters the XLSX format cannot hold (the same set as openpyxl's ILLEGAL_CHARACTERS_RE).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _runs_as_formula(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value)


def formula_safe(value):
    """The value as a spreadsheet shows it as text: "=1+1" becomes "'=1+1", control characters a spreadsheet
    cannot hold are dropped; anything else is returned as is."""
    if isinstance(value, str):
        value = _CONTROL.sub("", value)
    return "'" + value if _runs_as_formula(value) else value


def formula_unquoted(value):
    """The value formula_safe() was given (less any control characters): a file exported here imports back
    unchanged."""
    if isinstance(value, str) and value.startswith("'") and _runs_as_formula(value[1:]):
        return value[1:]
    return value
