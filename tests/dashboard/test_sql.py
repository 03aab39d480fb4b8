"""The program page's reads in one round trip: `sql.fetch_many`, `sql.Prefetched` and the page that uses them."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sopgate.dashboard import sql, views
from sopgate.rules import sql as rules_sql
from sopgate.rules.sql import one_round_trip
from tests.dashboard.conftest import build_program
from tests.factories import PartFactory, ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(at_today):
    return build_program("RT1", 12, at_today, warnings=4)


def test_fetch_many_returns_each_statements_own_rows_in_one_query_where_it_can(
    program, at_today, django_assert_num_queries
):
    params = views.page_reads_params(program, today=at_today)
    one_by_one = {kind: sql.fetch(kind, params) for kind in views.PAGE_STATEMENTS}
    assert all(one_by_one[kind] for kind in views.PAGE_STATEMENTS)  # every statement has rows to tell apart
    with django_assert_num_queries(1 if one_round_trip() else len(views.PAGE_STATEMENTS)):
        together = sql.fetch_many(views.PAGE_STATEMENTS, params)
    assert together == one_by_one


def test_prefetched_answers_from_its_rows_only_when_the_parameters_agree(program, at_today, django_assert_num_queries):
    params = views.page_reads_params(program, today=at_today)
    suppliers, tests = sql.fetch("suppliers", params), sql.fetch("tests", params)
    fetch = sql.Prefetched(views.PAGE_STATEMENTS, params)
    with django_assert_num_queries(0):
        assert fetch("suppliers", sql.page_params(program, at_today)) == suppliers
        assert fetch("tests", {"program": program.pk}) == tests
    # Another day (a request across midnight) or another program: the statement runs with what was asked.
    later = sql.page_params(program, at_today + timedelta(days=400))
    other = build_program("RT2", 3, at_today)
    expected = [sql.fetch("suppliers", later), sql.fetch("tests", {"program": other.pk}), sql.fetch("handover", params)]
    assert expected[0] != suppliers and expected[1] != tests
    with django_assert_num_queries(1):
        assert fetch("suppliers", later) == expected[0]
    with django_assert_num_queries(1):
        assert fetch("tests", {"program": other.pk}) == expected[1]
    # A statement it did not read runs too.
    fetch = sql.Prefetched(["tests"], params)
    with django_assert_num_queries(1):
        assert fetch("handover", params) == expected[2]


def _comparable(html: str) -> str:
    """The page without what differs from one request to the next: the CSRF token and the charts' ids."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r"sgc\d+", "sgc", html)


def test_the_page_shows_the_same_with_its_reads_in_one_round_trip_or_one_by_one(engineer_client, program, monkeypatch):
    together = engineer_client.get(f"/programs/{program.code}/")
    monkeypatch.setattr(views, "page_reads", lambda program, today: sql.fetch)
    one_by_one = engineer_client.get(f"/programs/{program.code}/")
    assert together.status_code == one_by_one.status_code == 200
    assert 'class="sg-blocker-link"' in together.content.decode()
    assert _comparable(together.content.decode()) == _comparable(one_by_one.content.decode())


def test_fetch_many_reads_one_by_one_where_a_query_takes_one_statement(program, at_today, monkeypatch):
    # As on PostgreSQL with server-side binding (a prepared statement holds one statement), and on SQLite.
    params = views.page_reads_params(program, today=at_today)
    together = sql.fetch_many(views.PAGE_STATEMENTS, params)
    monkeypatch.setattr(rules_sql, "one_round_trip", lambda: False)
    with CaptureQueriesContext(connection) as queries:
        assert sql.fetch_many(views.PAGE_STATEMENTS, params) == together
    assert len(queries) == len(views.PAGE_STATEMENTS)


def test_statements_without_rows_keep_their_place_in_the_batch(at_today, django_assert_num_queries):
    program = ProgramFactory(code="EMPTY")  # no ramp plan, no snapshots, no checklists, no tests
    PartFactory(program=program)
    params = views.page_reads_params(program, today=at_today)
    one_by_one = {kind: sql.fetch(kind, params) for kind in views.PAGE_STATEMENTS}
    assert one_by_one["ramp"] == one_by_one["trend"] == one_by_one["handover"] == [] != one_by_one["ppap"]
    with django_assert_num_queries(1 if one_round_trip() else len(views.PAGE_STATEMENTS)):
        assert sql.fetch_many(views.PAGE_STATEMENTS, params) == one_by_one


@pytest.mark.skipif(not one_round_trip(), reason="one query holds one statement here")
def test_a_batch_whose_result_sets_do_not_match_its_statements_fails():
    # A ";" inside one of the statements would shift every result set after it onto the wrong statement.
    with pytest.raises(RuntimeError, match="2 statements returned 3 result sets"):
        rules_sql.results_of(["SELECT 1; SELECT 2", "SELECT 3"], {})
