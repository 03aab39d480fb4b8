import re
from collections import Counter
from datetime import datetime, time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import escape

from parts.choices import PPAPStatus
from sopgate.dashboard.gate import WARNINGS_SHOWN_PER_RULE
from sopgate.models import Program
from sopgate.selectors import program_readiness
from sopgate.services import program_scan
from tests.dashboard.conftest import build_program
from tests.factories import ChecklistFactory, PartFactory, SupplierFactory, SupplierUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = ["dashboard:index", "dashboard:program", "dashboard:report_csv", "dashboard:report_xlsx"]
# The session, then the user with its supplier membership (one join), then six GROUP BY queries for all programs.
INDEX_QUERIES = 8
# Session, user with membership, the program with its owner, then the charts' reads through the ORM: trend, PPAP
# with parts done, the ramp week by week (ramp steps, parts, their calendars, capacity lines), tests, handover (required and done items,
# overdue items, checklists), supplier scores with their open blockers (two); then the verdict (open blockers per
# rule, the blockers to show, the blockers the forecast looks at). 5 while the page's reads were hand-written SQL
# sent in one round trip (12 one by one). Then the program's pending re-scan, for the "re-scan queued" note.
PROGRAM_QUERIES = 19


def escape_text(text: str) -> str:
    """`text` as the program page writes it: escaped, and in ASCII (other characters as references)."""
    return escape(text).encode("ascii", "xmlcharrefreplace").decode()


