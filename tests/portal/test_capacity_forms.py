"""The part page's capacity plan and run at rate: lines added (one for a day that has a line replaces it) and future
lines deleted through `parts.capacity`, the run at rate stored as a supplier update, as the API does; each refusal
named next to its field, nothing stored then, never a 500; another supplier's part is a 404."""

import re
from datetime import date

import pytest
from django.test import Client

from parts.models import CapacityLine, Part, SupplierUpdate
from tests.factories import TODAY, CapacityLineFactory

pytestmark = pytest.mark.django_db

FEB_1 = date(2027, 2, 1)


def _field_errors(response, name: str) -> list[str]:
    page = response.content.decode()
    group = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", group.group(1), re.S) if group else []


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _add_line(client, part, effective_from, capacity):
    data = {"plan-effective_from": effective_from, "plan-capacity_per_week": capacity}
    return client.post(f"/supplier/parts/{part.pk}/capacity/", data)


def _run_at_rate(client, part, on, per_week):
    data = {"rate-run_at_rate_on": on, "rate-run_at_rate_per_week": per_week}
    return client.post(f"/supplier/parts/{part.pk}/run-at-rate/", data)


def _lines(part) -> list[tuple[date, int]]:
    return list(CapacityLine.objects.filter(part=part).values_list("effective_from", "capacity_per_week"))


def test_the_part_page_shows_the_plan_past_in_force_and_future_and_the_run_at_rate(alice_client, portal):
    blocked = portal.blocked
    CapacityLineFactory(part=blocked, effective_from=date(2026, 11, 2), capacity_per_week=600)
    CapacityLineFactory(part=blocked, effective_from=date(2026, 12, 7), capacity_per_week=1000)
    future = CapacityLineFactory(part=blocked, effective_from=FEB_1, capacity_per_week=4000)
    Part.objects.filter(pk=blocked.pk).update(run_at_rate_on=date(2026, 12, 15), run_at_rate_per_week=1100)
    response = alice_client.get(f"/supplier/parts/{blocked.pk}/")
    page, text = response.content.decode(), _text(response)
    assert "Capacity plan" in text and "Run at rate" in text
    rows = re.findall(r'<tr class="pt-line-(\w+)">', page)
    assert rows == ["past", "in_force", "future"]
    assert "Nov. 2, 2026 600" in text and "Dec. 7, 2026 1,000" in text and "Feb. 1, 2027 4,000" in text
    assert "In force today" in text
    # Only the future line can be deleted.
    assert re.findall(r"/capacity/(\d+)/delete/", page) == [str(future.pk)]
    assert "Demonstrated on Dec. 15, 2026: 1,100 per week." in text
    assert "Peak weekly demand over the ramp: 9,091." in text
    # The forms, and the lead's ramp section comes before the new sections.
    assert 'name="plan-effective_from"' in page and 'name="rate-run_at_rate_on"' in page
    assert page.index('id="ramp-h"') < page.index('id="capacity-h"') < page.index('id="rate-h"')


def test_a_part_without_a_plan_says_its_figure_counts_for_every_week(alice_client, portal):
    text = _text(alice_client.get(f"/supplier/parts/{portal.blocked.pk}/"))
    assert "No capacity plan yet: your capacity of 1,000 per week counts for every week." in text
    assert "Not demonstrated yet." in text


def test_a_line_is_added_and_one_for_the_same_day_replaces_it(alice_client, portal):
    blocked = portal.blocked
    response = _add_line(alice_client, blocked, "2027-01-04", "1500")
    assert response.status_code == 302
    assert response["Location"] == f"/supplier/parts/{blocked.pk}/#capacity"
    line = CapacityLine.objects.get(part=blocked)
    assert (line.effective_from, line.capacity_per_week, line.reported_by_username) == (TODAY, 1500, "alice")
    assert Part.objects.get(pk=blocked.pk).capacity_per_week == 1500  # the line in force today
    assert "Capacity of BM-100 from Jan. 4, 2027 is stored." in _text(alice_client.get(response["Location"]))

    assert _add_line(alice_client, blocked, "2027-02-01", "3000").status_code == 302
    assert _add_line(alice_client, blocked, "2027-02-01", "3500").status_code == 302  # the same day: replaced
    assert _lines(blocked) == [(TODAY, 1500), (FEB_1, 3500)]
    assert Part.objects.get(pk=blocked.pk).capacity_per_week == 1500  # February's line is not in force yet


