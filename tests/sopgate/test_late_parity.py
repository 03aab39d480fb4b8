"""The gate's `part_late` rule (hand-written SQL in sopgate.rules) and the API's `late` (parts_with_status)
must call the same parts late, or a part listed as late on the API has no blocker, or the reverse."""

from datetime import timedelta
from itertools import product

import pytest

from parts.models import Part
from parts.selectors import parts_with_status
from sopgate.choices import Rule
from sopgate.rules import evaluate_program
from tests.factories import SOP, TODAY, EngineerFactory, PartFactory, ProgramFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def _parts_at_every_boundary(program) -> list[Part]:
    """One part per combination of need date (none, and each side of today and of the at-risk horizon),
    promised date (none, a day before, on, a day after the need date) and received or not."""
    supplier, owner = SupplierFactory(), EngineerFactory()
    horizon = TODAY + timedelta(days=program.at_risk_days)
    needs = [None, TODAY - timedelta(days=1), TODAY, horizon, horizon + timedelta(days=1), SOP]
    promises = [None, -1, 0, 1]
    parts = []
    for n, (need, promised_offset, received) in enumerate(product(needs, promises, [None, TODAY])):
        effective_need = need or program.sop_date - timedelta(days=program.part_lead_days)
        promised = None if promised_offset is None else effective_need + timedelta(days=promised_offset)
        parts.append(
            PartFactory.build(
                program=program,
                supplier=supplier,
                owner=owner,
                part_number=f"P-{n:03d}",
                need_date=need,
                promised_date=promised,
                received_on=received,
            )
        )
    return Part.objects.bulk_create(parts)


def _late_by_domain(part: Part, program) -> bool:
    """DOMAIN.md, word for word: open, and promised after need, or need passed, or no promise while need is near."""
    need = part.need_date or program.sop_date - timedelta(days=program.part_lead_days)
    return part.received_on is None and (
        (part.promised_date is not None and part.promised_date > need)
        or need < TODAY
        or (part.promised_date is None and need <= TODAY + timedelta(days=program.at_risk_days))
    )


@pytest.mark.parametrize(
    "settings_",
    [{}, {"part_lead_days": 60, "at_risk_days": 3}, {"part_lead_days": 0, "at_risk_days": 0}],
    ids=["defaults", "default-need-passed", "zero-days"],
)
def test_scan_and_api_call_the_same_parts_late(at_today, settings_):
    program = ProgramFactory(code="LATE1", **settings_)
    other = ProgramFactory(code="LATE2", part_lead_days=30, at_risk_days=10)  # the API mixes programs
    parts = _parts_at_every_boundary(program)
    _parts_at_every_boundary(other)

    scan_late = {f.object_id for f in evaluate_program(program, TODAY) if f.rule == Rule.PART_LATE}
    api_late = set(
        parts_with_status(Part.objects.all(), today=TODAY)
        .filter(program=program, late=True)
        .values_list("id", flat=True)
    )
    domain_late = {p.pk for p in parts if _late_by_domain(p, program)}

    assert scan_late == api_late == domain_late
    assert 0 < len(domain_late) < len(parts)  # the data has both late and not-late parts
