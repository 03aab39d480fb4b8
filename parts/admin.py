from django import forms
from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from sopgate.admin_badges import badge
from sopgate.gate.part_status import parts_with_status

from . import services
from .choices import PPAPStatus
from .forms import PartForm, SupplierForm, SupplierUserForm
from .models import CapacityLine, EvidenceFile, Part, Supplier, SupplierUpdate, SupplierUser
from .resources import FORMATS, PartResource, import_error_messages

PPAP_TONES = {
    PPAPStatus.APPROVED: "good",
    PPAPStatus.INTERIM_APPROVED: "warn",
    PPAPStatus.SUBMITTED: "neutral",
    PPAPStatus.NOT_SUBMITTED: "neutral",
    PPAPStatus.REJECTED: "bad",
}


@admin.register(Supplier)
class SupplierAdmin(SimpleHistoryAdmin):
    form = SupplierForm
    list_display = ["code", "name", "country", "is_active", "part_count"]
    list_filter = ["is_active", "country"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        # A correlated subquery rather than a join + GROUP BY: the changelist's COUNT(*) and the country
        # filter then never touch the parts table, and only the rows on the page are counted.
        parts = Part.objects.filter(supplier=OuterRef("pk")).order_by().values("supplier").annotate(n=Count("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(part_count=Coalesce(Subquery(parts.values("n"), output_field=IntegerField()), 0))
        )

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # simple-history follows the tracked foreign keys with select_related(*names); a supplier has none, so that
        # becomes select_related() and drops the library's own select_related("history_user"): a query per row.
        return super().get_history_queryset(request, history_manager, pk_name, object_id).select_related("history_user")

    @admin.display(description="parts", ordering="part_count")
    def part_count(self, obj):
        return obj.part_count


@admin.register(SupplierUser)
class SupplierUserAdmin(admin.ModelAdmin):
    form = SupplierUserForm
    list_display = ["user", "supplier"]
    list_select_related = ["user", "supplier"]
    autocomplete_fields = ["user", "supplier"]
    search_fields = ["user__username", "supplier__code"]


class LateFilter(admin.SimpleListFilter):
    title = "late"
    parameter_name = "late"

    def lookups(self, request, model_admin):
        return [("yes", "Late"), ("no", "Not late")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(late=self.value() == "yes")
        return queryset


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
    """The part's capacity plan, written through `services.capacity_lines_apply` (who and when kept; the part's
    capacity_per_week follows the line in force today)."""

    model = CapacityLine
    extra = 1
    fields = ["effective_from", "capacity_per_week", "reported_by_username", "reported_at"]
    readonly_fields = ["reported_by_username", "reported_at"]


@admin.register(Part)
class PartAdmin(ImportExportModelAdmin, SimpleHistoryAdmin):
    form = PartForm
    resource_classes = [PartResource]
    formats = FORMATS
    import_template_name = "admin/parts/part/import.html"
    list_display = [
        "part_number",
        "revision",
        "name",
        "supplier",
        "effective_need",
        "promised_date",
        "ppap_badge",
        "late_badge",
    ]
    list_display_links = ["part_number", "name"]
    list_filter = ["program", "supplier", "ppap_status", "criticality", LateFilter]
    list_select_related = ["program", "supplier"]
    search_fields = ["part_number", "name", "supplier__code"]
    autocomplete_fields = ["program", "supplier", "owner"]
    readonly_fields = ["last_supplier_update_at", "created_at", "updated_at"]
    actions = ["approve_ppap", "mark_received"]
    list_per_page = 100
    inlines = [CapacityLineInline, EvidenceFileInline]
    fieldsets = [
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
    ]

    def save_model(self, request, obj, form, change):
        services.part_save(part=obj, actor=request.user)

    def _save_capacity_lines(self, request, form, formset):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        items = []
        for row in formset.forms:
            if not row.has_changed() or not row.cleaned_data:
                continue
            if row.cleaned_data.get("DELETE") and row.instance.pk:
                services.capacity_line_delete(actor=request.user, line=row.instance)
                formset.deleted_objects.append(row.instance)
            elif not row.cleaned_data.get("DELETE"):
                items.append(
                    {
                        "part_id": form.instance.pk,
                        "effective_from": row.cleaned_data["effective_from"],
                        "capacity_per_week": row.cleaned_data["capacity_per_week"],
                    }
                )
        formset.new_objects = services.capacity_lines_apply(actor=request.user, items=items)

    def get_queryset(self, request):
        return parts_with_status(super().get_queryset(request), today=timezone.localdate())

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
        return obj.effective_need_date

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


@admin.register(SupplierUpdate)
class SupplierUpdateAdmin(admin.ModelAdmin):
    """The update log is append-only: readable here, never edited."""

    list_display = [
        "reported_at",
        "part",
        "supplier",
        "reporter",
        "promised_date",
        "ppap_status",
        "capacity_per_week",
        "tooling_stage",
    ]
    list_select_related = ["part", "supplier"]
    list_filter = ["part__program", "ppap_status"]
    search_fields = ["part__part_number", "note", "reported_by_username"]
    date_hierarchy = "reported_at"

    @admin.display(description="reported by", ordering="reported_by_username")
    def reporter(self, obj):
        # The username stored with the update: it stays when the user is deleted.
        return obj.reported_by_username or None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
