from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.template.defaultfilters import pluralize
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from sopgate.admin_badges import badge, person, short_date
from sopgate.admin_blockers import BlockedFilter, blockers_badge
from sopgate.admin_buttons import ObjectButtons, object_button
from sopgate.admin_panel import gate_panel
from sopgate.choices import ObjectType
from sopgate.roles import NotPermitted
from sopgate.selectors import with_open_blockers

from . import services
from .choices import SignOffSide, TestStatus
from .models import HandoverChecklist, HandoverItem, ValidationTest

TEST_TONES = {
    TestStatus.PASSED: "good",
    TestStatus.WAIVED: "good",
    TestStatus.PLANNED: "neutral",
    TestStatus.IN_PROGRESS: "neutral",
    TestStatus.FAILED: "bad",
}


def _refusal_errors(refused: ValidationError | NotPermitted) -> dict[str, list[str]]:
    return refused.message_dict


def _refusal_text(refused: ValidationError | NotPermitted) -> str:
    return " ".join(error for errors in _refusal_errors(refused).values() for error in errors)


class LateFilter(admin.SimpleListFilter):
    """Open rows whose date (`date_field`: a test's planned end, an item's due date) has passed."""

    title = "late"
    parameter_name = "late"
    date_field = ""
    done = Q()

    def lookups(self, request, model_admin):
        return [("yes", "Late"), ("no", "Not late")]

    def queryset(self, request, queryset):
        late = Q(**{f"{self.date_field}__lt": timezone.localdate()}) & ~self.done
        if self.value() == "yes":
            return queryset.filter(late)
        if self.value() == "no":
            return queryset.exclude(late)
        return queryset


class TestLateFilter(LateFilter):
    date_field = "planned_end"
    done = Q(status__in=[TestStatus.PASSED, TestStatus.WAIVED])


class ItemLateFilter(LateFilter):
    date_field = "due_date"
    done = Q(done_at__isnull=False)


class ValidationTestForm(forms.ModelForm):
    """The test form of the admin (also its history revert): a status change is checked on the form, for the user
    who saves it (`services.test_check_status`: who may waive, what failed/passed/waived need)."""

    actor = None  # set per request by ValidationTestAdmin.get_form

    def _post_clean(self):
        super()._post_clean()
        if self.errors or self.actor is None:
            return
        try:
            services.test_check_status(test=self.instance, actor=self.actor)
        except (ValidationError, NotPermitted) as refused:
            for field, errors in _refusal_errors(refused).items():
                self.add_error(field if field in self.fields else None, errors)


@admin.register(ValidationTest)
class ValidationTestAdmin(ObjectButtons, SimpleHistoryAdmin):
    list_display = ["code", "name", "phase", "status_badge", "owner_name", "planned", "required_for_sop", "blockers"]
    list_display_links = ["code", "name"]
    list_filter = [TestLateFilter, BlockedFilter, "program", "phase", "status", "required_for_sop"]
    list_select_related = ["program", "owner"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["program", "part", "owner"]
    readonly_fields = ["gate"]
    list_per_page = 100
    form = ValidationTestForm
    object_buttons = ["record_passed", "record_failed"]

    def get_queryset(self, request):
        return with_open_blockers(super().get_queryset(request), ObjectType.VALIDATION_TEST)

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "gate"]
        return fields + ["gate"] if obj is not None else fields

    @admin.display(description="what the gate thinks")
    def gate(self, obj):
        return gate_panel(ObjectType.VALIDATION_TEST, obj.pk, dates=[("Planned end", short_date(obj.planned_end), "")])

    @admin.display(description="owner", ordering="owner__last_name")
    def owner_name(self, obj):
        return person(obj.owner)

    @admin.display(description="planned end", ordering="planned_end")
    def planned(self, obj):
        return short_date(obj.planned_end)

    @admin.display(description="open blockers", ordering="open_blocking")
    def blockers(self, obj):
        return blockers_badge(obj)

    def _record(self, request, test, status, note):
        test.status = status
        if note:
            test.result_note = note
        try:
            services.test_save(test=test, actor=request.user)
        except (ValidationError, NotPermitted) as refused:
            self.message_user(request, _refusal_text(refused), messages.ERROR)
            return
        self.message_user(request, f"{test.code} recorded {test.get_status_display().lower()}.", messages.SUCCESS)

    @object_button("Record passed", shown=lambda test: test.status != TestStatus.PASSED)
    def record_passed(self, request, test, text):
        self._record(request, test, TestStatus.PASSED, text)

    @object_button(
        "Record failed",
        shown=lambda test: test.status != TestStatus.FAILED,
        text=("note", "What failed"),
        tone="plain",
    )
    def record_failed(self, request, test, text):
        self._record(request, test, TestStatus.FAILED, text)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        services.test_save(test=obj, actor=request.user)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), TEST_TONES[obj.status])


