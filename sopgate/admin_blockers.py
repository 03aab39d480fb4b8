"""What the part, test and item admin lists show of the gate: a filter and a badge over the open blockers that
`sopgate.selectors.with_open_blockers` annotates (`open_blocking`, `open_warnings`)."""

from django.contrib import admin
from django.db.models import Q
from django.template.defaultfilters import pluralize

from .admin_badges import badge


class BlockedFilter(admin.SimpleListFilter):
    """Rows with open gate blockers (annotated by `sopgate.selectors.with_open_blockers`)."""

    title = "blocked"
    parameter_name = "blocked"

    def lookups(self, request, model_admin):
        return [("blocking", "Blocking"), ("any", "Any open blocker"), ("no", "No open blocker")]

    def queryset(self, request, queryset):
        if self.value() == "blocking":
            return queryset.filter(open_blocking__gt=0)
        if self.value() == "any":
            return queryset.filter(Q(open_blocking__gt=0) | Q(open_warnings__gt=0))
        if self.value() == "no":
            return queryset.filter(open_blocking=0, open_warnings=0)
        return queryset


def blockers_badge(obj):
    if obj.open_blocking:
        return badge(f"{obj.open_blocking} blocking", "bad")
    if obj.open_warnings:
        return badge(f"{obj.open_warnings} warning{pluralize(obj.open_warnings)}", "warn")
    return None
