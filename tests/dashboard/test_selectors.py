from datetime import timedelta

import pytest

from parts.choices import PPAPStatus
from parts.models import Part
from sopgate.dashboard.selectors import program_summaries, supplier_scorecard
from sopgate.gate.part_status import parts_with_status
from sopgate.selectors import program_readiness
from tests.dashboard.conftest import build_program
from tests.factories import PartFactory, ProgramFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def test_program_summaries_agree_with_program_readiness(at_today):
    programs = [build_program("A1", 4, at_today), build_program("B2", 9, at_today), ProgramFactory(code="C3")]
    healthy = ProgramFactory(code="D4")
    PartFactory(program=healthy)
    summaries = {s.program.code: s for s in program_summaries(today=at_today)}
    for program in [*programs, healthy]:
        readiness = program_readiness(program, today=at_today)
        summary = summaries[program.code]
        assert summary.decision == readiness.decision
        assert summary.readiness_pct == readiness.readiness_pct
        assert summary.blocking_count == readiness.blocking_count
        assert summary.warning_count == readiness.warning_count
        assert (summary.forecast_sop_date, summary.forecast_reason) == (
            readiness.forecast_sop_date,
            readiness.forecast_reason,
        )
        assert summary.days_to_sop == readiness.days_to_sop
    assert summaries["D4"].decision == "go"


def test_supplier_scorecard_counts_late_stale_and_promises_kept(at_today):
    program = ProgramFactory(code="SC")
    need = program.sop_date - timedelta(days=program.part_lead_days)
    good, bad = SupplierFactory(code="GOOD"), SupplierFactory(code="BAD")
    # GOOD: arrived before its promise (kept); one still on its way, promise ahead (not counted).
    PartFactory(
        program=program,
        supplier=good,
        promised_date=at_today - timedelta(days=1),
        received_on=at_today - timedelta(days=2),
    )
    PartFactory(program=program, supplier=good, promised_date=need - timedelta(days=10))
    # BAD: arrived after its promise (broken); promise passed without the part (broken);
    # promised after the need date (late); silent for 30 days (stale).
    PartFactory(
        program=program,
        supplier=bad,
        promised_date=at_today - timedelta(days=5),
        received_on=at_today - timedelta(days=1),
    )
    PartFactory(program=program, supplier=bad, promised_date=at_today - timedelta(days=3))
    PartFactory(program=program, supplier=bad, promised_date=need + timedelta(days=4), ppap_status=PPAPStatus.SUBMITTED)
    stale = PartFactory(program=program, supplier=bad)
    type(stale).objects.filter(pk=stale.pk).update(created_at=stale.created_at - timedelta(days=30))
    scores = {s.code: s for s in supplier_scorecard(program, today=at_today)}
    assert (scores["GOOD"].promises_kept, scores["GOOD"].promises_due, scores["GOOD"].late) == (1, 1, 0)
    assert not scores["GOOD"].has_issues
    bad_score = scores["BAD"]
    assert (bad_score.promises_kept, bad_score.promises_due, bad_score.promises_broken) == (0, 2, 2)
    assert bad_score.late == 1
    assert bad_score.stale == 1
    assert bad_score.kept_pct == 0
    assert [s.code for s in supplier_scorecard(program, today=at_today)] == ["BAD", "GOOD"]


def test_supplier_scorecard_late_parts_are_the_part_late_rule_of_the_part_list(at_today):
    """The scorecard counts late parts in its own SQL; it must agree with `parts_with_status(...).late`."""
    program = build_program("SL", 24, at_today)
    scores = supplier_scorecard(program, today=at_today)
    assert sum(s.late for s in scores) > 0
    late = parts_with_status(Part.objects.filter(program=program), today=at_today).filter(late=True)
    for score in scores:
        assert score.late == late.filter(supplier_id=score.supplier_id).count()
        assert score.parts == Part.objects.filter(program=program, supplier_id=score.supplier_id).count()
