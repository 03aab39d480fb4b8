"""The portal's pages for a supplier: its parts sorted by what needs action first, one part's page, and nothing of
another supplier's (404 on every path)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from parts.models import EvidenceFile, SupplierUpdate

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_anonymous_visitors_go_to_the_portal_login(client, portal):
    response = client.get("/supplier/")
    assert response.status_code == 302 and response["Location"] == "/supplier/login/?next=/supplier/"


def test_the_part_list_puts_blocked_then_late_then_soonest_need_first(alice_client, portal):
    response = alice_client.get("/supplier/")
    assert response.status_code == 200
    page = response.content.decode()
    order = [page.index(number) for number in ("BM-100", "LT-200", "HC-300")]
    assert order == sorted(order)
    assert "SF-900" not in page and "secret of another supplier" not in page
    text = _text(response)
    # The blocker's message, the dates the gate uses, the first short week with its demand, the demand at the
    # ramp's end (weekly by the plant calendar: see the next test) and the capacity.
    assert "capacity 1,000/week below demand 9,033/week" in text
    assert "Feb. 20, 2027" in text  # BM-100's need date
    assert "2027-W09 1,740 short from here" in text and "by 2027-W30 9,091" in text
    assert "1,000" in text


def test_the_weekly_demand_is_the_gates_week_by_week(portal):
    from portal.selectors import ramp_demand

    demand = ramp_demand([portal.blocked, portal.healthy])
    # Weekly now (DOMAIN.md "The ramp, week by week"), replacing the month's demand × 7 / days: March's 2,000
    # over its 23 weekdays, 5 in W09: 434.8 × 4 per vehicle = 1,740; W13 holds 3 March and 2 April weekdays
    # (April keeps 2,000 over 22): 4 × (2,000 × 3 / 23 + 2,000 × 2 / 22) = 1,770.8 → 1,771; a full July week is
    # 10,000 × 5 / 22 × 4 = 9,091. BM-100 (1,000 a week) is short from the SOP week on.
    weeks = {step.week: step for step in demand[portal.blocked.pk]}
    assert (weeks["2027-W09"].weekly_demand, weeks["2027-W09"].short) == (1740, True)
    assert weeks["2027-W13"].weekly_demand == 1771
    assert weeks["2027-W28"].weekly_demand == 9091
    assert [step.short for step in demand[portal.blocked.pk]].count(True) == 1  # the first short week only
    assert not any(step.short for step in demand[portal.healthy.pk])
    assert max(step.weekly_demand for step in demand[portal.healthy.pk]) == 2273


def test_the_part_list_costs_the_same_queries_for_one_part_as_for_ten(
    alice_client, portal, django_assert_max_num_queries
):
    from tests.factories import PartFactory

    alice_client.get("/supplier/")
    # 9: the ramp week by week reads the programs, then per program its plan, parts, calendars and capacity lines.
    with django_assert_max_num_queries(9) as few:
        alice_client.get("/supplier/")
    for n in range(10):
        PartFactory(program=portal.program, supplier=portal.acme, owner=portal.engineer, part_number=f"X-{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice_client.get("/supplier/")


def test_the_part_page_shows_the_part_its_blockers_history_and_files(alice_client, portal):
    SupplierUpdate.objects.create(
        part=portal.blocked, reported_by=portal.alice, reported_at=portal.blocker.opened_at, note="Tooling delayed"
    )
    SupplierUpdate.objects.create(
        part=portal.blocked,
        reported_by=portal.bob,
        reported_at=portal.blocker.opened_at,
        supplier=portal.bolt,
        note="bob's old report",
    )
    response = alice_client.get(f"/supplier/parts/{portal.blocked.pk}/")
    text = _text(response)
    assert response.status_code == 200
    assert "BM-100 rev A" in text and "capacity 1,000/week below demand" in text
    assert "Tooling delayed" in text and "bob's old report" not in text  # only its own supplier's updates
    assert 'name="promised_date"' in response.content.decode()


def test_another_suppliers_part_is_a_404_on_every_portal_path(alice_client, portal):
    theirs = portal.theirs.pk
    evidence = EvidenceFile.objects.create(part=portal.theirs, name="w.pdf", size=1, file="evidence/BOLT/x/w.pdf")
    upload = SimpleUploadedFile("w.pdf", b"%PDF")
    assert alice_client.get(f"/supplier/parts/{theirs}/").status_code == 404
    assert alice_client.post(f"/supplier/parts/{theirs}/", {"note": "mine now"}).status_code == 404
    assert alice_client.post(f"/supplier/parts/{theirs}/files/", {"kind": "other", "file": upload}).status_code == 404
    assert alice_client.get(f"/supplier/parts/{theirs}/files/{evidence.pk}/").status_code == 404
    assert alice_client.get(f"/supplier/parts/{portal.blocked.pk}/files/{evidence.pk}/").status_code == 404
    assert alice_client.get("/supplier/parts/999999/").status_code == 404  # exactly as a missing one
    assert not SupplierUpdate.objects.filter(part=portal.theirs).exists()
    assert EvidenceFile.objects.count() == 1


@pytest.mark.parametrize("path", ["/admin/", "/admin/parts/part/", "/", "/programs/SU7/"])
def test_a_supplier_login_cannot_open_the_admin_or_the_dashboard(alice_client, portal, path):
    response = alice_client.get(path, follow=True)
    assert response.status_code in (200, 403)
    text = _text(response)
    assert "BM-100" not in text and "SF-900" not in text
    assert "/supplier/" in response.content.decode()  # pointed to its portal
    if path.startswith("/admin/"):
        assert response.redirect_chain[-1][0].startswith("/admin/login/")
        assert "not authorized" in text
    else:
        assert response.status_code == 403 and "for engineers" in text


def test_the_admin_login_refuses_a_supplier_and_points_to_the_portal(client, portal):
    response = client.post("/admin/login/", {"username": "alice", "password": "pw-for-tests-only"})
    assert response.status_code == 200
    assert "staff account" in _text(response) and "/supplier/login/" in response.content.decode()


def test_an_engineer_looks_at_the_portal_as_a_supplier_read_only(client, portal):
    client.force_login(portal.engineer)
    chooser = client.get("/supplier/")
    assert chooser.status_code == 200 and 'value="ACME"' in chooser.content.decode()
    page = client.get("/supplier/?as=ACME")
    text = _text(page)
    assert "Engineer's view" in text and "Read-only" in text and "BM-100" in text and "SF-900" not in text
    assert f"/supplier/parts/{portal.blocked.pk}/?as=ACME" in page.content.decode()
    part = client.get(f"/supplier/parts/{portal.blocked.pk}/?as=ACME")
    assert part.status_code == 200 and 'name="promised_date"' not in part.content.decode()
    assert client.get(f"/supplier/parts/{portal.theirs.pk}/?as=ACME").status_code == 404
    refused = client.post(f"/supplier/parts/{portal.blocked.pk}/?as=ACME", {"note": "as an engineer"})
    assert refused.status_code == 403 and not SupplierUpdate.objects.exists()
    assert client.get("/supplier/parts.xlsx?as=ACME").status_code == 200


def test_a_user_who_is_neither_supplier_nor_engineer_is_refused(client, portal):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="plain"))
    response = client.get("/supplier/?as=ACME")
    assert response.status_code == 403 and "BM-100" not in response.content.decode()


def test_the_part_page_charts_its_demand_against_its_capacity_in_the_readers_language(alice_client, portal):
    """BM-100 makes 1,000 a week against 1,740 in the SOP week: short from 2027-W09, its bars drawn short."""
    page = alice_client.get(f"/supplier/parts/{portal.blocked.pk}/").content.decode()
    assert '<svg class="wc-svg"' in page and 'charts/weeks.css"' in page
    assert "Short from 2027-W09: cumulative demand exceeds cumulative capacity." in page
    assert "<title>2027-W09: capacity 1,000, demand 1,740</title>" in page
    german = alice_client.get(f"/supplier/parts/{portal.blocked.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<title>2027-W09: Kapazität 1.000, Bedarf 1.740</title>" in german  # in German, numbers as Germans write
    assert "Engpass ab 2027-W09: der kumulierte Bedarf übersteigt die kumulierte Kapazität." in german
    svg = german.split('<svg class="wc-svg"', 1)[1].split("</svg>", 1)[0]
    assert not re.search(r'(?:x|y|width|height)="\d+,\d', svg)  # but SVG coordinates stay numbers
