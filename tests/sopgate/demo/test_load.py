"""`manage.py seed_demo`: the SU7 story the issue describes, and a second run that changes nothing."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.test import RequestFactory
from rest_framework.test import APIClient

from parts.models import Part, Supplier
from sopgate.models import Blocker, Program, RampStep
from validation.models import HandoverChecklist, ValidationTest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _seed(*args) -> list[str]:
    """seed_demo as the tests' production-like settings (DEBUG off) allow it: saying yes to the demo logins."""
    out = StringIO()
    call_command("seed_demo", "--yes-demo-logins", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def _row_counts() -> dict[str, int]:
    """Rows of every table the project owns, history tables included."""
    return {
        model._meta.label: model._default_manager.count()
        for app in ("sopgate", "parts", "validation", "auth", "knox")
        for model in apps.get_app_config(app).get_models()
    }


def test_with_debug_off_the_demo_logins_need_a_yes(settings, at_today):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match=r"public password \('sopgate-demo'\).*--yes-demo-logins"):
        call_command("seed_demo", stdout=StringIO())
    assert not Program.objects.exists() and not get_user_model().objects.filter(username="engineer").exists()

    settings.DEBUG = True  # `make run`
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert out.getvalue().startswith("Loaded demo program SU7")


@pytest.fixture
def seeded(at_today):
    return _seed()


@pytest.mark.parametrize("refresh", [False, True], ids=["kept", "refreshed"])
def test_second_run_changes_nothing(seeded, refresh):
    before = _row_counts()
    token = seeded[-1].rsplit("API token: ", 1)[1]
    blockers = set(Blocker.objects.values_list("id", "resolved_at", "message"))
    again = _seed(*(["--refresh"] if refresh else []))
    assert _row_counts() == before  # same rows, and no new history rows for unchanged objects
    # The token was shown once, at the first load; a later run says how to issue another, and issues none.
    assert again[-1].endswith("API token: manage.py create_api_token supplier")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/parts/?program=SU7").json()["count"] > 0
    assert set(Blocker.objects.values_list("id", "resolved_at", "message")) == blockers
    assert again[0].startswith("Refreshed demo program SU7" if refresh else "Kept demo program SU7")
    assert seeded[0].startswith("Loaded demo program SU7")


def test_a_restart_keeps_what_was_changed_in_the_demo(seeded):
    # `make run` seeds on every start: a supplier's update made through the API must survive it.
    part = Part.objects.filter(program__code="SU7").order_by("pk").first()
    Part.objects.filter(pk=part.pk).update(promised_date=date(2031, 1, 20))
    _seed()
    assert Part.objects.get(pk=part.pk).promised_date == date(2031, 1, 20)
    _seed("--refresh")
    assert Part.objects.get(pk=part.pk).promised_date != date(2031, 1, 20)


def test_program_and_ramp(seeded, today):
    program = Program.objects.get(code="SU7")
    assert program.sop_date == today + timedelta(days=60)
    sop_month = program.sop_date.replace(day=1)
    ramp = list(RampStep.objects.filter(program=program).values_list("month", "planned_vehicles"))
    assert ramp[0] == (sop_month, 2000)  # the ramp starts in the SOP's month
    assert ramp[-1][1] == 10000
    last = ramp[-1][0]
    assert (last.year - sop_month.year) * 12 + last.month - sop_month.month == 5
    # The plant shuts for the Spring Festival the week after the SOP week.
    closed = sorted(program.calendar.closed_dates)
    assert (
        len(closed) == 5
        and date.fromisoformat(closed[0]).isocalendar()[1] == ((program.sop_date + timedelta(days=7)).isocalendar()[1])
    )
    assert [v for _, v in ramp] == sorted(v for _, v in ramp)


def test_size_of_the_demo(seeded):
    program = Program.objects.get(code="SU7")
    parts = Part.objects.filter(program=program)
    assert 280 <= parts.count() <= 320
    assert 38 <= parts.exclude(supplier=None).values("supplier").distinct().count() <= 42
    assert Supplier.objects.count() == 40
    tests = ValidationTest.objects.filter(program=program)
    assert 110 <= tests.count() <= 130
    assert set(tests.values_list("phase", flat=True)) == {"dv", "pv", "homologation"}
    checklists = HandoverChecklist.objects.filter(program=program).annotate(n=Count("items"))
    assert checklists.count() == 6
    assert all(9 <= checklist.n <= 11 for checklist in checklists)


def test_the_story_the_gate_tells(seeded):
    open_blockers = Blocker.objects.filter(program__code="SU7", resolved_at=None)
    rules = dict(open_blockers.values_list("rule").annotate(n=Count("id")).values_list("rule", "n"))
    assert rules["part_late"] >= 3
    assert rules["capacity_shortfall"] >= 1
    assert rules["test_failed"] == 1
    crash = ValidationTest.objects.get(code="PV-CRASH-01")
    assert (crash.status, crash.result_note != "") == ("failed", True)
    silent = set(open_blockers.filter(rule="supplier_update_stale").values_list("supplier__code", flat=True).distinct())
    assert silent == {"DRAXL-LZ"}
    # Week by week: BM-121's plan makes 250 packs' worth a week until its second line; short in a ramp week.
    assert "short from " in open_blockers.get(rule="capacity_shortfall", object_label__contains=" BM-121 ").message
    assert open_blockers.filter(rule="run_at_rate_below_demand", object_label__contains=" BM-121 ").exists()
    # Mostly on track: far more parts are fine than blocked.
    blocked_parts = open_blockers.filter(object_type="part", severity="blocking").values("object_id").distinct()
    assert blocked_parts.count() < Part.objects.filter(program__code="SU7").count() / 5
    assert "no_go" in seeded[0] or "No go" in seeded[0]


def test_printed_logins_work(seeded):
    assert seeded[1] == "Engineer login: engineer / sopgate-demo"
    assert authenticate(RequestFactory().post("/admin/login/"), username="engineer", password="sopgate-demo").is_staff
    assert seeded[2].startswith("Supplier login: supplier / sopgate-demo (supplier CATL-NB), API token: ")
    supplier = authenticate(RequestFactory().post("/admin/login/"), username="supplier", password="sopgate-demo")
    assert supplier is not None and not supplier.is_staff
    assert supplier.supplier_membership.supplier.code == "CATL-NB"


def test_a_load_that_fails_half_way_stores_nothing(at_today, monkeypatch):
    from sopgate.demo import load as demo

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "_load_handover", fail)
    with pytest.raises(RuntimeError):
        demo.load_demo()
    assert not Program.objects.exists() and not Part.objects.exists()
