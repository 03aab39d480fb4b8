"""The part admin: the list engineers work from, a part's page with what the gate thinks and its ramp, its
capacity plan and evidence files, and the spreadsheet import."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from sopgate.admin_badges import badge, person, short_date
from sopgate.admin_blockers import BlockedFilter, blockers_badge
from sopgate.admin_buttons import ObjectButtons, object_button
from sopgate.admin_panel import gate_panel, ramp_panel
from sopgate.choices import ObjectType
from sopgate.gate.part_status import parts_with_status
from sopgate.roles import NotPermitted
from sopgate.selectors import with_open_blockers

from .. import capacity, services
from ..choices import PPAPStatus
from ..forms import PartForm, PartImportForm
from ..models import CapacityLine, EvidenceFile, Part
from ..resources import FORMATS, PartResource, import_error_messages

PPAP_TONES = {
    PPAPStatus.APPROVED: "good",
    PPAPStatus.INTERIM_APPROVED: "warn",
    PPAPStatus.SUBMITTED: "neutral",
    PPAPStatus.NOT_SUBMITTED: "neutral",
    PPAPStatus.REJECTED: "bad",
}


class LateFilter(admin.SimpleListFilter):
    title = "late"
    parameter_name = "late"

    def lookups(self, request, model_admin):
        return [("yes", "Late"), ("no", "Not late")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(late=self.value() == "yes")
        return queryset


def _with_reporter(update):
    update.reporter_name = person(update.reported_by) or update.reported_by_username
    return update


class EvidenceFileForm(forms.ModelForm):
    class Meta:
        model = EvidenceFile
        fields = ["kind", "file"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        refusal = services.evidence_file_refusal(upload) if upload else None
        if refusal:
            raise forms.ValidationError(refusal)
        return upload


class EvidenceFileInline(admin.TabularInline):
    """The part's evidence files: added here (through `services.evidence_file_add`), never changed or removed."""

    model = EvidenceFile
    form = EvidenceFileForm
    fields = ["kind", "file", "download", "size", "uploaded_by_username", "uploaded_at"]
    readonly_fields = ["download", "size", "uploaded_by_username", "uploaded_at"]
    extra = 0
    verbose_name_plural = "evidence files"

    @admin.display(description="name")
    def download(self, obj):
        if obj.pk is None:
            return ""
        url = reverse("parts-api:part-file-content", kwargs={"part_pk": obj.part_id, "pk": obj.pk})
        return format_html('<a href="{}">{}</a>', url, obj.name)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CapacityLineInline(admin.TabularInline):
    """The part's capacity plan, written through `capacity.capacity_lines_apply` (who and when kept; the part's
    capacity_per_week follows the line in force today)."""

    model = CapacityLine
    extra = 1
    fields = ["effective_from", "capacity_per_week", "reported_by_username", "reported_at"]
    readonly_fields = ["reported_by_username", "reported_at"]


