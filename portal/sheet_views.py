"""The spreadsheet round trip: `/supplier/parts.xlsx` downloads the supplier's parts; the upload page shows what
each row would change (and each row's errors, the service's refusals among them) before anything is stored;
confirming applies exactly what was previewed, all or nothing, through `supplier_updates_apply`."""

import uuid
from datetime import date

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parts.services import SupplierDailyLimitExceeded, SupplierUpdatesRefused, supplier_updates_apply

from .access import portal_page
from .forms import SheetUploadForm
from .selectors import supplier_last_notes, supplier_open_blockers, supplier_parts
from .spreadsheet import SheetUnreadable, parts_workbook, sheet_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The preview waiting for confirmation, in the session: its token, the supplier, and the items to apply.
PREVIEW_KEY = "portal_sheet_preview"


@require_GET
@portal_page
def parts_xlsx(request):
    supplier = request.portal.supplier
    parts = list(supplier_parts(supplier_id=supplier.pk, today=timezone.localdate()))
    blockers = supplier_open_blockers(supplier_id=supplier.pk)
    notes = supplier_last_notes(supplier_id=supplier.pk, part_ids=[part.pk for part in parts])
    content = parts_workbook(parts, open_blockers={pk: len(found) for pk, found in blockers.items()}, notes=notes)
    response = HttpResponse(content, content_type=XLSX)
    filename = f"{supplier.code}-parts-{timezone.localdate().isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _stored(item: dict) -> dict:
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in item.items()}


def _loaded(item: dict) -> dict:
    loaded = dict(item)
    for name in ("promised_date", "run_at_rate_on"):
        if loaded.get(name):
            loaded[name] = date.fromisoformat(loaded[name])
    return loaded


@require_http_methods(["GET", "POST"])
@portal_page(writes=True)
def sheet_upload(request):
    """GET: the upload form. POST: read the file and show the preview; nothing is stored yet."""
    form = SheetUploadForm(request.POST or None, request.FILES or None)
    if request.method == "GET" or not form.is_valid():
        return render(request, "portal/sheet_upload.html", {"form": form})
    supplier = request.portal.supplier
    parts = {part.pk: part for part in supplier_parts(supplier_id=supplier.pk, today=timezone.localdate())}
    notes = supplier_last_notes(supplier_id=supplier.pk, part_ids=list(parts))
    try:
        rows = sheet_rows(form.cleaned_data["file"], parts=parts, notes=notes)
    except SheetUnreadable as unreadable:
        form.add_error("file", str(unreadable))
        return render(request, "portal/sheet_upload.html", {"form": form})
    changed = [row for row in rows if row.changes or row.errors]
    limit_refusal = _check(request.user, changed)
    items = [row.item for row in changed]
    ready = bool(changed) and not limit_refusal and all(item is not None for item in items)
    token = ""
    if ready:
        token = uuid.uuid4().hex
        request.session[PREVIEW_KEY] = {
            "token": token,
            "supplier": supplier.pk,
            "rows": [row.number for row in changed],
            "items": [_stored(item) for item in items],
        }
    else:
        request.session.pop(PREVIEW_KEY, None)
    context = {
        "rows": rows,
        "changed": changed,
        "unchanged": len(rows) - len(changed),
        "errors": sum(1 for row in rows if row.errors),
        "limit_refusal": limit_refusal,
        "token": token,
        "capacity_changed": any("capacity_per_week" in row.changes for row in changed),
    }
    return render(request, "portal/sheet_preview.html", context)


def _check(actor, rows) -> str:
    """The service's refusals of the rows that passed the form, onto their rows (a dry run: nothing is stored);
    the daily limit's refusal, if that is what stops them."""
    items = [row.item for row in rows]
    if not any(items):
        return ""
    try:
        supplier_updates_apply(actor=actor, items=items, dry_run=True)
    except SupplierUpdatesRefused as refused:
        for row, errors in zip(rows, refused.errors, strict=True):
            for name, found in errors.items():
                row.errors.setdefault("part_id" if name == "part" else name, []).extend(str(m) for m in found)
    except SupplierDailyLimitExceeded as refusal:
        return str(refusal)
    return ""


@require_POST
@portal_page(writes=True)
def sheet_confirm(request):
    """Apply the previewed rows, exactly those, all or nothing."""
    preview = request.session.get(PREVIEW_KEY)
    upload_url = reverse("portal:sheet_upload")
    if (
        not preview
        or preview["token"] != request.POST.get("token")
        or preview["supplier"] != request.portal.supplier.pk
    ):
        messages.error(request, _("This preview is no longer current: upload the file again."))
        return redirect(upload_url)
    del request.session[PREVIEW_KEY]
    try:
        stored = supplier_updates_apply(actor=request.user, items=[_loaded(item) for item in preview["items"]])
    except SupplierUpdatesRefused as refused:
        problems = [
            (number, str(message))
            for number, errors in zip(preview["rows"], refused.errors, strict=True)
            for found in errors.values()
            for message in found
        ]
        return render(request, "portal/sheet_upload.html", {"form": SheetUploadForm(), "problems": problems})
    except SupplierDailyLimitExceeded as refusal:
        messages.error(request, str(refusal))
        return redirect(upload_url)
    count = len(stored)
    text = ngettext(
        "%(count)s part updated from the spreadsheet.", "%(count)s parts updated from the spreadsheet.", count
    )
    messages.success(request, text % {"count": count})
    return redirect(reverse("portal:index"))