@pytest.mark.parametrize(
    "effective_from, capacity, field, message",
    [
        ("", "1000", "plan-effective_from", "This field is required."),
        ("2027-02-30", "1000", "plan-effective_from", "Enter a valid date."),
        ("3000-01-01", "1000", "plan-effective_from", "Enter a date on or before 2999-12-31."),
        ("2027-02-01", "", "plan-capacity_per_week", "This field is required."),
        ("2027-02-01", "-1", "plan-capacity_per_week", "Ensure this value is greater than or equal to 0."),
        ("2027-02-01", "lots", "plan-capacity_per_week", "Enter a whole number."),
        (
            "2027-02-01",
            "99999999999",
            "plan-capacity_per_week",
            "Ensure this value is less than or equal to 2147483647.",
        ),
    ],
    ids=["no-day", "no-such-day", "year-3000", "no-capacity", "negative", "text", "too-large"],
)
def test_a_malformed_line_is_refused_next_to_its_field(alice_client, portal, effective_from, capacity, field, message):
    response = _add_line(alice_client, portal.blocked, effective_from, capacity)
    assert response.status_code == 200
    assert _field_errors(response, field) == [message]
    assert not CapacityLine.objects.exists()
    assert Part.objects.get(pk=portal.blocked.pk).capacity_per_week == 1000


def test_a_future_line_is_deleted_and_one_in_force_stays_with_the_reason(alice_client, portal):
    blocked = portal.blocked
    in_force = CapacityLineFactory(part=blocked, effective_from=TODAY, capacity_per_week=1000)
    future = CapacityLineFactory(part=blocked, effective_from=FEB_1, capacity_per_week=3000)
    response = alice_client.post(f"/supplier/parts/{blocked.pk}/capacity/{future.pk}/delete/")
    assert response.status_code == 302 and response["Location"].endswith("#capacity")
    assert _lines(blocked) == [(TODAY, 1000)]
    assert "The line from Feb. 1, 2027 is deleted" in _text(alice_client.get(response["Location"]))

    refused = alice_client.post(f"/supplier/parts/{blocked.pk}/capacity/{in_force.pk}/delete/", follow=True)
    assert refused.status_code == 200
    assert "The line from 2027-01-04 is in force or past and stays in the plan" in _text(refused)
    assert _lines(blocked) == [(TODAY, 1000)]
    assert alice_client.get(f"/supplier/parts/{blocked.pk}/capacity/{in_force.pk}/delete/").status_code == 405


def test_the_run_at_rate_is_stored_as_a_supplier_update(alice_client, portal):
    blocked = portal.blocked
    response = _run_at_rate(alice_client, blocked, "2027-01-02", "1200")
    assert response.status_code == 302 and response["Location"].endswith("#run-at-rate")
    part = Part.objects.get(pk=blocked.pk)
    assert (part.run_at_rate_on, part.run_at_rate_per_week) == (date(2027, 1, 2), 1200)
    update = SupplierUpdate.objects.get()
    assert (update.run_at_rate_on, update.run_at_rate_per_week, update.reported_by_username) == (
        date(2027, 1, 2),
        1200,
        "alice",
    )
    page = _text(alice_client.get(response["Location"]))
    assert "The run at rate of BM-100 is stored." in page and "Demonstrated on Jan. 2, 2027: 1,200 per week." in page
    assert "Jan. 2, 2027 &middot; 1,200 per week" in page  # the report in the part's history of updates
    # The same again is no report; a new rate alone is one.
    same = _run_at_rate(alice_client, blocked, "2027-01-02", "1200")
    assert "Nothing changed: this run at rate is the one already reported." in same.content.decode()
    assert _run_at_rate(alice_client, blocked, "2027-01-02", "1300").status_code == 302
    assert SupplierUpdate.objects.latest("pk").run_at_rate_on is None  # only what changed is reported
    assert Part.objects.get(pk=blocked.pk).run_at_rate_per_week == 1300


