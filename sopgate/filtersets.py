"""Filters of the gate's API lists."""

import django_filters
from django.db import models

from parts.filtersets import BooleanFilter, IsoDateFilter

from .choices import Rule, Severity
from .models import Blocker, Program


class ProgramFilterSet(django_filters.FilterSet):
    class Meta:
        model = Program
        fields = {"sop_date": ["exact", "gte", "lte"]}
        filter_overrides = {models.DateField: {"filter_class": IsoDateFilter}}


class BlockerFilterSet(django_filters.FilterSet):
    program = django_filters.CharFilter(field_name="program__code", help_text="Program code.")
    rule = django_filters.ChoiceFilter(choices=Rule.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    open = BooleanFilter(field_name="resolved_at", lookup_expr="isnull", help_text="Still open?")

    class Meta:
        model = Blocker
        fields = ["program", "rule", "severity", "open"]
