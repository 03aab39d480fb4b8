"""What the validation admin's pages share: refusals shown as messages or next to fields, the late filter, and a
history revert that runs in one transaction."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sopgate.roles import NotPermitted


def refusal_errors(refused: ValidationError | NotPermitted) -> dict[str, list[str]]:
    return refused.message_dict


def refusal_text(refused: ValidationError | NotPermitted) -> str:
    return " ".join(error for errors in refusal_errors(refused).values() for error in errors)


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


class RevertInTransaction:
    """Django saves a change form in one transaction, simple_history's revert form does not; the item check locks the
    checklist from validating the form to saving it, which needs one."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "POST":
            return super().history_form_view(request, object_id, version_id, extra_context)
        with transaction.atomic():
            return super().history_form_view(request, object_id, version_id, extra_context)
