"""Bill-of-materials import/export (CSV and XLSX) through django-import-export.

A file with any bad row (unknown supplier or program code, impossible date, duplicate part) imports nothing:
the preview lists every error by row, and the import runs in one transaction.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from sopgate.models import Program

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
            return self.model.objects.get(**{self.field: value})
        except self.model.DoesNotExist:
            raise ValueError(f"Unknown {self.label} '{value}'.") from None


class PartResource(resources.ModelResource):
    program = fields.Field("program", "program", CodeWidget(Program, "code", "program code"))
    supplier = fields.Field("supplier", "supplier", CodeWidget(Supplier, "code", "supplier code"))
    owner = fields.Field("owner", "owner", CodeWidget(get_user_model(), "username", "owner username"))
    need_date = fields.Field("need_date", "need_date", widgets.DateWidget("%Y-%m-%d"))

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

    def before_import(self, dataset, **kwargs):
        self._seen_keys = {}
        return super().before_import(dataset, **kwargs)

    def before_import_row(self, row, **kwargs):
        key = (
            str(row.get("program") or "").strip(),
            str(row.get("part_number") or "").strip(),
            str(row.get("revision") or "A").strip() or "A",
        )
        if not row.get("revision"):
            row["revision"] = "A"
        first = self._seen_keys.setdefault(key, kwargs.get("row_number"))
        if first != kwargs.get("row_number"):
            raise ValidationError(
                {"part_number": f"Duplicate part {key[1]} rev {key[2]} in this file (first on row {first})."}
            )
        return super().before_import_row(row, **kwargs)
