"""The validation test admin: its status badge, the late and blocked filters, and the record-result buttons, which
apply the status rules of `services.test_check_status` (also on the form and its history revert)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from simple_history.admin import SimpleHistoryAdmin

from sopgate.admin_badges import badge, person, short_date
from sopgate.admin_blockers import BlockedFilter, blockers_badge
from sopgate.admin_buttons import ObjectButtons, object_button
from sopgate.admin_panel import gate_panel
from sopgate.choices import ObjectType
from sopgate.roles import NotPermitted
from sopgate.selectors import with_open_blockers

from .. import services
from ..choices import TestStatus
from ..models import ValidationTest
from .common import LateFilter, refusal_errors, refusal_text

TEST_TONES = {
    TestStatus.PASSED: "good",
    TestStatus.WAIVED: "good",
    TestStatus.PLANNED: "neutral",
    TestStatus.IN_PROGRESS: "neutral",
    TestStatus.FAILED: "bad",
}


class TestLateFilter(LateFilter):
    date_field = "planned_end"
    done = Q(status__in=[TestStatus.PASSED, TestStatus.WAIVED])


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
            for field, errors in refusal_errors(refused).items():
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
            self.message_user(request, refusal_text(refused), messages.ERROR)
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