def _url(name, code="SU7"):
    return reverse(name) if name == "dashboard:index" else reverse(name, args=[code])


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_users_are_sent_to_the_admin_login(client, at_today, name):
    build_program("SU7", 2, at_today)
    response = client.get(_url(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login") + "?next=")


@pytest.mark.parametrize("name", PAGES)
def test_supplier_users_get_403(client, at_today, name):
    build_program("SU7", 2, at_today)
    supplier_user = SupplierUserFactory(user=UserFactory(username="sam", is_staff=True)).user
    client.force_login(supplier_user)
    response = client.get(_url(name))
    assert response.status_code == 403
    assert b"for engineers" in response.content


def test_a_plain_user_gets_403_and_a_member_of_engineers_gets_in(client, at_today):
    build_program("SU7", 2, at_today)
    user = UserFactory(username="plain")
    client.force_login(user)
    assert client.get("/programs/SU7/").status_code == 403
    user.groups.add(Group.objects.get_or_create(name="engineers")[0])  # made by migration sopgate 0009
    client.force_login(user)
    assert client.get("/programs/SU7/").status_code == 200


def test_unknown_program_is_404(engineer_client, at_today):
    assert engineer_client.get("/programs/NOPE/").status_code == 404
    assert engineer_client.get("/programs/NOPE/report.csv").status_code == 404


def test_index_lists_every_program_with_decision_readiness_and_forecast(engineer_client, at_today):
    programs = [build_program(code, 4, at_today) for code in ("SU7", "YU7")]
    html = engineer_client.get("/").content.decode()
    for program in programs:
        readiness = program_readiness(program, today=at_today)
        row = html[html.index(f"<strong>{program.code}</strong>") :].split("</tr>")[0]
        assert "✖ No go" in row
        assert f"{readiness.readiness_pct} %" in row
        assert f">{readiness.days_to_sop}<" in row
        assert f">{readiness.blocking_count}" in row
        assert readiness.forecast_reason in row


@pytest.mark.parametrize("programs", [1, 12])
def test_index_queries_do_not_grow_with_programs(engineer_client, at_today, django_assert_num_queries, programs):
    for n in range(programs):
        build_program(f"P{n}", 2, at_today)
    with django_assert_num_queries(INDEX_QUERIES):
        response = engineer_client.get("/")
    assert response.content.decode().count('class="sg-badge') == programs


@pytest.mark.parametrize("size", [3, 60])
def test_program_page_queries_do_not_grow_with_its_size(engineer_client, at_today, django_assert_num_queries, size):
    program = build_program("SU7", size, at_today, warnings=size // 2)
    blockers = program_readiness(program, today=at_today).blockers
    assert len(blockers) >= size  # the large program really has more to show
    with django_assert_num_queries(PROGRAM_QUERIES):
        response = engineer_client.get("/programs/SU7/")
    shown = sum(1 for b in blockers if b.severity == "blocking") + sum(
        min(n, WARNINGS_SHOWN_PER_RULE) for n in Counter(b.rule for b in blockers if b.severity == "warning").values()
    )
    assert response.content.decode().count('class="sg-blocker-link"') == shown


def test_program_page_shows_decision_blockers_with_admin_links_forecast_and_charts(engineer_client, at_today):
    program = build_program("SU7", 8, at_today)
    readiness = program_readiness(program, today=at_today)
    response = engineer_client.get("/programs/SU7/")
    html = response.content.decode()
    assert readiness.decision_sentence in html
    assert readiness.forecast_reason in html
    for blocker in readiness.blockers:
        name = {
            "part": "admin:parts_part_change",
            "validation_test": "admin:validation_validationtest_change",
            "handover_item": "admin:validation_handoveritem_change",
            "handover_checklist": "admin:validation_handoverchecklist_change",
        }[blocker.object_type]
        assert f'href="{reverse(name, args=[blocker.object_id])}" class="sg-blocker-link"' in html
        detail = blocker.message.removeprefix(f"{blocker.object_label}: ")
        assert detail != blocker.message  # the Object column already names it; the message cell doesn't repeat it
        assert f'<td title="{escape_text(blocker.message)}" data-label="Message">{escape_text(detail)}</td>' in html
    for rule in readiness.counts["by_rule"]:
        assert f'id="rule-{rule}"' in html
    for chart in ("trend", "ppap", "ramp", "tests", "handover", "suppliers"):
        assert f'id="chart-{chart}"' in html
    assert html.count('<svg class="sg-chart"') == 5
    assert html.count('<svg class="wc-svg"') == 1
    assert response.content.isascii()  # other characters are references
    # Every chart mark explains itself: e.g. the PPAP bar of approved parts carries its count.
    approved = sum(1 for n in range(8) if n % 4 != 1)
    assert f"Approved &mdash; Approved: {approved} parts" in html


def test_program_page_runs_under_a_strict_content_security_policy(engineer_client, at_today):
    build_program("SU7", 4, at_today)
    response = engineer_client.get("/programs/SU7/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script found"
    assert not re.search(r"<style\b|\sstyle=", html), "inline style found"
    assert "/static/dashboard/dashboard.css" in html and "/static/dashboard/dashboard.js" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing from a CDN


def test_long_warning_lists_show_the_oldest_and_link_to_all_of_them_in_the_admin(
    engineer_client, client, at_today, monkeypatch
):
    monkeypatch.setattr("sopgate.dashboard.gate.WARNINGS_SHOWN_PER_RULE", 2)
    program = build_program("SU7", 8, at_today, warnings=5)
    readiness = program_readiness(program, today=at_today)
    html = engineer_client.get("/programs/SU7/").content.decode()
    # The heading counts what the tiles count, blocking and warnings apart (not the rows shown).
    counts = f"({readiness.blocking_count} blocking, {readiness.warning_count} warnings)"
    assert f'Open blockers <span class="sg-count" id="open-count">{counts}</span>' in html
    assert f'<dd class="sg-kpi-value">{readiness.blocking_count} blocking</dd>' in html
    blocking = [b for b in readiness.blockers if b.severity == "blocking"]
    for blocker in blocking:  # every blocking one is on the page
        assert f'/{blocker.object_id}/change/" class="sg-blocker-link">{escape(blocker.object_label)}<' in html
    assert html.count('class="sg-blocker-link"') == len(blocking) + 2 * 2  # two warning rules, two rows each
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    for rule in ("capacity_unconfirmed", "test_overdue"):
        warnings = [b for b in readiness.blockers if b.rule == rule]
        assert len(warnings) == 5
        section = html[html.index(f'id="rule-{rule}"') :].split('<div class="sg-group">')[0]
        assert section.count('class="sg-blocker-link"') == 2
        for oldest in warnings[:2]:
            assert f">{escape(oldest.object_label)}</a>" in section
        assert "The oldest 2 shown." in section and "(3 more)" in section
        link = re.search(r'<a href="([^"]+)">All 5 open &ldquo;[^&]+&rdquo; warnings in the admin</a>', section)
        changelist = client.get(link.group(1).replace("&amp;", "&"))
        assert changelist.status_code == 200
        assert sorted(changelist.context["cl"].result_list, key=lambda b: b.pk) == sorted(warnings, key=lambda b: b.pk)
    assert "more)" not in html[: html.index('id="rule-capacity_unconfirmed"')]  # no blocking group is cut


def test_program_page_escapes_names_it_puts_in_its_tables(engineer_client, at_today):
    program = build_program("SU7", 4, at_today, scan=False)
    evil = '<img src=x onerror="alert(1)">'
    supplier = SupplierFactory(code="EVIL", name=f"Supplier {evil}")
    PartFactory(program=program, name=f"Part {evil}", supplier=None)  # unsourced: a blocker named after it
    late = program.sop_date  # promised for the SOP date, after the need date: a late part on the scorecard
    PartFactory(program=program, supplier=supplier, promised_date=late, ppap_status=PPAPStatus.APPROVED)
    ChecklistFactory(program=program, area=f"Area {evil}")
    program_scan(program_id=program.pk, today=at_today)
    html = engineer_client.get("/programs/SU7/").content.decode()
    assert "<img" not in html
    assert escape(f"Part {evil}") in html
    assert escape(f"Area {evil}") in html
    assert f'">EVIL</a> <span class="sg-small sg-muted">{escape(f"Supplier {evil}")}</span>' in html


def test_program_page_writes_characters_outside_ascii_as_references(engineer_client, at_today):
    program = build_program("SU7", 4, at_today, scan=False)
    supplier = SupplierFactory(code="MUE", name="Müller & Söhne")
    PartFactory(program=program, name="Zelle × 8 — <b>", supplier=None)  # unsourced: a blocker named after it
    PartFactory(program=program, supplier=supplier, promised_date=program.sop_date)  # late: on the scorecard
    program_scan(program_id=program.pk, today=at_today)
    response = engineer_client.get("/programs/SU7/")
    assert response.content.isascii()
    html = response.content.decode()
    assert "M&#252;ller &amp; S&#246;hne" in html
    assert "Zelle &#215; 8 &#8212; &lt;b&gt;" in html
    assert escape_text("Müller & Söhne") == "M&#252;ller &amp; S&#246;hne"


def test_program_page_names_the_owner_or_none(engineer_client, at_today):
    program = build_program("SU7", 2, at_today)
    owner = program.owner
    for first, last, expected in (("Ada", "Lovelace", "Ada Lovelace"), ("", "", owner.username)):
        owner.first_name, owner.last_name = first, last
        owner.save()
        assert f"Owner: {expected}." in engineer_client.get("/programs/SU7/").content.decode()
    Program.objects.filter(pk=program.pk).update(owner=None)
    assert "Owner: none." in engineer_client.get("/programs/SU7/").content.decode()


def test_the_index_leaves_archived_programs_out_unless_asked(engineer_client, at_today):
    from django.utils import timezone

    build_program("SU7", 2, at_today)
    build_program("OLD", 2, at_today)
    Program.objects.filter(code="OLD").update(archived_at=timezone.now())
    html = engineer_client.get("/").content.decode()
    assert "<strong>SU7</strong>" in html and "<strong>OLD</strong>" not in html
    html = engineer_client.get("/?archived=1").content.decode()
    assert "<strong>SU7</strong>" in html and "<strong>OLD</strong>" in html


def test_readiness_bar_takes_the_decisions_colour(engineer_client, at_today):
    build_program("SU7", 8, at_today)  # failing parts and tests: No go
    html = engineer_client.get("/").content.decode()
    assert 'class="sg-meter sg-meter-no_go"' in html
    css = (Path(__file__).parents[2] / "static/dashboard/dashboard.css").read_text()
    assert ".sg-meter-no_go .sg-meter-fill { fill: var(--bad); }" in css


def test_a_pending_rescan_is_named_with_its_time(engineer_client, at_today):
    from django.utils import timezone

    from sopgate.models import ScanRequest

    program = build_program("SU7", 4, at_today)
    assert 'id="scan-queued"' not in engineer_client.get("/programs/SU7/").content.decode()
    queued = timezone.make_aware(datetime.combine(at_today, time(9, 0)))
    ScanRequest.objects.update_or_create(program=program, defaults={"requested_at": queued, "changes": 2})
    html = engineer_client.get("/programs/SU7/").content.decode()
    assert f"Re-scan queued at {at_today.isoformat()} 09:00 after 2 changes" in html


def test_one_suppliers_blockers_of_a_rule_are_one_row_with_a_count(engineer_client, at_today):
    program = build_program("SU7", 4, at_today)
    supplier = SupplierFactory(code="STALE")
    for _ in range(5):
        PartFactory(program=program, supplier=supplier, capacity_per_week=None)  # capacity unconfirmed
    program_scan(program_id=program.pk, today=at_today)
    html = engineer_client.get("/programs/SU7/").content.decode()
    section = html[html.index('id="rule-capacity_unconfirmed"') :].split('<div class="sg-group">')[0]
    assert section.count('<tr class="sg-bundle">') == 1
    assert '>STALE</a> <span class="sg-count">&times; 5</span>' in section
    assert section.count('class="sg-blocker-link"') == 5  # each part still one click away, inside the row


def test_a_program_named_after_its_code_is_named_once():
    from sopgate.programs import Program

    program = Program(code="SU7", name="SU7 electric sedan")
    assert (program.title, program.name_after_code) == ("SU7 electric sedan", "electric sedan")
    other = Program(code="EX9", name="Compact SUV")
    assert (other.title, other.name_after_code) == ("EX9 Compact SUV", "Compact SUV")
