"""The scan's findings (`sopgate.gate.findings`): each kind's queryset is built once per program, day and
figures in a process; what a scan sees must still follow every change of those figures and of the data."""

from datetime import timedelta

import pytest
from django.utils import timezone

from parts.models import Part
from sopgate.choices import ObjectType
from sopgate.gate.findings import kind_queryset, program_findings
from sopgate.models import Program
from tests.factories import TODAY, PartFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def _rules(program) -> list[str]:
    return sorted(finding.rule for finding in program_findings(program, TODAY))


def _set(program, **figures) -> Program:
    Program.objects.filter(pk=program.pk).update(**figures)
    program.refresh_from_db()
    return program


def test_a_changed_program_figure_is_seen_by_the_next_scan_the_same_day(at_today):
    program = ProgramFactory(code="MEMO", at_risk_days=3, stale_update_days=14)
    need = TODAY + timedelta(days=30)
    part = PartFactory(program=program, need_date=need, promised_date=need - timedelta(days=5))
    assert _rules(program) == []
    assert _rules(_set(program, at_risk_days=7)) == ["part_at_risk"]  # promised within 7 days of need
    Part.objects.filter(pk=part.pk).update(created_at=timezone.now() - timedelta(days=10))
    assert _rules(program) == ["part_at_risk"]
    assert _rules(_set(program, stale_update_days=7)) == ["part_at_risk", "supplier_update_stale"]
    assert _rules(_set(program, at_risk_days=3, stale_update_days=14)) == []


def test_the_data_is_read_afresh_each_time(at_today):
    program = ProgramFactory(code="MEMO2")
    PartFactory(program=program)
    assert kind_queryset(ObjectType.PART, program, TODAY).count() == 1
    PartFactory(program=program, supplier=None)
    assert kind_queryset(ObjectType.PART, program, TODAY).count() == 2
    assert _rules(program) == ["part_unsourced"]
