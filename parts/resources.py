"""Bill-of-materials import/export (CSV and XLSX) through django-import-export.

A file with any bad row (unknown supplier or program code, impossible date, a quantity that is not a whole number,
duplicate part) imports nothing: the preview lists every error by row and column, and the import runs in one
transaction that rolls back on any invalid row, also when the data changed between the preview and the confirmation.

Exported text that a spreadsheet would run as a formula starts with an apostrophe (sopgate.spreadsheets); the
import takes it off again, so an exported file imports back unchanged.
"""

import re
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets
from import_export.formats import base_formats

from sopgate.programs import Program
from sopgate.spreadsheets import formula_safe, formula_unquoted

from .choices import Criticality
from .models import Part, Supplier


class CodeWidget(widgets.ForeignKeyWidget):
    """A foreign key given by code (or username), with an error that names the unknown value."""

    def __init__(self, model, field, label):
        super().__init__(model, field=field)
        self.label = label

    def clean(self, value, row=None, **kwargs):
        value = (value or "").strip() if isinstance(value, str) else value
        if value in (None, ""):
            return None
        try:
            return self.get_queryset(value, row, **kwargs).get(**{self.field: value})
        except self.model.DoesNotExist:
            raise ValueError(f"Unknown {self.label} '{value}'.") from None


class OwnerWidget(CodeWidget):
    """An owner given by username: an engineer, not a supplier's login (`sopgate.validators.NOT_A_SUPPLIER_USER`)."""

    def __init__(self):
        super().__init__(get_user_model(), "username", "owner username")

    def get_queryset(self, value, row, *args, **kwargs):
        # With the membership, so telling a supplier's login apart costs the row no query of its own.
        return self.model.objects.select_related("supplier_membership")

    def clean(self, value, row=None, **kwargs):
        user = super().clean(value, row, **kwargs)
        if user is not None and hasattr(user, "supplier_membership"):
            raise ValueError(f"'{user.get_username()}' is a supplier's login; owners are the customer's own people.")
        return user


class ISODateWidget(widgets.DateWidget):
    """A YYYY-MM-DD date (or a spreadsheet date cell), with an error that names the bad value."""

    def __init__(self):
        super().__init__("%Y-%m-%d")

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime):  # XLSX date cells arrive as midnight datetimes
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return super().clean(value.strip() if isinstance(value, str) else value, row, **kwargs)
        except ValueError:
            raise ValueError(f"'{value}' is not a valid date; use YYYY-MM-DD, e.g. 2027-02-10.") from None


class WholeNumberWidget(widgets.IntegerWidget):
    """A whole number of at least `minimum`, with an error that names the bad value: "1.5" is refused, not cut to 1."""

    # Digits, or what a spreadsheet writes for a whole number ("8.0"); no sign, exponent or separators.
    WHOLE = re.compile(r"(\d+)(?:\.0*)?")

    def __init__(self, *, minimum: int):
        super().__init__()
        self.minimum = minimum

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        match = self.WHOLE.fullmatch(str(value).strip())  # XLSX number cells arrive as int or float
        if match is None or int(match[1]) < self.minimum:
            raise ValueError(f"'{value}' is not a whole number of {self.minimum} or more.")
        return int(match[1])


class ChoiceWidget(widgets.Widget):
    """A choice given by its value or its label, in any case ("Standard" is `standard`); anything else is refused
    with the values it may be."""

    def __init__(self, choices, label: str):
        super().__init__()
        self.by_text = {text.casefold(): value for value, name in choices for text in (value, str(name))}
        self.values = [value for value, _ in choices]
        self.label = label

    def clean(self, value, row=None, **kwargs):
        text = str(value).strip() if value is not None else ""
        if not text:
            return None
        if text.casefold() not in self.by_text:
            raise ValueError(f"'{text}' is not a {self.label}; use one of: {', '.join(self.values)}.")
        return self.by_text[text.casefold()]