class HandoverItemForm(forms.ModelForm):
    """The item form of the admin, on its own page and inline on the checklist: a change that would leave a
    signed-off checklist with an open required item is refused on the form (`services.item_check_sign_offs`)."""

    def _post_clean(self):
        super()._post_clean()  # the instance now holds the submitted values
        if self.errors or (self.instance.pk is not None and not self.has_changed()):
            return  # an unchanged row opens nothing (and is not saved): no check, no lock, per inline row
        try:
            # Locks the checklist until the admin's transaction commits the save, so no sign-off slips in between.
            services.item_check_sign_offs(item=self.instance)
        except ValidationError as refused:
            for field, errors in refused.message_dict.items():
                # `done` is read-only here and the inline row's `checklist` is hidden: shown on the form or row then.
                shown = field in self.fields and not self.fields[field].widget.is_hidden
                self.add_error(field if shown else None, errors)


class HandoverItemInline(admin.TabularInline):
    model = HandoverItem
    form = HandoverItemForm
    fields = ["title", "responsible", "due_date", "required", "done", "evidence"]
    readonly_fields = ["done"]
    autocomplete_fields = ["responsible"]
    extra = 0
    # A one-line-high evidence box: the checklist's items fit 1440 px without the table scrolling sideways.
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 28})}}

    @admin.display(description="done")
    def done(self, obj):
        if obj.done_at is None:
            return badge("Open", "warn")
        return f"{timezone.localtime(obj.done_at):%Y-%m-%d} by {person(obj.done_by) or 'unknown'}"


