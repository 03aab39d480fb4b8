"""Cells of files that open in a spreadsheet (the gate report, the BOM export): text is never run as a formula.

Excel and LibreOffice run a cell that starts with =, +, -, @, a tab or a carriage return as a formula, also from a
CSV file (CSV or formula injection: `=HYPERLINK(...)`, `=cmd|' /C calc'!A0`). Such text is written with a leading
apostrophe. A number is not a formula, also when it is written as text ("-40"), and is left alone.
"""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _runs_as_formula(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value)


def formula_safe(value):
    """The value as a spreadsheet shows it as text: "=1+1" becomes "'=1+1"; anything else is returned as is."""
    return "'" + value if _runs_as_formula(value) else value


def formula_unquoted(value):
    """The value formula_safe() was given: a file exported here imports back unchanged."""
    if isinstance(value, str) and value.startswith("'") and _runs_as_formula(value[1:]):
        return value[1:]
    return value
