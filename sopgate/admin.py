from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, Q
from django.template.defaultfilters import pluralize
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from .admin_badges import badge, person, short_date
from .choices import AlertStatus, Severity
from .holidays import HolidayFileError, holiday_dates
from .models import Alert, Blocker, DigestDelivery, Program, RampStep, ReadinessSnapshot, WorkCalendar
from .roles import NotPermitted
from .selectors import program_delete_refusals
from .services import dispatch_alerts, program_check_gate_settings, programs_archive

admin.site.site_header = "SOPGate"
admin.site.site_title = "SOPGate admin"
admin.site.index_title = "Supply-chain readiness"

User = get_user_model()


def _minute(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else None


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    """People are deactivated, never deleted: their names stay on what they did (history, sign-offs, updates).
    Unticking "active" on the form, or the action here, ends their sessions; ticking it again reactivates."""

    actions = ["deactivate"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Deactivate selected users", permissions=["change"])
    def deactivate(self, request, queryset):
        count = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"{count} user{pluralize(count)} deactivated.", messages.SUCCESS)


class WorkCalendarForm(forms.ModelForm):
    holiday_file = forms.FileField(
        required=False,
        help_text="A CSV with a date column (YYYY-MM-DD) or an .ics file of all-day events: its dates are added "
        "to the closed dates.",
    )

    class Meta:
        model = WorkCalendar
        fields = ["code", "name", "working_weekdays", "closed_dates"]

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("holiday_file")
        if upload:
            try:
                imported = holiday_dates(upload.read(), filename=upload.name)
            except HolidayFileError as error:
                raise forms.ValidationError({"holiday_file": str(error)}) from error
            closed = set(cleaned.get("closed_dates") or []) | {day.isoformat() for day in imported}
            cleaned["closed_dates"] = sorted(closed)
            self.instance.closed_dates = cleaned["closed_dates"]
        return cleaned


@admin.register(WorkCalendar)
class WorkCalendarAdmin(SimpleHistoryAdmin):
    form = WorkCalendarForm
    list_display = ["code", "name", "working_weekdays", "closed_count"]
    search_fields = ["code", "name"]

    @admin.display(description="closed dates")
    def closed_count(self, calendar) -> int:
        return len(calendar.closed_dates)


class RampStepInline(admin.TabularInline):
    model = RampStep
    extra = 0


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", "Active"), ("yes", "Archived")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        return queryset


class ProgramForm(forms.ModelForm):
    """A program's admin form: its gate settings are a launch manager's to change (`program_check_gate_settings`)."""

    actor = None  # set per request by ProgramAdmin.get_form

    def _post_clean(self):
        super()._post_clean()
        if self.errors or self.actor is None:
            return
        try:
            program_check_gate_settings(program=self.instance, actor=self.actor)
        except NotPermitted as refused:
            self.add_error(refused.field if refused.field in self.fields else None, refused.message)


@admin.register(Program)
class ProgramAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "sop", "owner_name", "decision_badge", "last_scan", "archived"]
    list_filter = [ArchivedFilter]
    list_select_related = ["owner"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["last_scanned_at", "archived_at"]
    inlines = [RampStepInline]
    actions = ["archive", "unarchive"]
    form = ProgramForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    @admin.action(description="Archive selected programs", permissions=["change"])
    def archive(self, request, queryset):
        count = programs_archive(program_ids=queryset.values_list("pk", flat=True), actor=request.user)
        self.message_user(request, f"{count} program{pluralize(count)} archived.", messages.SUCCESS)

    @admin.action(description="Unarchive selected programs", permissions=["change"])
    def unarchive(self, request, queryset):
        count = programs_archive(program_ids=queryset.values_list("pk", flat=True), actor=request.user, archived=False)
        self.message_user(request, f"{count} program{pluralize(count)} unarchived.", messages.SUCCESS)

    def get_deleted_objects(self, objs, request):
        # A program with gate history is archived, not deleted: Django's "cannot delete" page names why (the
        # collector's walk through every part of such a program is skipped: its answer is no anyway).
        refusals = program_delete_refusals(obj.pk for obj in objs)
        if refusals:
            return [], {}, set(), list(refusals.values())
        # A program's blockers, alerts and snapshots would go with it, although nobody may delete them on their
        # own (ReadOnlyAdmin): without this, the delete page asked for permissions no one has.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        gate_records = {model._meta.verbose_name for model in (Blocker, Alert, ReadinessSnapshot, DigestDelivery)}
        return deleted, counts, perms_needed - gate_records, protected

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_blocking=Count(
                    "blockers", filter=Q(blockers__resolved_at__isnull=True, blockers__severity=Severity.BLOCKING)
                ),
                open_warning=Count(
                    "blockers", filter=Q(blockers__resolved_at__isnull=True, blockers__severity=Severity.WARNING)
                ),
            )
        )

    @admin.display(description="SOP date", ordering="sop_date")
    def sop(self, obj):
        return short_date(obj.sop_date)

    @admin.display(description="owner", ordering="owner__last_name")
    def owner_name(self, obj):
        return person(obj.owner)

    @admin.display(description="last scan", ordering="last_scanned_at")
    def last_scan(self, obj):
        return _minute(obj.last_scanned_at)

    @admin.display(description="archived", ordering="archived_at")
    def archived(self, obj):
        return short_date(obj.archived_at.date()) if obj.archived_at else None

    @admin.display(description="gate")
    def decision_badge(self, obj):
        if obj.open_blocking:
            return badge(f"No go ({obj.open_blocking} blocking)", "bad")
        if obj.open_warning:
            return badge(f"Conditional ({obj.open_warning} warnings)", "warn")
        return badge("Go", "good")


