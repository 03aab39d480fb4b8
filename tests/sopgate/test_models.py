"""Database constraints of the gate's own records."""

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, transaction

from sopgate.models import Alert, Blocker, DigestDelivery, Program, RampStep, ReadinessSnapshot
from tests.factories import ProgramFactory, RampStepFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 4, 9, tzinfo=UTC)


def _refused(queryset, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        queryset.update(**values)


def _blocker(program, **overrides):
    values = {
        "program": program,
        "rule": "part_late",
        "severity": "blocking",
        "object_type": "part",
        "object_id": 1,
        "object_label": "Battery module BM-100 rev B",
        "message": "late",
        "opened_at": NOW,
        "last_seen_at": NOW,
    }
    return Blocker.objects.create(**{**values, **overrides})


def test_program_code_unique():
    ProgramFactory(code="SU7")
    with pytest.raises(IntegrityError), transaction.atomic():
        Program.objects.create(code="SU7", name="Copy", sop_date=date(2027, 3, 1))


def test_ramp_step_month_must_be_first_day_and_once_per_program():
    step = RampStepFactory(month=date(2027, 3, 1))
    _refused(RampStep.objects.filter(pk=step.pk), month=date(2027, 3, 15))
    _refused(RampStep.objects.filter(pk=step.pk), planned_vehicles=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        RampStepFactory(program=step.program, month=date(2027, 3, 1), planned_vehicles=5)
    RampStepFactory(program=ProgramFactory(), month=date(2027, 3, 1))
    step.refresh_from_db()
    assert (step.month, step.planned_vehicles) == (date(2027, 3, 1), 10000)


@pytest.mark.parametrize("field", ["rule", "severity", "object_type"])
def test_blocker_refuses_unknown_vocabulary(field):
    blocker = _blocker(ProgramFactory())
    _refused(Blocker.objects.filter(pk=blocker.pk), **{field: "nonsense"})


def test_at_most_one_open_blocker_per_rule_and_object():
    program = ProgramFactory()
    first = _blocker(program)
    with pytest.raises(IntegrityError), transaction.atomic():
        _blocker(program)
    Blocker.objects.filter(pk=first.pk).update(resolved_at=NOW)
    _blocker(program)  # re-opened after it was resolved: allowed
    _blocker(program, rule="part_at_risk", severity="warning")  # another rule on the same part: allowed
    assert Blocker.objects.filter(resolved_at__isnull=True).count() == 2


def test_snapshot_once_per_program_and_day_with_a_known_decision():
    program = ProgramFactory()
    values = {"program": program, "date": date(2027, 1, 4), "readiness_pct": 50, "blocking_count": 1}
    snapshot = ReadinessSnapshot.objects.create(decision="no_go", warning_count=0, **values)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReadinessSnapshot.objects.create(decision="go", warning_count=0, **values)
    _refused(ReadinessSnapshot.objects.filter(pk=snapshot.pk), decision="maybe")


def test_alert_once_per_blocker_and_recipient_with_a_known_status():
    blocker = _blocker(ProgramFactory())
    alert = Alert.objects.create(blocker=blocker, recipient="a@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(blocker=blocker, recipient="a@example.com")
    _refused(Alert.objects.filter(pk=alert.pk), status="lost")
    Alert.objects.create(blocker=blocker, recipient="b@example.com")
    assert Alert.objects.count() == 2


def test_digest_once_per_recipient_and_day():
    DigestDelivery.objects.create(recipient="a@example.com", date=date(2027, 1, 4))
    with pytest.raises(IntegrityError), transaction.atomic():
        DigestDelivery.objects.create(recipient="a@example.com", date=date(2027, 1, 4))
    DigestDelivery.objects.create(recipient="a@example.com", date=date(2027, 1, 5))
    assert DigestDelivery.objects.count() == 2
