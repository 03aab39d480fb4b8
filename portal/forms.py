"""The portal's forms: shape and types only. Whether a report may be stored is `parts.services`' and
`parts.capacity`'s to say (`supplier_updates_apply`, `capacity_lines_apply`, `evidence_file_add`); their refusals
are put next to the field they name."""

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from parts.choices import EvidenceKind, PPAPStatus, ToolingStage
from parts.models import SUPPLIER_UPDATE_NOTE_MAX_LENGTH, Part
from sopgate.validators import PLANNING_DATE

# What a supplier reports on a part's page, in the order of the form.
REPORTED_FIELDS = ("promised_date", "ppap_status", "capacity_per_week", "tooling_stage", "note")
RUN_AT_RATE_FIELDS = ("run_at_rate_on", "run_at_rate_per_week")
# What a spreadsheet row reports, in the order of its editable columns (run at rate last: older files lack it).
SHEET_FIELDS = (*REPORTED_FIELDS, *RUN_AT_RATE_FIELDS)
MAX_PER_WEEK = 2147483647
# The PPAP statuses a supplier reports; the others are the customer's decisions.
SUPPLIER_PPAP_CHOICES = [
    (PPAPStatus.NOT_SUBMITTED, PPAPStatus.NOT_SUBMITTED.label),
    (PPAPStatus.SUBMITTED, PPAPStatus.SUBMITTED.label),
]


class DateInput(forms.DateInput):
    input_type = "date"

    def format_value(self, value):
        return value.isoformat() if hasattr(value, "isoformat") else value


class PartUpdateForm(forms.Form):
    """A supplier's report on one part. It starts from the part as it stands; what differs (and a note) is
    reported. A report of nothing is refused (`require_change`), except for a spreadsheet's row, where it is an
    unchanged row."""

    require_change = True

    promised_date = forms.DateField(
        label=_("Promised date"),
        required=False,
        widget=DateInput,
        validators=PLANNING_DATE,
        help_text=_("When PPAP-conform parts will arrive at the plant. Not before today."),
    )
    ppap_status = forms.ChoiceField(
        label=_("PPAP submission"),
        required=False,
        choices=[("", _("No change"))] + SUPPLIER_PPAP_CHOICES,
        help_text=_("Approval is the customer's decision; report when you have submitted."),
    )
    capacity_per_week = forms.IntegerField(
        label=_("Capacity per week"),
        required=False,
        min_value=0,
        max_value=MAX_PER_WEEK,
        help_text=_(
            "Parts per week you can deliver from today. Where the part has a capacity plan, this is its line from "
            "today; plan a later change as a line of the plan."
        ),
    )
    tooling_stage = forms.ChoiceField(label=_("Tooling stage"), required=False, choices=ToolingStage.choices)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=SUPPLIER_UPDATE_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What changed, or a confirmation that everything is on track."),
    )

    @classmethod
    def for_part(cls, part: Part, data=None) -> "PartUpdateForm":
        initial = {
            "promised_date": part.promised_date,
            "ppap_status": part.ppap_status if part.ppap_status in dict(SUPPLIER_PPAP_CHOICES) else "",
            "capacity_per_week": part.capacity_per_week,
            "tooling_stage": part.tooling_stage,
        }
        return cls(data=data, initial=initial)

    def clean(self):
        cleaned = super().clean()
        if self.require_change and not self.errors and not self.reported():
            raise forms.ValidationError(
                _("Nothing changed. Change a field, or write a note to confirm that everything is on track.")
            )
        return cleaned

    def reported(self) -> dict:
        """The fields whose values differ from the part as it stood when the form was shown, and the note."""
        return _reported(self, REPORTED_FIELDS)


def _reported(form: forms.Form, names: tuple[str, ...]) -> dict:
    reported = {}
    for name in names:
        value = form.cleaned_data.get(name)
        if value in (None, ""):
            continue
        if name == "note" or value != form.initial.get(name):
            reported[name] = value
    return reported


class RunAtRateFields(forms.Form):
    run_at_rate_on = forms.DateField(
        label=_("Run at rate demonstrated on"),
        widget=DateInput,
        validators=PLANNING_DATE,
        help_text=_("The day you ran at rate."),
    )
    run_at_rate_per_week = forms.IntegerField(
        label=_("Rate demonstrated per week"),
        min_value=0,
        max_value=MAX_PER_WEEK,
        help_text=_("Parts per week you made at rate. The gate counts no more capacity than this from that day."),
    )


class RunAtRateForm(RunAtRateFields):
    """A supplier's run at rate on one part: the day and the rate it demonstrated, both, as a supplier update."""

    prefix = "rate"

    @classmethod
    def for_part(cls, part: Part, data=None) -> "RunAtRateForm":
        return cls(data=data, initial={name: getattr(part, name) for name in RUN_AT_RATE_FIELDS})

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.reported():
            raise forms.ValidationError(_("Nothing changed: this run at rate is the one already reported."))
        return cleaned

    def reported(self) -> dict:
        return _reported(self, RUN_AT_RATE_FIELDS)


class SheetRowForm(PartUpdateForm, RunAtRateFields):
    """A spreadsheet's row: the part's report and its run at rate, each cell optional; an unchanged row reports
    nothing."""

    require_change = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in RUN_AT_RATE_FIELDS:
            self.fields[name].required = False

    @classmethod
    def for_part(cls, part: Part, data=None) -> "SheetRowForm":
        form = super().for_part(part, data=data)
        form.initial.update({name: getattr(part, name) for name in RUN_AT_RATE_FIELDS})
        return form

    def reported(self) -> dict:
        return _reported(self, SHEET_FIELDS)


class CapacityLineForm(forms.Form):
    """A line of a part's capacity plan: from which day on, how many per week."""

    prefix = "plan"
    effective_from = forms.DateField(
        label=_("Effective from"),
        widget=DateInput,
        validators=PLANNING_DATE,
        help_text=_("From this day until your next line. A line for a day that already has one replaces it."),
    )
    capacity_per_week = forms.IntegerField(
        label=_("Capacity per week"),
        min_value=0,
        max_value=MAX_PER_WEEK,
        help_text=_("Parts per week you can deliver from that day."),
    )


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of evidence"), choices=EvidenceKind.choices, initial=EvidenceKind.OTHER)
    file = forms.FileField(label=_("File"))


class SheetUploadForm(forms.Form):
    file = forms.FileField(label=_("Spreadsheet (.xlsx)"), help_text=_("The file downloaded from this page."))


class SupplierPasswordResetForm(PasswordResetForm):
    """Django's password reset, for suppliers' logins only: the portal's link is no way into an engineer's
    account."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if hasattr(user, "supplier_membership"))
