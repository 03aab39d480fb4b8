"""The handover admin: checklists (sign-off and withdrawal buttons and actions, the items inline with their
evidence files) and items (the mark-done button and action, the item's files). Every change goes through
`validation.services`, which refuses it naming who may act or what is missing."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db import models
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

from .. import services
from ..choices import SignOffSide
from ..models import HandoverChecklist, HandoverItem
from .common import LateFilter, RevertInTransaction, refusal_errors, refusal_text
from .item_files import HandoverItemFileInline, actor_form, clean_upload, files_list, save_item_files


class ItemLateFilter(LateFilter):
    date_field = "due_date"
    done = Q(done_at__isnull=False)


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


class HandoverItemRowForm(HandoverItemForm):
    """An item's row on its checklist's page, with a file to attach as its evidence."""

    actor = None  # set per request by HandoverItemInline.get_formset
    attach = forms.FileField(required=False, label="attach evidence")

    def _post_clean(self):
        super()._post_clean()
        clean_upload(self, "attach")


class HandoverItemInline(admin.TabularInline):
    model = HandoverItem
    form = HandoverItemRowForm
    fields = ["title", "responsible", "due_date", "required", "done", "evidence", "files", "attach"]
    readonly_fields = ["done", "files"]
    autocomplete_fields = ["responsible"]
    extra = 0
    # A one-line-high evidence box: the checklist's items fit 1440 px without the table scrolling sideways.
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 26})}}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("files")

    def get_formset(self, request, obj=None, **kwargs):
        return super().get_formset(request, obj, form=actor_form(self.form, request), **kwargs)

    @admin.display(description="evidence files")
    def files(self, obj):
        return files_list(obj) if obj.pk is not None else ""

    @admin.display(description="done")
    def done(self, obj):
        if obj.done_at is None:
            return badge("Open", "warn")
        return f"{timezone.localtime(obj.done_at):%Y-%m-%d} by {person(obj.done_by) or 'unknown'}"


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

    def save_formset(self, request, form, formset, change):  # the one formset: the items, with files to attach
        formset.save(commit=False)
        for item in formset.deleted_objects:
            item.delete()
        changed = [item for item, fields in formset.changed_objects if set(fields) - {"attach"}]
        for item in [*formset.new_objects, *changed]:  # a row that only attaches a file leaves the item as it is
            services.item_save(item=item, actor=request.user)
        formset.save_m2m()
        for row in formset.forms:
            upload = row.cleaned_data.get("attach") if row not in formset.deleted_forms else None
            if upload:
                services.item_file_add(item=row.instance, actor=request.user, upload=upload)

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
                for errors in refusal_errors(refused).values():
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
                for errors in refusal_errors(refused).values():
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
    inlines = [HandoverItemFileInline]
    actions = ["mark_done"]
    object_buttons = ["mark_done_button"]

    def save_formset(self, request, form, formset, change):  # the one formset: the item's files
        save_item_files(request, formset)

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
            self.message_user(request, refusal_text(refused), messages.ERROR)
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
                for errors in refusal_errors(refused).values():
                    self.message_user(request, " ".join(errors), messages.ERROR)
                continue
            marked += 1
        message = f"{marked} item{pluralize(marked)} marked done"
        if already:
            message += f"; {already} {pluralize(already, 'was,were')} already done"
        self.message_user(request, f"{message}.", messages.SUCCESS if marked else messages.INFO)
