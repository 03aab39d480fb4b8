"""Immediate alerts and the daily digest: who gets what, once, and what SMTP failures do to the outbox."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from parts.choices import PPAPStatus
from parts.models import Part
from sopgate.alerts import TemporaryDeliveryError, alert_send, digest_recipients, digest_send
from sopgate.models import Alert, Blocker, DigestDelivery
from sopgate.services import program_scan
from tests.factories import (
    ChecklistFactory,
    EngineerFactory,
    PartFactory,
    ProgramFactory,
    RampStepFactory,
    SupplierFactory,
    ValidationTestFactory,
)
from tests.sopgate.conftest import free_port
from validation.choices import TestStatus as Status

pytestmark = pytest.mark.django_db

TODAY = date(2027, 1, 4)
SOP = date(2027, 3, 1)
NEED = SOP - timedelta(days=14)
NOW = timezone.make_aware(datetime.combine(TODAY, time(9)))
RECENT = NOW - timedelta(days=1)


def person(name: str, **kwargs):
    return EngineerFactory(username=name, email=f"{name}@oem.example", **kwargs)


def _part(program, owner, supplier, number, **kwargs):
    kwargs.setdefault("last_supplier_update_at", RECENT)
    return PartFactory(
        program=program, owner=owner, supplier=supplier, part_number=number, name="Battery module", **kwargs
    )


def _alerts(program=None):
    rows = Alert.objects.all() if program is None else Alert.objects.filter(blocker__program=program)
    return sorted(rows.values_list("blocker__rule", "blocker__object_label", "recipient"))


@pytest.fixture
def program():
    return ProgramFactory(code="SU7", sop_date=SOP, owner=person("launch"))


def test_an_alert_per_recipient_for_blocking_blockers_only(program):
    RampStepFactory(program=program)
    anna, marco, priya = person("anna"), person("marco"), person("priya")
    catl = SupplierFactory(code="CATL", alert_emails=["quality@catl.example", "Launch@CATL.example"])
    draxl = SupplierFactory(code="DRAXL", alert_emails=["q@draxl.example"])
    _part(program, anna, catl, "BM-107", promised_date=NEED + timedelta(days=20))  # part_late
    # capacity_shortfall, week by week and cumulative: 8 a vehicle, July's 80,000 against 1,800 a week built
    # since the SOP week (22 weeks: 39,600).
    _part(program, anna, catl, "BM-121", capacity_per_week=1800, qty_per_vehicle=8)
    _part(program, marco, draxl, "DS-114", ppap_status=PPAPStatus.REJECTED)  # ppap_rejected
    _part(program, marco, draxl, "DS-121", promised_date=NEED - timedelta(days=2))  # at risk: warning
    _part(program, marco, draxl, "DS-128", last_supplier_update_at=NOW - timedelta(days=29))  # stale: warning
    _part(program, None, None, "FL-100", promised_date=None)  # unsourced, no owner: the program owner
    ValidationTestFactory(program=program, code="PV-CRASH-01", name="Frontal", owner=priya, status=Status.FAILED)
    checklist = ChecklistFactory(program=program, area="Paint", rd_owner=priya, production_owner=anna)

    program.signoff_days = 60  # sign-offs were due 2026-12-31: the checklist is already late on TODAY
    program.save()
    program_scan(program_id=program.pk, today=TODAY, now=NOW)

    assert _alerts() == [
        ("capacity_shortfall", "Battery module BM-121 rev A", "anna@oem.example"),
        ("capacity_shortfall", "Battery module BM-121 rev A", "launch@catl.example"),
        ("capacity_shortfall", "Battery module BM-121 rev A", "quality@catl.example"),
        ("handover_unsigned", "Handover Paint", "anna@oem.example"),
        ("handover_unsigned", "Handover Paint", "priya@oem.example"),
        ("part_late", "Battery module BM-107 rev A", "anna@oem.example"),
        ("part_late", "Battery module BM-107 rev A", "launch@catl.example"),
        ("part_late", "Battery module BM-107 rev A", "quality@catl.example"),
        ("part_unsourced", "Battery module FL-100 rev A", "launch@oem.example"),
        ("ppap_rejected", "Battery module DS-114 rev A", "marco@oem.example"),
        ("ppap_rejected", "Battery module DS-114 rev A", "q@draxl.example"),
        ("test_failed", "Test PV-CRASH-01 Frontal", "priya@oem.example"),
    ]
    assert checklist.pk in Blocker.objects.filter(rule="handover_unsigned").values_list("object_id", flat=True)
    # Warnings opened (stale, interim, ...) but never alerted.
    assert Blocker.objects.filter(severity="warning", resolved_at__isnull=True).exists()
    assert not Alert.objects.filter(blocker__severity="warning").exists()


def test_warnings_and_rescans_never_alert_and_each_alert_exists_once(program):
    anna = person("anna")
    supplier = SupplierFactory(code="DRAXL", alert_emails=["q@draxl.example"])
    _part(program, anna, supplier, "DS-121", promised_date=NEED - timedelta(days=2))  # at risk
    _part(program, anna, supplier, "DS-128", last_supplier_update_at=NOW - timedelta(days=29))  # stale
    late = _part(program, anna, supplier, "DS-135", promised_date=NEED + timedelta(days=3))
    program_scan(program_id=program.pk, today=TODAY, now=NOW)
    first = _alerts()
    assert first == [
        ("part_late", "Battery module DS-135 rev A", "anna@oem.example"),
        ("part_late", "Battery module DS-135 rev A", "q@draxl.example"),
    ]
    for hours in (1, 2, 3):
        program_scan(program_id=program.pk, today=TODAY, now=NOW + timedelta(hours=hours))
    assert _alerts() == first
    # Promise slips further: the same blocker is refreshed, nobody is told twice.
    Part.objects.filter(pk=late.pk).update(promised_date=NEED + timedelta(days=10))
    program_scan(program_id=program.pk, today=TODAY, now=NOW + timedelta(hours=4))
    assert _alerts() == first


def test_no_alert_for_owners_without_email_or_inactive(program):
    nobody = EngineerFactory(username="nomail", email="")
    gone = person("gone", is_active=False)
    supplier = SupplierFactory(code="S1", alert_emails=[])
    _part(program, nobody, supplier, "A-1", promised_date=NEED + timedelta(days=3))
    _part(program, gone, supplier, "A-2", promised_date=NEED + timedelta(days=3))
    result = program_scan(program_id=program.pk, today=TODAY, now=NOW)
    assert result.opened == 2
    assert _alerts() == []


def test_an_inactive_suppliers_contacts_are_not_written_to(program):
    owner = person("olga")
    gone = SupplierFactory(code="DEAD", is_active=False, alert_emails=["contact@dead.example"])
    _part(program, owner, gone, "X-1", ppap_status=PPAPStatus.REJECTED)
    program_scan(program_id=program.pk, today=TODAY, now=NOW)
    assert [recipient for _, _, recipient in _alerts()] == ["olga@oem.example"]


def test_a_part_needed_today_without_a_promise_says_today(program):
    _part(program, person("olga"), SupplierFactory(code="S1"), "T-1", need_date=TODAY, promised_date=None)
    program_scan(program_id=program.pk, today=TODAY, now=NOW)
    message = Blocker.objects.get(rule="part_late").message
    assert message.endswith(f"no promised date, needed {TODAY.isoformat()} (today)"), message


# --- sending over real SMTP -----------------------------------------------------------------------


@pytest.fixture
def alert(program):
    anna = person("anna", first_name="Anna", last_name="Schmidt")
    supplier = SupplierFactory(code="CATL", name="Ningbo Cell & Module", alert_emails=["quality@catl.example"])
    _part(program, anna, supplier, "BM-107", promised_date=NEED + timedelta(days=20))
    program_scan(program_id=program.pk, today=TODAY, now=NOW)
    return Alert.objects.get(recipient="anna@oem.example")


def test_alert_send_delivers_the_message_with_the_numbers(alert, smtp_server):
    assert alert_send(alert_id=alert.pk, now=NOW) == "sent"
    alert.refresh_from_db()
    assert (alert.status, alert.attempts, alert.sent_at) == ("sent", 1, NOW)
    [(rcpt, message)] = smtp_server.messages
    assert rcpt == ["anna@oem.example"]
    assert message["Subject"] == "[SOPGate SU7] Part late: Battery module BM-107 rev A"
    assert message["Message-ID"] == f"<alert-{alert.pk}@sopgate>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Battery module BM-107 rev A: promised 2027-03-07, needed 2027-02-15 (20 days late)" in body
        assert "Part late" in body and "part_late" in body
        assert "Anna Schmidt" in body
        assert "2027-01-04 09:00" in body  # opened
        assert "2027-03-21" in body  # can clear by: promised + 14 days lead
        assert "http://localhost:8000/programs/SU7/" in body
    assert "Ningbo Cell & Module" in text  # plain text is not HTML-escaped
    assert "Ningbo Cell &amp; Module" in html
    # Sent is final: a duplicate task sends nothing.
    assert alert_send(alert_id=alert.pk, now=NOW) == "sent"
    assert len(smtp_server.messages) == 1


def test_a_blocker_back_after_the_quiet_hours_alerts_again_saying_reopened(alert, smtp_server, program):
    assert alert_send(alert_id=alert.pk, now=NOW) == "sent"
    Part.objects.filter(part_number="BM-107").update(promised_date=NEED - timedelta(days=20))
    program_scan(program_id=program.pk, today=TODAY, now=NOW + timedelta(hours=1))
    Part.objects.filter(part_number="BM-107").update(promised_date=NEED + timedelta(days=20))
    later = NOW + timedelta(hours=30)
    program_scan(program_id=program.pk, today=TODAY, now=later)

    again = Alert.objects.get(recipient="anna@oem.example", blocker__resolved_at__isnull=True)
    assert again.pk != alert.pk
    assert alert_send(alert_id=again.pk, now=later) == "sent"
    _, message = smtp_server.messages[-1]
    assert message["Subject"] == "[SOPGate SU7] Reopened: Part late: Battery module BM-107 rev A"
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Reopened blocking blocker for SU7")
    assert "reopened: it had resolved, and came back more than 24 hours later" in text
    assert "Reopened blocking blocker" in message.get_body(("html",)).get_content()


def test_an_alert_whose_blocker_resolved_meanwhile_is_withdrawn(alert, smtp_server, program):
    # The broker or the mail server was down while the part got a good promise: "new blocker" is no longer true.
    Part.objects.filter(part_number="BM-107").update(promised_date=NEED - timedelta(days=20))
    program_scan(program_id=program.pk, today=TODAY, now=NOW + timedelta(hours=1))
    assert Blocker.objects.get(pk=alert.blocker_id).resolved_at is not None
    assert alert_send(alert_id=alert.pk, now=NOW + timedelta(hours=2)) == "withdrawn"
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("withdrawn", 0)
    assert smtp_server.messages == []


def test_temporary_smtp_failure_keeps_the_alert_pending_with_backoff(alert, smtp_server):
    smtp_server.rcpt_reply = "451 4.3.0 Mailbox temporarily unavailable"
    with pytest.raises(TemporaryDeliveryError, match="451"):
        alert_send(alert_id=alert.pk, now=NOW)
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("pending", 1)
    assert alert.next_attempt_at == NOW + timedelta(seconds=60)
    assert "451" in alert.last_error
    with pytest.raises(TemporaryDeliveryError):
        alert_send(alert_id=alert.pk, now=NOW + timedelta(minutes=1))
    alert.refresh_from_db()
    assert (alert.attempts, alert.next_attempt_at) == (2, NOW + timedelta(minutes=1, seconds=120))

    smtp_server.rcpt_reply = None
    assert alert_send(alert_id=alert.pk, now=NOW + timedelta(minutes=3)) == "sent"
    alert.refresh_from_db()
    assert (alert.status, alert.attempts, alert.last_error, alert.next_attempt_at) == ("sent", 3, "", None)
    assert len(smtp_server.messages) == 1


def test_permanent_smtp_failure_marks_the_alert_failed(alert, smtp_server):
    smtp_server.rcpt_reply = "550 5.1.1 No such user"
    assert alert_send(alert_id=alert.pk, now=NOW) == "failed"
    alert.refresh_from_db()
    assert alert.status == "failed"
    assert "550" in alert.last_error and "No such user" in alert.last_error
    assert alert_send(alert_id=alert.pk, now=NOW) == "failed"  # never retried
    assert smtp_server.messages == []


def test_unreachable_smtp_server_is_temporary(alert, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", free_port(), False
    with pytest.raises(TemporaryDeliveryError):
        alert_send(alert_id=alert.pk, now=NOW)
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("pending", 1)
    assert "Connection refused" in alert.last_error or "ConnectionRefused" in alert.last_error


def test_alert_gives_up_after_max_attempts(alert, smtp_server):
    from sopgate.alerts import MAX_ATTEMPTS

    smtp_server.rcpt_reply = "421 4.7.0 Try again later"
    Alert.objects.filter(pk=alert.pk).update(attempts=MAX_ATTEMPTS - 1)
    assert alert_send(alert_id=alert.pk, now=NOW) == "failed"


# --- digest ---------------------------------------------------------------------------------------


def test_digest_goes_once_per_person_and_day_with_opened_open_and_resolved(program):
    anna = person("anna")
    supplier = SupplierFactory(code="CATL", alert_emails=["quality@catl.example"])
    old = _part(program, anna, supplier, "BM-100", promised_date=NEED + timedelta(days=2))
    fixed = _part(program, anna, supplier, "BM-107", promised_date=NEED + timedelta(days=5))
    program_scan(program_id=program.pk, today=TODAY - timedelta(days=5), now=NOW - timedelta(days=5))
    Part.objects.filter(pk=fixed.pk).update(promised_date=NEED - timedelta(days=30))
    _part(program, anna, supplier, "BM-114", promised_date=NEED + timedelta(days=9))
    program_scan(program_id=program.pk, today=TODAY - timedelta(days=1), now=NOW - timedelta(days=1))

    assert digest_recipients(TODAY) == ["anna@oem.example", "launch@oem.example"]
    assert digest_send(recipient="anna@oem.example", day=TODAY) == "sent"
    assert digest_send(recipient="anna@oem.example", day=TODAY) == "sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "[SOPGate] Daily digest 2027-01-04: 1 opened, 1 still open, 1 resolved"
    assert message.to == ["anna@oem.example"]
    opened, still_open = message.body.split("STILL OPEN")
    assert "BM-114 rev A: promised 2027-02-24, needed 2027-02-15 (9 days late)" in opened
    assert "BM-100 rev A" in still_open.split("RESOLVED")[0]
    assert "BM-107 rev A (opened 2026-12-30, resolved 2027-01-03)" in message.body
    assert "SU7: http://localhost:8000/programs/SU7/" in message.body
    html = message.alternatives[0][0]
    assert "BM-114 rev A: promised 2027-02-24" in html and 'href="http://localhost:8000/programs/SU7/"' in html
    assert DigestDelivery.objects.get().status == "sent"
    assert old.pk  # (the part kept failing: it is in "still open", not "opened")


def test_digest_with_nothing_to_report_sends_nothing(program):
    person("idle")
    assert digest_send(recipient="idle@oem.example", day=TODAY) == "sent"
    assert mail.outbox == []
    assert DigestDelivery.objects.get().last_error == "nothing to report"


def test_the_daily_snapshot_records_the_gate_as_of_its_day(program):
    from sopgate.models import ReadinessSnapshot
    from sopgate.tasks import snapshot_all_programs
    from tests.factories import ItemFactory

    ItemFactory(checklist=ChecklistFactory(program=program), due_date=TODAY, required=True)
    program_scan(program_id=program.pk, today=TODAY, now=NOW)  # due today: not overdue yet
    assert not Blocker.objects.filter(rule="handover_item_overdue").exists()
    tomorrow = TODAY + timedelta(days=1)
    snapshot_all_programs(day=tomorrow.isoformat())  # the day's snapshot, before any scan of that day
    snapshot = ReadinessSnapshot.objects.get(program=program, date=tomorrow)
    assert Blocker.objects.filter(rule="handover_item_overdue", resolved_at=None).exists()
    assert (snapshot.decision, snapshot.blocking_count) == ("no_go", 1)


def test_an_archived_program_is_in_no_digest_nor_periodic_scan_or_snapshot(program):
    from sopgate.models import ReadinessSnapshot
    from sopgate.services import programs_archive
    from sopgate.tasks import scan_all_programs, snapshot_all_programs

    anna = person("anna")
    _part(program, anna, SupplierFactory(code="CATL"), "BM-100", promised_date=NEED + timedelta(days=2))
    program_scan(program_id=program.pk, today=TODAY - timedelta(days=1), now=NOW - timedelta(days=1))
    assert digest_recipients(TODAY) == ["anna@oem.example", "launch@oem.example"]

    assert programs_archive(program_ids=[program.pk], actor=anna, now=NOW) == 1

    assert digest_recipients(TODAY) == []
    assert digest_send(recipient="anna@oem.example", day=TODAY) == "sent" and mail.outbox == []
    assert snapshot_all_programs(day=TODAY.isoformat()) == 0
    assert not ReadinessSnapshot.objects.exists()
    assert scan_all_programs() == 0
    program.refresh_from_db()
    assert (program.archived_at, program.history.first().history_username) == (NOW, "anna")