class ExcelCSV(base_formats.CSV):
    """CSV as Excel writes and reads it. Exported with a byte order mark: Excel reads a CSV file without one in the
    PC's own code page, garbling "Grüße" (the gate report's CSV carries one too); the import reads both. Imported
    with the delimiter the header row uses: German (and most European) Excel separates with ';', since ',' is
    their decimal comma."""

    DELIMITERS = (",", ";", "\t")

    def export_data(self, dataset, **kwargs):
        return "\ufeff" + super().export_data(dataset, **kwargs)

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes) and self.encoding:
            in_stream = in_stream.decode(self.encoding)
        if isinstance(in_stream, str):
            header = in_stream.lstrip("\ufeff").split("\n", 1)[0]
            kwargs.setdefault("delimiter", max(self.DELIMITERS, key=header.count))
        return super().create_dataset(in_stream, **kwargs)


# The admin's formats, with CSV exported as Excel reads it.
FORMATS = [
    ExcelCSV if format_class is base_formats.CSV else format_class for format_class in base_formats.DEFAULT_FORMATS
]


def import_error_messages(result) -> list[str]:
    """Every row error of an import result as one line each: "Row 4, supplier: Unknown supplier code 'X'."."""
    lines = [f"File: {error.error}" for error in result.base_errors]
    for invalid in result.invalid_rows:
        for field, errors in invalid.error_dict.items():
            label = "" if field == "__all__" else f", {field}"
            lines.extend(f"Row {invalid.number}{label}: {error}" for error in errors)
    for number, errors in result.row_errors():
        lines.extend(f"Row {number}: {error.error}" for error in errors)
    return lines


class PartResource(resources.ModelResource):
    program = fields.Field("program", "program", CodeWidget(Program, "code", "program code"))
    supplier = fields.Field("supplier", "supplier", CodeWidget(Supplier, "code", "supplier code"))
    owner = fields.Field("owner", "owner", OwnerWidget())
    # An empty cell is the model's default, one per vehicle.
    qty_per_vehicle = fields.Field("qty_per_vehicle", "qty_per_vehicle", WholeNumberWidget(minimum=1), default=1)
    need_date = fields.Field("need_date", "need_date", ISODateWidget())
    criticality = fields.Field(
        "criticality", "criticality", ChoiceWidget(Criticality.choices, "criticality"), default=Criticality.STANDARD
    )

    class Meta:
        model = Part
        fields = (
            "program",
            "part_number",
            "revision",
            "name",
            "supplier",
            "qty_per_vehicle",
            "need_date",
            "criticality",
            "owner",
        )
        export_order = fields
        import_id_fields = ("program", "part_number", "revision")
        clean_model_instances = True
        skip_unchanged = True
        use_transactions = True

    def export_field(self, field, instance, **kwargs):
        # Part names and numbers come from suppliers' files; opened in a spreadsheet they must stay text.
        return formula_safe(super().export_field(field, instance, **kwargs))

    def import_data(self, dataset, **kwargs):
        # The library keeps the valid rows of a file with invalid ones unless told otherwise; a BOM is all or nothing.
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def before_import(self, dataset, **kwargs):
        self._seen_keys = {}
        headers = dataset.headers or []
        missing = [column for column in ("program", "part_number") if column not in headers]
        if missing:
            raise ValueError(
                f"The file has no {' or '.join(missing)} column; the first row must name the columns, "
                f"e.g. {','.join(self._meta.fields)}"
            )
        if "revision" not in headers:
            # Revision has a default, as an empty cell does (before_import_row): a file without the column is rev A.
            dataset.append_col([""] * dataset.height, header="revision")
        return super().before_import(dataset, **kwargs)

    def before_import_row(self, row, **kwargs):
        for column, value in row.items():
            row[column] = formula_unquoted(value)  # what the export quoted: "'=X" is the part =X
        key = (
            str(row.get("program") or "").strip(),
            str(row.get("part_number") or "").strip(),
            str(row.get("revision") or "A").strip() or "A",
        )
        # Stored as compared: " BM-100 " and an empty revision are the part BM-100 rev A.
        row["part_number"], row["revision"] = key[1], key[2]
        first = self._seen_keys.setdefault(key, kwargs.get("row_number"))
        if first != kwargs.get("row_number"):
            raise ValidationError(
                {"part_number": f"Duplicate part {key[1]} rev {key[2]} in this file (first on row {first})."}
            )
        return super().before_import_row(row, **kwargs)
