"""Admin form pieces for parts and suppliers."""

import re
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from import_export.forms import ImportForm

from validation.ownership import supplier_membership_refusal

from .services import part_program_change_refusal


class EmailListField(forms.CharField):
    """A list of email addresses, typed one per line or separated by commas; empty is an empty list."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        return [address for address in re.split(r"[\s,;]+", text) if address]

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        bad = []
        for address in value:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(
                "Not an email address: %(addresses)s.", code="invalid", params={"addresses": ", ".join(bad)}
            )


class SupplierForm(forms.ModelForm):
    """The supplier admin's form (the admin supplies the model and fields)."""

    alert_emails = EmailListField(
        required=False,
        label="Alert emails",
        help_text="Who hears of this supplier's blockers: one address per line, or separated by commas.",
    )


class PartForm(forms.ModelForm):
    """The part admin's form (the admin supplies the model and fields). A move of a part with tests is refused on the
    form, where the user sees it (`services.part_program_change_refusal`); `services.part_save` refuses it again."""

    def clean_program(self):
        program = self.cleaned_data["program"]
        refusal = part_program_change_refusal(self.instance, program.pk if program else None)
        if refusal:
            raise ValidationError(refusal)
        return program


class SupplierUserForm(forms.ModelForm):
    """The supplier-login admin's form: an engineer, or someone who owns part of a program, is refused."""

    def clean_user(self):
        user = self.cleaned_data["user"]
        refusal = user and user.pk != self.instance.user_id and supplier_membership_refusal(user)
        if refusal:
            raise ValidationError(refusal)
        return user


class PartImportForm(ImportForm):
    """The BOM import's form: the format may be left to the file's name ("bom.csv" is read as CSV, "bom.xlsx" as an
    Excel workbook), also where the page's script that picks it did not run."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.fields["format"].required = False
        self.fields["format"].help_text = "Left empty: taken from the file's extension."

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("import_file")
        if cleaned.get("format") or upload is None:
            return cleaned
        extension = Path(upload.name).suffix.lower().lstrip(".")
        titles = {title.lower(): value for value, title in self.fields["format"].choices if value}
        if extension in titles:
            cleaned["format"] = titles[extension]
        else:
            self.add_error(
                "format", f"Choose the file's format: '.{extension}' is none of {', '.join(sorted(titles))}."
            )
        return cleaned