class OpenFilter(admin.SimpleListFilter):
    title = "open"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """The gate's own records: written by scans and jobs only. Not deletable either: a deleted blocker would be
    opened again by the next scan and alert its owner a second time; a deleted digest record would send the
    digest again."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Blocker)
class BlockerAdmin(ReadOnlyAdmin):
    list_display = ["object_label", "rule_label", "severity_badge", "owners", "opened", "resolved", "program_code"]
    list_filter = [OpenFilter, "severity", "program", "rule", "supplier"]
    list_select_related = ["program", "owner", "co_owner"]
    search_fields = ["object_label", "message"]
    date_hierarchy = "opened_at"

    @admin.display(description="severity", ordering="severity")
    def severity_badge(self, obj):
        return badge(obj.get_severity_display(), "bad" if obj.severity == Severity.BLOCKING else "warn")

    @admin.display(description="rule", ordering="rule")
    def rule_label(self, obj):
        return obj.get_rule_display()

    @admin.display(description="owners", ordering="owner__last_name")
    def owners(self, obj):
        return ", ".join(filter(None, (person(obj.owner), person(obj.co_owner)))) or None

    @admin.display(description="opened", ordering="opened_at")
    def opened(self, obj):
        return _minute(obj.opened_at)

    @admin.display(description="resolved", ordering="resolved_at")
    def resolved(self, obj):
        return _minute(obj.resolved_at)

    @admin.display(description="program", ordering="program__code")
    def program_code(self, obj):
        return obj.program.code


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "blocker", "status_badge", "attempts", "last_error", "sent_at"]
    list_filter = ["status"]
    list_select_related = ["blocker"]
    search_fields = ["recipient", "blocker__object_label"]
    actions = ["retry"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        tone = {
            AlertStatus.SENT: "good",
            AlertStatus.PENDING: "neutral",
            AlertStatus.FAILED: "bad",
            AlertStatus.WITHDRAWN: "neutral",
        }[obj.status]
        return badge(obj.get_status_display(), tone)

    @admin.action(description="Retry sending selected failed alerts")
    def retry(self, request, queryset):
        ids = list(queryset.filter(status=AlertStatus.FAILED).values_list("id", flat=True))
        Alert.objects.filter(id__in=ids).update(
            status=AlertStatus.PENDING, attempts=0, next_attempt_at=None, dispatched_at=None
        )
        dispatch_alerts(ids)
        self.message_user(request, f"{len(ids)} alert{pluralize(len(ids))} queued again.", messages.SUCCESS)


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["date", "recipient", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status", "date"]


@admin.register(ReadinessSnapshot)
class ReadinessSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["date", "program", "decision", "readiness_pct", "blocking_count", "warning_count"]
    list_filter = ["program", "decision"]
    list_select_related = ["program"]
