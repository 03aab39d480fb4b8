"""The portal in English, Simplified Chinese and German: from the browser's Accept-Language or the switch, dates and
numbers written the language's way, the services' refusals translated; the API and the admin stay English."""

import html
import re

import pytest

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("en-US,en;q=0.9", ["Your parts", "Feb. 20, 2027", "2027-W09 1,740", "Open blockers", 'lang="en"']),
        ("zh-CN,zh;q=0.9", ["您的零件", "2027年2月20日", "2027-W09 1,740", "未解决的阻碍项", 'lang="zh-hans"']),
        ("de-DE,de;q=0.9", ["Ihre Teile", "20. Februar 2027", "2027-W09 1.740", "Offene Blocker", 'lang="de"']),
    ],
    ids=["en", "zh-hans", "de"],
)
def test_the_browsers_language_sets_texts_dates_and_numbers(alice_client, portal, accept, expected):
    response = alice_client.get("/supplier/", HTTP_ACCEPT_LANGUAGE=accept)
    page = response.content.decode() + _text(response)
    for fragment in expected:
        assert fragment in page
    assert response["Content-Language"] == expected[-1].split('"')[1]


def test_an_unknown_language_falls_back_to_english(alice_client, portal):
    assert "Your parts" in _text(alice_client.get("/supplier/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9"))


def test_the_switch_keeps_the_chosen_language_over_the_browsers(alice_client, portal):
    switched = alice_client.post("/supplier/language/", {"language": "de", "next": "/supplier/?x=1"})
    assert switched.status_code == 302 and switched["Location"] == "/supplier/?x=1"
    page = alice_client.get("/supplier/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "Ihre Teile" in _text(page)
    alice_client.post("/supplier/language/", {"language": "zh-hans", "next": "/supplier/"})
    assert "您的零件" in _text(alice_client.get("/supplier/"))


def test_a_services_refusal_is_shown_in_the_portals_language(alice_client, portal):
    response = alice_client.post(
        f"/supplier/parts/{portal.blocked.pk}/", {"promised_date": "2027-01-03"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert "Ein zugesagter Termin kann nicht vor heute (2027-01-04) liegen." in _text(response)
    response = alice_client.post(
        f"/supplier/parts/{portal.healthy.pk}/", {"ppap_status": "submitted"}, HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    assert "该 PPAP 状态为“已批准”：只有客户可以更改其状态。" in _text(response)


def test_the_spreadsheet_speaks_the_language_too(alice_client, portal):
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(alice_client.get("/supplier/parts.xlsx", HTTP_ACCEPT_LANGUAGE="zh-CN").content))
    assert book.sheetnames == ["零件", "说明"]
    assert [cell.value for cell in book.worksheets[0][1]][:3] == ["零件 ID", "项目", "零件号"]


def test_the_api_and_the_admin_stay_english_whatever_the_browser(client, portal):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(portal.alice)
    refused = api.post(
        "/api/supplier-updates/",
        {"part": portal.blocked.pk, "promised_date": "2027-01-03"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert refused.json() == {"promised_date": ["A promised date cannot be before today (2027-01-04)."]}
    login = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="de")
    assert "Log in" in _text(login) and "Anmelden" not in _text(login)


@pytest.mark.parametrize(
    "accept, expected",
    [
        (
            "zh-CN",
            [
                "产能计划",
                "今天生效",
                "删除自 2027年2月1日 起的行",
                "节拍生产验证",
                "于 2026年12月15日 验证：每周 1,100。",
                "至 2027-W30",
            ],
        ),
        (
            "de-DE",
            ["Kapazitätsplan", "Heute gültig", "Zeile ab 1. Februar 2027 löschen", "Run-at-Rate melden", "Woche"],
        ),
    ],
    ids=["zh-hans", "de"],
)
def test_the_capacity_plan_and_run_at_rate_speak_the_language(alice_client, portal, accept, expected):
    from datetime import date

    from parts.models import Part
    from tests.factories import CapacityLineFactory

    CapacityLineFactory(part=portal.blocked, effective_from=date(2027, 1, 4), capacity_per_week=1000)
    CapacityLineFactory(part=portal.blocked, effective_from=date(2027, 2, 1), capacity_per_week=3000)
    Part.objects.filter(pk=portal.blocked.pk).update(run_at_rate_on=date(2026, 12, 15), run_at_rate_per_week=1100)
    page = _text(alice_client.get(f"/supplier/parts/{portal.blocked.pk}/", HTTP_ACCEPT_LANGUAGE=accept))
    list_page = _text(alice_client.get("/supplier/", HTTP_ACCEPT_LANGUAGE=accept))
    for fragment in expected:
        assert fragment in page + list_page
    refused = alice_client.post(
        f"/supplier/parts/{portal.blocked.pk}/run-at-rate/",
        {"rate-run_at_rate_on": "2026-12-15", "rate-run_at_rate_per_week": "1100"},
        HTTP_ACCEPT_LANGUAGE=accept,
    )
    assert ("没有更改" if accept == "zh-CN" else "Nichts geändert") in _text(refused)
