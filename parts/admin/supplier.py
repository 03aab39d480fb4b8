"""The supplier admin: suppliers, their portal users, and the append-only log of their updates."""

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from sopgate.admin_badges import person, short_date

from ..forms import SupplierForm, SupplierUserForm
from ..models import Part, Supplier, SupplierUpdate, SupplierUser


@admin.register(Supplier)
class SupplierAdmin(SimpleHistoryAdmin):
    form = SupplierForm
    list_display = ["code", "name", "country", "is_active", "part_count", "open_blockers"]
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

    @admin.display(description="open blockers")
    def open_blockers(self, obj):
        url = reverse("admin:sopgate_blocker_changelist") + f"?open=yes&supplier__id__exact={obj.pk}"
        return format_html('<a href="{}">Blockers of {}</a>', url, obj.code)


@admin.register(SupplierUser)
class SupplierUserAdmin(admin.ModelAdmin):
    form = SupplierUserForm
    list_display = ["user", "supplier"]
    list_select_related = ["user", "supplier"]
    autocomplete_fields = ["user", "supplier"]
    search_fields = ["user__username", "supplier__code"]


@admin.register(SupplierUpdate)
class SupplierUpdateAdmin(admin.ModelAdmin):
    """The update log is append-only: readable here, never edited."""

    list_display = [
        "reported",
        "part_number",
        "supplier_code",
        "reporter",
        "promised",
        "ppap_status",
        "capacity_per_week",
        "tooling_stage",
    ]
    list_select_related = ["part", "supplier", "reported_by"]
    list_filter = ["part__program", "ppap_status", "supplier"]
    search_fields = ["part__part_number", "note", "reported_by_username"]
    date_hierarchy = "reported_at"

    @admin.display(description="reported by", ordering="reported_by_username")
    def reporter(self, obj):
        # The reporter's full name; the username stored with the update when the user is gone.
        return person(obj.reported_by) or obj.reported_by_username or None

    @admin.display(description="reported at", ordering="reported_at")
    def reported(self, obj):
        return timezone.localtime(obj.reported_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="part", ordering="part__part_number")
    def part_number(self, obj):
        return format_html('<span title="{}">{} {}</span>', obj.part.name, obj.part.part_number, obj.part.revision)

    @admin.display(description="supplier", ordering="supplier__code")
    def supplier_code(self, obj):
        return obj.supplier.code if obj.supplier else None

    @admin.display(description="promised", ordering="promised_date")
    def promised(self, obj):
        return short_date(obj.promised_date)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
