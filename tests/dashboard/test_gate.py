from datetime import datetime, time, timedelta
from itertools import groupby

import pytest
from django.utils import timezone

from parts.choices import PPAPStatus
from sopgate.choices import ObjectType, Rule, Severity
from sopgate.dashboard import report
from sopgate.dashboard.charts_page import program_charts
from sopgate.dashboard.gate import program_gate
from sopgate.models import Blocker
from sopgate.selectors import program_readiness
from tests.dashboard.conftest import build_program
from tests.factories import EngineerFactory, PartFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def _gate(program, today, cap):
    return program_gate(
        program, today=today, items=program_charts(program, today=today)["items"], warnings_per_rule=cap
    )


def _expected_shown(blockers, cap):
    shown = []
    for _, group in groupby(blockers, key=lambda b: b.rule):
        group = list(group)
        shown += group if group[0].severity == Severity.BLOCKING else group[:cap]
    return [b.id for b in shown]


def _assert_same_answer(gate, readiness):
    lean = gate.readiness
    assert lean.decision == readiness.decision
    assert lean.decision_sentence == readiness.decision_sentence
    assert (lean.readiness_pct, lean.done_items, lean.total_items) == (
        readiness.readiness_pct,
        readiness.done_items,
        readiness.total_items,
    )
    assert lean.counts == readiness.counts
    assert (lean.forecast_sop_date, lean.forecast_reason) == (readiness.forecast_sop_date, readiness.forecast_reason)


@pytest.mark.parametrize("cap", [1, 3, 25])
def test_program_gate_gives_the_answer_of_program_readiness_and_every_blocking_blocker(at_today, cap):
    healthy = ProgramFactory(code="OK1")
    PartFactory(program=healthy, ppap_status=PPAPStatus.APPROVED, received_on=at_today)
    programs = [
        build_program("A1", 4, at_today),
        build_program("B2", 30, at_today, warnings=4),
        ProgramFactory(code="C3"),
        healthy,
    ]
    for program in programs:
        readiness = program_readiness(program, today=at_today)
        gate = _gate(program, at_today, cap)
        _assert_same_answer(gate, readiness)
        assert [row.id for row in gate.readiness.blockers] == _expected_shown(readiness.blockers, cap)
        assert {g.rule: g.total for g in gate.groups} == readiness.counts["by_rule"]
        assert [g.rule for g in gate.groups] == [rule for rule, _ in groupby(b.rule for b in readiness.blockers)]
        for group in gate.groups:
            assert group.not_shown == (0 if group.severity == Severity.BLOCKING else max(0, group.total - cap))
    large = _gate(programs[1], at_today, cap)
    assert large.groups[0].severity == Severity.BLOCKING  # blocking rules come first
    assert any(group.not_shown for group in large.groups) == (cap < 25)  # the cut really cut something


def test_the_forecast_sees_a_warning_that_is_not_shown(at_today):
    """The forecast is the date the last dated blocker clears; that may be a warning below the cut."""
    program = ProgramFactory(code="FC1")
    owner = EngineerFactory(username="fc-owner", first_name="Fran", last_name="Cast")
    opened = timezone.make_aware(datetime.combine(at_today - timedelta(days=5), time(9)))
    sop = program.sop_date
    for n, clear_by in enumerate([sop + timedelta(days=5), sop + timedelta(days=7), sop + timedelta(days=30)]):
        Blocker.objects.create(
            program=program,
            rule=Rule.TEST_OVERDUE,
            severity=Severity.WARNING,
            object_type=ObjectType.VALIDATION_TEST,
            object_id=100 + n,
            object_label=f"T-{n}",
            message=f"T-{n}: overdue",
            owner=owner,
            clear_by=clear_by,
            opened_at=opened + timedelta(hours=n),
            last_seen_at=opened,
        )
    Blocker.objects.create(
        program=program,
        rule=Rule.PART_LATE,
        severity=Severity.BLOCKING,
        object_type=ObjectType.PART,
        object_id=7,
        object_label="Seat frame",
        message="Seat frame: late",
        clear_by=sop + timedelta(days=10),
        opened_at=opened,
        last_seen_at=opened,
    )
    readiness = program_readiness(program, today=at_today)
    assert readiness.forecast_sop_date == sop + timedelta(days=30)
    gate = _gate(program, at_today, 1)
    _assert_same_answer(gate, readiness)
    assert [row.object_label for row in gate.readiness.blockers] == ["Seat frame", "T-0"]
    warnings = gate.groups[1]
    assert (warnings.total, warnings.not_shown) == (3, 2)
    assert warnings.rows[0].owners == "Fran Cast"
    assert warnings.rows[0].age_days == 5
    assert gate.groups[0].rows[0].owners == "unassigned"


def test_rows_name_owners_and_age_as_the_gate_report_does(at_today):
    program = build_program("OW1", 8, at_today)
    nameless = EngineerFactory(username="nameless", first_name="", last_name="")
    blockers = list(Blocker.objects.filter(program=program).order_by("id"))
    Blocker.objects.filter(pk=blockers[0].pk).update(co_owner=nameless)
    Blocker.objects.filter(pk=blockers[1].pk).update(owner=None, co_owner=nameless)
    Blocker.objects.filter(pk=blockers[2].pk).update(owner=None, co_owner=None)
    Blocker.objects.filter(pk=blockers[3].pk).update(opened_at=timezone.now() + timedelta(days=3))  # clock skew
    rows = {row.id: row for row in _gate(program, at_today, 25).readiness.blockers}
    for blocker in Blocker.objects.filter(program=program).select_related("owner", "co_owner"):
        if blocker.pk in rows:
            row = rows[blocker.pk]
            assert (row.owners, row.age_days) == (
                report.blocker_owners(blocker),
                report.blocker_age_days(blocker, at_today),
            )
    assert {rows[b.pk].owners for b in blockers[:3] if b.pk in rows} >= {"nameless", "unassigned"}
