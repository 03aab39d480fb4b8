"""The portal's pages: the supplier's parts, one part (its report form, capacity plan, run at rate, history and
files) and a file's download. Views translate only: reads come from `portal.selectors`, writes go through
`parts.services` and `parts.capacity`, the same services and checks as the API's."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parts.capacity import CapacityLinesRefused, capacity_line_delete, capacity_lines_apply
from parts.services import (
    SupplierDailyLimitExceeded,
    SupplierUpdatesRefused,
    evidence_file_add,
    supplier_updates_apply,
)
from sopgate.dashboard.week_charts import PartWeek, part_ramp_chart

from .access import portal_page
from .forms import CapacityLineForm, EvidenceForm, PartUpdateForm, RunAtRateForm
from .selectors import (
    part_capacity_plan,
    part_files,
    ramp_demand,
    supplier_open_blockers,
    supplier_part_updates,
    supplier_parts,
)


def refusals_on_form(form, errors: dict[str, list[str]]) -> None:
    """A service's refusal, each message next to the field it names (or above the form)."""
    for field, field_errors in errors.items():
        for message in field_errors:
            form.add_error(field if field in form.fields else None, str(message))


@require_GET
@portal_page
def part_list(request):
    viewer = request.portal
    parts = list(supplier_parts(supplier_id=viewer.supplier.pk, today=timezone.localdate()))
    blockers = supplier_open_blockers(supplier_id=viewer.supplier.pk)
    demand = ramp_demand(parts)
    rows = [(part, blockers.get(part.pk, []), demand[part.pk]) for part in parts]
    return render(request, "portal/part_list.html", {"rows": rows})


def _own_part(request, part_id: int):
    """The part with this id among the viewer's supplier's parts, with its status as of today; another's is a 404."""
    parts = supplier_parts(supplier_id=request.portal.supplier.pk, today=timezone.localdate())
    return get_object_or_404(parts, pk=part_id)


def _part_page(request, part, *, update_form=None, evidence_form=None, line_form=None, rate_form=None):
    supplier_id = request.portal.supplier.pk
    today = timezone.localdate()
    demand = ramp_demand([part])[part.pk]
    context = {
        "part": part,
        "blockers": supplier_open_blockers(supplier_id=supplier_id, part_ids=[part.pk]).get(part.pk, []),
        "demand": demand,
        "ramp_chart": _ramp_chart(part, demand),
        "peak_demand": max((week.weekly_demand for week in demand), default=None),
        "plan": part_capacity_plan(part_id=part.pk, today=today),
        "updates": supplier_part_updates(supplier_id=supplier_id, part_id=part.pk)[:100],
        "files": part_files(part_id=part.pk),
        "update_form": update_form or PartUpdateForm.for_part(part),
        "evidence_form": evidence_form or EvidenceForm(),
        # A new line starts today unless the supplier picks its day.
        "line_form": line_form or CapacityLineForm(initial={"effective_from": today}),
        "rate_form": rate_form or RunAtRateForm.for_part(part),
    }
    return render(request, "portal/part_detail.html", context)


def _ramp_chart(part, demand):
    """The part's weekly demand against its capacity, as the gate counts them (the rows of `ramp_demand`)."""
    if not demand:
        return None
    weeks = [PartWeek(week.starts_on, week.weekly_demand, week.capacity_per_week) for week in demand]
    short_week = next((week.starts_on for week in demand if week.short), None)
    return part_ramp_chart(f"{part.part_number} {part.revision}", weeks, short_week)


def _report(request, part, form) -> bool:
    """Store what a valid `form` reports for `part` as one supplier update (`supplier_updates_apply`, as the API);
    False, with the refusals on the form, if the form or the service refused it."""
    if not form.is_valid():
        return False
    try:
        supplier_updates_apply(actor=request.user, items=[{"part_id": part.pk, **form.reported()}])
    except SupplierUpdatesRefused as refused:
        refusals_on_form(form, refused.errors[0])
    except SupplierDailyLimitExceeded as refusal:
        form.add_error(None, str(refusal))
    else:
        return True
    return False


def _part_url(request, part) -> str:
    return reverse("portal:part", args=[part.pk]) + request.portal.query


@require_http_methods(["GET", "POST"])
@portal_page(writes=True)
def part_detail(request, part_id: int):
    part = _own_part(request, part_id)
    if request.method == "GET":
        return _part_page(request, part)
    form = PartUpdateForm.for_part(part, data=request.POST)
    if _report(request, part, form):
        messages.success(request, _("Your update of %(part)s is stored.") % {"part": part.part_number})
        return redirect(_part_url(request, part))
    return _part_page(request, part, update_form=form)


@require_POST
@portal_page(writes=True)
def part_file_upload(request, part_id: int):
    part = _own_part(request, part_id)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            evidence = evidence_file_add(
                part=part, actor=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
            )
        except ValidationError as refusal:
            refusals_on_form(form, refusal.message_dict)
        else:
            messages.success(
                request, _("%(name)s is kept with %(part)s.") % {"name": evidence.name, "part": part.part_number}
            )
            return redirect(_part_url(request, part) + "#files")
    return _part_page(request, part, evidence_form=form)


@require_POST
@portal_page(writes=True)
def part_capacity_line_add(request, part_id: int):
    """A line of the part's capacity plan; one for a day that has a line replaces it (as the API's)."""
    part = _own_part(request, part_id)
    form = CapacityLineForm(request.POST)
    if form.is_valid():
        try:
            capacity_lines_apply(actor=request.user, items=[{"part_id": part.pk, **form.cleaned_data}])
        except CapacityLinesRefused as refused:
            refusals_on_form(form, refused.errors[0])
        else:
            message = _("Capacity of %(part)s from %(day)s is stored.")
            messages.success(
                request, message % {"part": part.part_number, "day": date_format(form.cleaned_data["effective_from"])}
            )
            return redirect(_part_url(request, part) + "#capacity")
    return _part_page(request, part, line_form=form)


@require_POST
@portal_page(writes=True)
def part_capacity_line_delete(request, part_id: int, line_id: int):
    """Delete a line of the part's plan that starts after today; one in force or past stays (the service says so)."""
    part = _own_part(request, part_id)
    line = get_object_or_404(part.capacity_lines.all(), pk=line_id)
    try:
        capacity_line_delete(actor=request.user, line=line)
    except CapacityLinesRefused as refused:
        for found in refused.errors[0].values():
            for message in found:
                messages.error(request, str(message))
    else:
        message = _("The line from %(day)s is deleted from the capacity plan of %(part)s.")
        messages.success(request, message % {"day": date_format(line.effective_from), "part": part.part_number})
    return redirect(_part_url(request, part) + "#capacity")


@require_POST
@portal_page(writes=True)
def part_run_at_rate(request, part_id: int):
    """The part's run at rate (the day and the rate demonstrated), stored as a supplier update like the API's."""
    part = _own_part(request, part_id)
    form = RunAtRateForm.for_part(part, data=request.POST)
    if _report(request, part, form):
        messages.success(request, _("The run at rate of %(part)s is stored.") % {"part": part.part_number})
        return redirect(_part_url(request, part) + "#run-at-rate")
    return _part_page(request, part, rate_form=form)


@require_GET
@portal_page
def part_file_download(request, part_id: int, file_id: int):
    part = _own_part(request, part_id)
    evidence = get_object_or_404(part_files(part_id=part.pk), pk=file_id)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file is missing from the store.")) from None
    return FileResponse(handle, as_attachment=True, filename=evidence.name)