@admin.register(Part)
class PartAdmin(ObjectButtons, ImportExportModelAdmin, SimpleHistoryAdmin):
    form = PartForm
    resource_classes = [PartResource]
    formats = FORMATS
    import_template_name = "admin/parts/part/import.html"
    import_form_class = PartImportForm
    # Chosen for the daily question "which parts hold SOP up, and whose are they": fits 1440 px with the filters.
    list_display = [
        "part_label",
        "name",
        "supplier_code",
        "owner_name",
        "effective_need",
        "promised",
        "ppap_badge",
        "late_badge",
        "blockers",
    ]
    list_display_links = ["part_label", "name"]
    list_filter = [LateFilter, BlockedFilter, "program", "ppap_status", "criticality", "supplier"]
    list_select_related = ["program", "supplier", "owner"]
    search_fields = ["part_number", "name", "supplier__code"]
    autocomplete_fields = ["program", "supplier", "owner"]
    readonly_fields = ["gate", "ramp", "last_supplier_update_at", "created_at", "updated_at"]
    actions = ["approve_ppap", "mark_received"]
    object_buttons = ["approve_ppap_button", "mark_received_button"]
    list_per_page = 100
    inlines = [CapacityLineInline, EvidenceFileInline]
    fieldsets = [
        ("What the gate thinks", {"fields": ["gate"]}),  # on an existing part only (get_fieldsets)
        (
            None,
            {
                "fields": [
                    "program",
                    "part_number",
                    "revision",
                    "name",
                    "supplier",
                    "owner",
                    "criticality",
                    "qty_per_vehicle",
                ]
            },
        ),
        ("Dates", {"fields": ["need_date", "promised_date", "received_on"]}),
        (
            "PPAP and tooling",
            {"fields": ["ppap_status", "ppap_level", "ppap_due_date", "interim_expires_on", "tooling_stage"]},
        ),
        (
            "Capacity",
            {
                "fields": [
                    "capacity_per_week",
                    "run_at_rate_on",
                    "run_at_rate_per_week",
                    "last_supplier_update_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        ("The ramp, week by week", {"fields": ["ramp"]}),  # on an existing part only (get_fieldsets)
    ]
    UPDATES_SHOWN = 20

    def save_model(self, request, obj, form, change):
        services.part_save(part=obj, actor=request.user)

    def _save_capacity_lines(self, request, form, formset):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        items = []
        for row in formset.forms:
            if not row.has_changed() or not row.cleaned_data:
                continue
            if row.cleaned_data.get("DELETE") and row.instance.pk:
                capacity.capacity_line_delete(actor=request.user, line=row.instance)
                formset.deleted_objects.append(row.instance)
            elif not row.cleaned_data.get("DELETE"):
                items.append(
                    {
                        "part_id": form.instance.pk,
                        "effective_from": row.cleaned_data["effective_from"],
                        "capacity_per_week": row.cleaned_data["capacity_per_week"],
                    }
                )
        formset.new_objects = capacity.capacity_lines_apply(actor=request.user, items=items)

    def get_queryset(self, request):
        queryset = parts_with_status(super().get_queryset(request), today=timezone.localdate())
        return with_open_blockers(queryset, ObjectType.PART)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if obj is not None else fieldsets[1:-1]

    @admin.display(description="what the gate thinks")
    def gate(self, obj):
        if obj.pk is None:
            return "Shown once saved."
        dates = [
            ("Effective need date", short_date(obj.effective_need_date), "the need date, or SOP less the lead days"),
            ("PPAP due", short_date(obj.effective_ppap_due_date), "the PPAP due date, or need less the PPAP lead"),
            ("Late", "yes" if obj.late else "no", "the part_late rule as of today"),
        ]
        updates = obj.supplier_updates.select_related("reported_by").order_by("-reported_at", "-id")
        url = reverse("admin:parts_supplierupdate_changelist") + f"?part__id__exact={obj.pk}"
        return gate_panel(
            ObjectType.PART,
            obj.pk,
            dates=dates,
            updates=[_with_reporter(update) for update in updates[: self.UPDATES_SHOWN]],
            updates_total=updates.count(),
            updates_url=url,
        )

    @admin.display(description="demand against capacity")
    def ramp(self, obj):
        return ramp_panel(obj) if obj.pk is not None else "Shown once saved."

    @admin.display(description="part", ordering="part_number")
    def part_label(self, obj):
        return f"{obj.part_number} {obj.revision}"

    @admin.display(description="supplier", ordering="supplier__code")
    def supplier_code(self, obj):
        if obj.supplier is None:
            return badge("Unsourced", "bad")
        return format_html('<span title="{}">{}</span>', obj.supplier.name, obj.supplier.code)

    @admin.display(description="owner", ordering="owner__last_name")
    def owner_name(self, obj):
        return person(obj.owner)

    @admin.display(description="promised", ordering="promised_date")
    def promised(self, obj):
        return short_date(obj.promised_date)

    @admin.display(description="open blockers", ordering="open_blocking")
    def blockers(self, obj):
        return blockers_badge(obj)

    @object_button("Approve PPAP", shown=lambda part: part.ppap_status != PPAPStatus.APPROVED)
    def approve_ppap_button(self, request, part, text):
        try:
            services.parts_approve_ppap(actor=request.user, part_ids=[part.pk])
        except NotPermitted as refused:
            self.message_user(request, refused.message, messages.ERROR)
            return
        self.message_user(request, f"PPAP of {part.part_number} approved.", messages.SUCCESS)

    @object_button("Mark received today", shown=lambda part: part.received_on is None, tone="plain")
    def mark_received_button(self, request, part, text):
        services.parts_mark_received(actor=request.user, part_ids=[part.pk])
        self.message_user(request, f"{part.part_number} marked received today.", messages.SUCCESS)

    def save_formset(self, request, form, formset, change):
        if formset.model is CapacityLine:
            return self._save_capacity_lines(request, form, formset)
        if formset.model is not EvidenceFile:
            return super().save_formset(request, form, formset, change)
        # As formset.save() would leave it for the admin's change message: the rows added, none changed or deleted.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.extra_forms:
            if row.has_changed() and row.cleaned_data.get("file"):
                evidence = services.evidence_file_add(
                    part=form.instance,
                    actor=request.user,
                    kind=row.cleaned_data["kind"],
                    upload=row.cleaned_data["file"],
                )
                formset.new_objects.append(evidence)

    def add_data_read_fail_error_to_form(self, form, e):
        # Excel's plain "CSV" is the Windows code page (cp1252 here, GBK in China): guessing it would import
        # wrong letters without a word, so the file is refused with what to do instead.
        if isinstance(e, UnicodeDecodeError):
            form.add_error(
                "import_file",
                "The file is not UTF-8 text. Save it as CSV UTF-8 (Excel: Save As, CSV UTF-8) and upload it again, "
                "or choose xlsx for an Excel workbook.",
            )
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def process_result(self, result, request):
        # The preview refuses a file with bad rows, but the data may change before the engineer confirms;
        # the resource then rolls everything back, and saying "Import finished" would be a lie.
        errors = import_error_messages(result)
        if not errors:
            return super().process_result(result, request)
        self.message_user(request, "Nothing was imported: the file has errors.", messages.ERROR)
        for error in errors[:20]:
            self.message_user(request, error, messages.ERROR)
        return HttpResponseRedirect(reverse("admin:parts_part_import"))

    @admin.display(description="need date", ordering="effective_need_date")
    def effective_need(self, obj):
        return short_date(obj.effective_need_date)

    @admin.display(description="PPAP", ordering="ppap_status")
    def ppap_badge(self, obj):
        return badge(obj.get_ppap_status_display(), PPAP_TONES[obj.ppap_status])

    @admin.display(description="late", ordering="late")
    def late_badge(self, obj):
        if obj.received_on:
            return badge("Received", "good")
        return badge("Late", "bad") if obj.late else badge("On time", "good")

    @admin.action(description="Approve PPAP of selected parts")
    def approve_ppap(self, request, queryset):
        changed = services.parts_approve_ppap(actor=request.user, part_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"PPAP approved for {changed} part{pluralize(changed)}.", messages.SUCCESS)

    @admin.action(description="Mark selected parts received today")
    def mark_received(self, request, queryset):
        changed = services.parts_mark_received(actor=request.user, part_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{changed} part{pluralize(changed)} marked received.", messages.SUCCESS)
