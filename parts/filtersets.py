"""Filters of the parts API lists. Codes that match nothing give an empty list (never another supplier's hint)."""

import django_filters
from django import forms

from sopgate.api.fields import ISO_DATE

from .choices import Criticality, PPAPStatus, ToolingStage
from .models import CapacityLine, Part, Supplier, SupplierUpdate

ID_MAX = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """An object id: whole numbers only, in the column's range."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


class _StrictBooleanField(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")


class _IsoDateField(forms.DateField):
    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": "Enter a date as YYYY-MM-DD."}

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not ISO_DATE.fullmatch(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")  # strptime takes 2027-2-1
        return super().to_python(value)


class IsoDateFilter(django_filters.DateFilter):
    """A date written YYYY-MM-DD, as in request bodies; Django's own formats also read 02/01/2027, as 1 February."""

    field_class = _IsoDateField


class BooleanFilter(django_filters.BooleanFilter):
    """`true`/`false`; anything else is a 400 naming the parameter (django-filter would silently ignore it)."""

    field_class = _StrictBooleanField


class SupplierFilterSet(django_filters.FilterSet):
    is_active = BooleanFilter()

    class Meta:
        model = Supplier
        fields = ["is_active", "country"]


class PartFilterSet(django_filters.FilterSet):
    program = django_filters.CharFilter(field_name="program__code", help_text="Program code.")
    supplier = django_filters.CharFilter(field_name="supplier__code", help_text="Supplier code.")
    ppap_status = django_filters.ChoiceFilter(choices=PPAPStatus.choices)
    criticality = django_filters.ChoiceFilter(choices=Criticality.choices)
    tooling_stage = django_filters.ChoiceFilter(choices=ToolingStage.choices)
    late = BooleanFilter(help_text="Late as of today (the `part_late` rule).")
    has_blocker = BooleanFilter(method="filter_has_blocker", help_text="Has an open gate blocker.")
    need_date_before = IsoDateFilter(
        field_name="effective_need_date", lookup_expr="lte", help_text="Effective need date on or before."
    )
    need_date_after = IsoDateFilter(
        field_name="effective_need_date", lookup_expr="gte", help_text="Effective need date on or after."
    )

    class Meta:
        model = Part
        fields = [
            "program",
            "supplier",
            "ppap_status",
            "criticality",
            "tooling_stage",
            "late",
            "has_blocker",
            "need_date_before",
            "need_date_after",
        ]

    def filter_has_blocker(self, queryset, name, value):
        # `open_blockers` is annotated by sopgate.gate.part_status.part_list_for_api.
        return queryset.filter(open_blockers__gt=0) if value else queryset.filter(open_blockers=0)


class SupplierUpdateFilterSet(django_filters.FilterSet):
    part = IdFilter(field_name="part_id", help_text="Part id.")
    program = django_filters.CharFilter(field_name="part__program__code", help_text="Program code.")

    class Meta:
        model = SupplierUpdate
        fields = ["part", "program"]


class CapacityLineFilterSet(django_filters.FilterSet):
    part = IdFilter(field_name="part_id", help_text="Part id.")
    program = django_filters.CharFilter(field_name="part__program__code", help_text="Program code.")

    class Meta:
        model = CapacityLine
        fields = ["part", "program"]