@pytest.mark.parametrize(
    "on, per_week, field, message",
    [
        ("", "1200", "rate-run_at_rate_on", "This field is required."),
        ("yesterday", "1200", "rate-run_at_rate_on", "Enter a valid date."),
        ("2027-01-02", "", "rate-run_at_rate_per_week", "This field is required."),
        ("2027-01-02", "-3", "rate-run_at_rate_per_week", "Ensure this value is greater than or equal to 0."),
    ],
    ids=["no-day", "not-a-date", "no-rate", "negative"],
)
def test_a_malformed_run_at_rate_is_refused_next_to_its_field(alice_client, portal, on, per_week, field, message):
    response = _run_at_rate(alice_client, portal.blocked, on, per_week)
    assert response.status_code == 200
    assert _field_errors(response, field) == [message]
    assert not SupplierUpdate.objects.exists()
    assert Part.objects.get(pk=portal.blocked.pk).run_at_rate_on is None


def test_the_daily_limit_refuses_a_run_at_rate_above_its_form(alice_client, portal, settings):
    settings.SUPPLIER_DAILY_UPDATE_LIMIT = 0
    response = _run_at_rate(alice_client, portal.blocked, "2027-01-02", "1200")
    assert response.status_code == 200 and "A supplier may store at most 0 updates a day" in _text(response)
    assert Part.objects.get(pk=portal.blocked.pk).run_at_rate_on is None


def test_another_suppliers_part_and_its_lines_are_404(alice_client, portal):
    theirs = portal.theirs
    their_line = CapacityLineFactory(part=theirs, effective_from=FEB_1, capacity_per_week=50)
    assert _add_line(alice_client, theirs, "2027-02-01", "9").status_code == 404
    assert _run_at_rate(alice_client, theirs, "2027-01-02", "9").status_code == 404
    assert alice_client.post(f"/supplier/parts/{theirs.pk}/capacity/{their_line.pk}/delete/").status_code == 404
    # Their line under one of alice's own parts is not hers either.
    assert alice_client.post(f"/supplier/parts/{portal.blocked.pk}/capacity/{their_line.pk}/delete/").status_code == 404
    assert _lines(theirs) == [(FEB_1, 50)] and not SupplierUpdate.objects.exists()
    assert Part.objects.get(pk=theirs.pk).run_at_rate_on is None


def test_an_engineer_looking_as_the_supplier_sees_the_plan_without_forms_and_cannot_post(client, portal):
    CapacityLineFactory(part=portal.blocked, effective_from=FEB_1, capacity_per_week=3000)
    client.force_login(portal.engineer)
    page = client.get(f"/supplier/parts/{portal.blocked.pk}/?as=ACME")
    content = page.content.decode()
    assert "Feb. 1, 2027" in content and "Planned" in content
    assert 'name="plan-effective_from"' not in content and "/delete/" not in content
    assert 'name="rate-run_at_rate_on"' not in content
    refused = client.post(f"/supplier/parts/{portal.blocked.pk}/capacity/?as=ACME", {"plan-capacity_per_week": "1"})
    assert refused.status_code == 403 and _lines(portal.blocked) == [(FEB_1, 3000)]


def test_the_forms_need_the_csrf_token_as_the_rest_of_the_portal(portal):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(portal.alice)
    page = strict.get(f"/supplier/parts/{portal.blocked.pk}/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    data = {"plan-effective_from": "2027-02-01", "plan-capacity_per_week": "3000"}
    assert strict.post(f"/supplier/parts/{portal.blocked.pk}/capacity/", data).status_code == 403
    assert not CapacityLine.objects.exists()
    posted = strict.post(f"/supplier/parts/{portal.blocked.pk}/capacity/", {**data, "csrfmiddlewaretoken": token})
    # BM-100 made 1,000 a week with no plan: that stays in force until the first line (`capacity_lines_apply`).
    assert posted.status_code == 302 and _lines(portal.blocked) == [(TODAY, 1000), (FEB_1, 3000)]


def test_the_part_page_costs_the_same_queries_with_one_line_as_with_ten(
    alice_client, portal, django_assert_max_num_queries
):
    url = f"/supplier/parts/{portal.blocked.pk}/"
    CapacityLineFactory(part=portal.blocked, effective_from=FEB_1, capacity_per_week=3000)
    alice_client.get(url)
    with django_assert_max_num_queries(40) as few:
        alice_client.get(url)
    for month in range(3, 12):
        CapacityLineFactory(part=portal.blocked, effective_from=date(2027, month, 1), capacity_per_week=3000 + month)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Nov. 1, 2027" in _text(alice_client.get(url))