class RevertInTransaction:
    """Django saves a change form in one transaction, simple_history's revert form does not; the item check locks the
    checklist from validating the form to saving it, which needs one."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "POST":
            return super().history_form_view(request, object_id, version_id, extra_context)
        with transaction.atomic():
            return super().history_form_view(request, object_id, version_id, extra_context)


class WithdrawalActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        max_length=500,
        label="Reason (to withdraw a sign-off)",
        widget=forms.TextInput(attrs={"size": 30}),
    )


@admin.register(HandoverChecklist)
class HandoverChecklistAdmin(ObjectButtons, RevertInTransaction, SimpleHistoryAdmin):
    list_display = [
        "area",
        "program",
        "rd_owner_name",
        "production_owner_name",
        "open_items",
        "rd_badge",
        "production_badge",
    ]
    list_filter = ["program"]
    list_select_related = ["program", "rd_owner", "production_owner"]
    search_fields = ["area"]
    autocomplete_fields = ["program", "rd_owner", "production_owner", "rd_delegates", "production_delegates"]
    readonly_fields = ["rd_signed_off_by", "rd_signed_off_at", "production_signed_off_by", "production_signed_off_at"]
    inlines = [HandoverItemInline]
    actions = ["sign_off_rd", "sign_off_production", "withdraw_rd", "withdraw_production"]
    action_form = WithdrawalActionForm
    object_buttons = [
        "sign_off_rd_button",
        "sign_off_production_button",
        "withdraw_rd_button",
        "withdraw_production_button",
    ]

    @admin.display(description="R&D owner", ordering="rd_owner__last_name")
    def rd_owner_name(self, obj):
        return person(obj.rd_owner)

    @admin.display(description="production owner", ordering="production_owner__last_name")
    def production_owner_name(self, obj):
        return person(obj.production_owner)

    def _one(self, checklist):
        return HandoverChecklist.objects.filter(pk=checklist.pk)

    @object_button("Sign off R&D", shown=lambda c: c.rd_signed_off_at is None)
    def sign_off_rd_button(self, request, checklist, text):
        self._sign_off(request, self._one(checklist), SignOffSide.RD)

    @object_button("Sign off production", shown=lambda c: c.production_signed_off_at is None)
    def sign_off_production_button(self, request, checklist, text):
        self._sign_off(request, self._one(checklist), SignOffSide.PRODUCTION)

    @object_button(
        "Withdraw R&D sign-off", shown=lambda c: c.rd_signed_off_at is not None, text=("reason", "Reason"), tone="plain"
    )
    def withdraw_rd_button(self, request, checklist, text):
        self._withdraw(request, self._one(checklist), SignOffSide.RD, reason=text)

    @object_button(
        "Withdraw production sign-off",
        shown=lambda c: c.production_signed_off_at is not None,
        text=("reason", "Reason"),
        tone="plain",
    )
    def withdraw_production_button(self, request, checklist, text):
        self._withdraw(request, self._one(checklist), SignOffSide.PRODUCTION, reason=text)

    def get_queryset(self, request):
        # A correlated subquery, so the changelist's COUNT(*) does not join and group every item.
        open_items = (
            HandoverItem.objects.filter(checklist=OuterRef("pk"), required=True, done_at__isnull=True)
            .order_by()
            .values("checklist")
            .annotate(n=Count("pk"))
        )
        return (
            super()
            .get_queryset(request)
            .annotate(open_required=Coalesce(Subquery(open_items.values("n"), output_field=IntegerField()), 0))
        )

    def save_model(self, request, obj, form, change):
        services.checklist_save(checklist=obj, actor=request.user)

    def save_formset(self, request, form, formset, change):  # the one formset: the items
        items = formset.save(commit=False)
        for item in formset.deleted_objects:
            item.delete()
        for item in items:
            services.item_save(item=item, actor=request.user)
        formset.save_m2m()

    @admin.display(description="open required items", ordering="open_required")
    def open_items(self, obj):
        return obj.open_required

    @admin.display(description="R&D sign-off")
    def rd_badge(self, obj):
        return badge("Signed", "good") if obj.rd_signed_off_at else badge("Unsigned", "warn")

    @admin.display(description="production sign-off")
    def production_badge(self, obj):
        return badge("Signed", "good") if obj.production_signed_off_at else badge("Unsigned", "warn")

    def _sign_off(self, request, queryset, side):
        signed = 0
        for checklist in queryset:
            try:
                services.checklist_sign_off(checklist=checklist, side=side, actor=request.user)
                signed += 1
            except (ValidationError, NotPermitted) as refused:
                for errors in _refusal_errors(refused).values():
                    for error in errors:
                        self.message_user(request, error, messages.ERROR)
        if signed:
            self.message_user(request, f"{signed} checklist{pluralize(signed)} signed off.", messages.SUCCESS)

    @admin.action(description="Sign off R&D side")
    def sign_off_rd(self, request, queryset):
        self._sign_off(request, queryset, SignOffSide.RD)

    @admin.action(description="Sign off production side")
    def sign_off_production(self, request, queryset):
        self._sign_off(request, queryset, SignOffSide.PRODUCTION)

    def _withdraw(self, request, queryset, side, reason=None):
        # A refused item change asks for the sign-off to be withdrawn first; this is where the admin does it.
        at_field = f"{side}_signed_off_at"
        reason = request.POST.get("reason", "") if reason is None else reason
        withdrawn = unsigned = 0
        for checklist in queryset:
            if getattr(checklist, at_field) is None:
                unsigned += 1
                continue
            try:
                services.checklist_withdraw_sign_off(checklist=checklist, side=side, actor=request.user, reason=reason)
            except (ValidationError, NotPermitted) as refused:
                for errors in _refusal_errors(refused).values():
                    self.message_user(request, " ".join(errors), messages.ERROR)
                return
            withdrawn += 1
        message = f"{SignOffSide(side).label} sign-off withdrawn from {withdrawn} checklist{pluralize(withdrawn)}"
        if unsigned:
            message += f"; {unsigned} {pluralize(unsigned, 'was,were')} not signed off"
        self.message_user(request, f"{message}.", messages.SUCCESS if withdrawn else messages.INFO)

    @admin.action(description="Withdraw R&D sign-off")
    def withdraw_rd(self, request, queryset):
        self._withdraw(request, queryset, SignOffSide.RD)

    @admin.action(description="Withdraw production sign-off")
    def withdraw_production(self, request, queryset):
        self._withdraw(request, queryset, SignOffSide.PRODUCTION)


@admin.register(HandoverItem)
class HandoverItemAdmin(ObjectButtons, RevertInTransaction, SimpleHistoryAdmin):
    list_display = ["title", "checklist", "responsible_name", "due", "required", "done_badge", "blockers"]
    list_filter = [ItemLateFilter, BlockedFilter, "checklist__program", "checklist", "required"]
    list_select_related = ["checklist", "responsible"]
    search_fields = ["title", "checklist__area"]
    autocomplete_fields = ["checklist", "responsible"]
    readonly_fields = ["done_at", "done_by", "gate"]
    form = HandoverItemForm
    actions = ["mark_done"]
    object_buttons = ["mark_done_button"]

    def get_queryset(self, request):
        return with_open_blockers(super().get_queryset(request), ObjectType.HANDOVER_ITEM)

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "gate"]
        return fields + ["gate"] if obj is not None else fields

    @admin.display(description="what the gate thinks")
    def gate(self, obj):
        return gate_panel(ObjectType.HANDOVER_ITEM, obj.pk, dates=[("Due", short_date(obj.due_date), "")])

    @admin.display(description="responsible", ordering="responsible__last_name")
    def responsible_name(self, obj):
        return person(obj.responsible)

    @admin.display(description="due", ordering="due_date")
    def due(self, obj):
        return short_date(obj.due_date)

    @admin.display(description="open blockers", ordering="open_blocking")
    def blockers(self, obj):
        return blockers_badge(obj)

    @object_button("Mark done", shown=lambda item: item.done_at is None, text=("evidence", "Evidence"))
    def mark_done_button(self, request, item, text):
        try:
            services.item_mark_done(item=item, actor=request.user, evidence=text or None)
        except (ValidationError, NotPermitted) as refused:
            self.message_user(request, _refusal_text(refused), messages.ERROR)
            return
        self.message_user(request, f"'{item.title}' marked done.", messages.SUCCESS)

    @admin.display(description="done", ordering="done_at")
    def done_badge(self, obj):
        return badge("Done", "good") if obj.done_at else badge("Open", "warn")

    def save_model(self, request, obj, form, change):
        services.item_save(item=obj, actor=request.user)

    @admin.action(description="Mark selected items done")
    def mark_done(self, request, queryset):
        marked = already = 0
        for item in queryset.select_related("checklist__rd_owner", "checklist__production_owner", "responsible"):
            if item.done_at is not None:
                already += 1  # keeps who did it and when
                continue
            try:
                services.item_mark_done(item=item, actor=request.user)
            except (ValidationError, NotPermitted) as refused:
                for errors in _refusal_errors(refused).values():
                    self.message_user(request, " ".join(errors), messages.ERROR)
                continue
            marked += 1
        message = f"{marked} item{pluralize(marked)} marked done"
        if already:
            message += f"; {already} {pluralize(already, 'was,were')} already done"
        self.message_user(request, f"{message}.", messages.SUCCESS if marked else messages.INFO)
