"""Filters of the validation API lists."""

import django_filters

from parts.filtersets import BooleanFilter, IdFilter

from .choices import TestPhase, TestStatus
from .models import HandoverChecklist, HandoverItem, ValidationTest


class ValidationTestFilterSet(django_filters.FilterSet):
    program = django_filters.CharFilter(field_name="program__code", help_text="Program code.")
    phase = django_filters.ChoiceFilter(choices=TestPhase.choices)
    status = django_filters.ChoiceFilter(choices=TestStatus.choices)
    part = IdFilter(field_name="part_id", help_text="Part id.")
    required_for_sop = BooleanFilter()

    class Meta:
        model = ValidationTest
        fields = ["program", "phase", "status", "required_for_sop", "part"]


class HandoverChecklistFilterSet(django_filters.FilterSet):
    program = django_filters.CharFilter(field_name="program__code", help_text="Program code.")

    class Meta:
        model = HandoverChecklist
        fields = ["program"]


class HandoverItemFilterSet(django_filters.FilterSet):
    checklist = IdFilter(field_name="checklist_id", help_text="Checklist id.")
    program = django_filters.CharFilter(field_name="checklist__program__code", help_text="Program code.")
    done = BooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True)
    required = BooleanFilter()

    class Meta:
        model = HandoverItem
        fields = ["checklist", "program", "done", "required"]
