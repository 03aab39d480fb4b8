"""`manage.py scan_readiness` on the SU7 demo says no_go, for the reasons the demo was built to contain."""

from io import StringIO

import pytest
from django.core.management import call_command

from sopgate.demo.load import load_demo
from sopgate.models import Blocker
from tests.factories import TODAY

pytestmark = pytest.mark.django_db


def test_scan_readiness_on_the_demo(at_today, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load_demo(today=TODAY)
    out = StringIO()
    call_command("scan_readiness", "--program", "SU7", stdout=out)
    text = out.getvalue()
    first_line = text.splitlines()[0]
    assert first_line.startswith("SU7: no_go | readiness ")
    for rule in ("part_late", "test_failed", "capacity_shortfall", "supplier_update_stale", "part_unsourced"):
        assert f"{rule} " in text, rule
    assert "SU7 cannot start production:" in text
    assert "test failed" in text and "capacity shortfall" in text and "part late" in text

    open_blockers = Blocker.objects.filter(program__code="SU7", resolved_at__isnull=True)
    late = open_blockers.filter(rule="part_late").values_list("object_label", flat=True)
    assert late.count() >= 2  # the demo's story parts (BM-107, HPM-107, ...): exact numbers are the demo's
    assert any(" BM-107 " in label for label in late)
    crash = open_blockers.get(rule="test_failed")
    assert crash.object_label.startswith("Test PV-CRASH-01 ") and "A-pillar intrusion" in crash.message
    shortfall = open_blockers.get(rule="capacity_shortfall", object_label__contains=" BM-121 ")
    assert "short from " in shortfall.message and " units " in shortfall.message
    stale = open_blockers.filter(rule="supplier_update_stale")
    assert set(stale.values_list("supplier__code", flat=True)) == {"DRAXL-LZ"}
    assert stale.exists()  # every stale part is DRAXL-LZ's (set above), and there are some
    assert all("(29 days ago, limit 14 days)" in m for m in stale.values_list("message", flat=True))

    again = StringIO()
    call_command("scan_readiness", "--program", "SU7", stdout=again)
    assert "opened 0, resolved 0" in again.getvalue()  # a second run changes nothing
