"""Malformed input gets a 4xx naming the field and the reason, changes nothing, and never a 5xx."""

import pytest

from parts.api.serializers import SupplierUpdateWriteSerializer
from parts.models import SUPPLIER_UPDATE_NOTE_MAX_LENGTH, Part, SupplierUpdate

pytestmark = pytest.mark.django_db


def _snapshot():
    return (Part.objects.count(), SupplierUpdate.objects.count(), list(Part.objects.values().order_by("pk")))


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/parts/", {"program": "SU7", "part_number": "X", "name": "X", "need_date": "2027-02-30"}, "need_date"),
        ("/api/parts/", {"program": "NOPE", "part_number": "X", "name": "X"}, "program"),
        ("/api/parts/", {"program": "SU7", "part_number": "X", "name": "X", "supplier": "NOPE"}, "supplier"),
        ("/api/parts/", {"program": "SU7", "part_number": "X", "name": "X", "owner": "ghost"}, "owner"),
        ("/api/parts/", {"program": "SU7", "part_number": "X", "name": "X", "owner": "alice"}, "owner"),
        ("/api/programs/", {"code": "NEW", "name": "N", "sop_date": "2027-06-01", "owner": "bob"}, "owner"),
        (
            "/api/validation-tests/",
            {"program": "SU7", "code": "T", "name": "T", "phase": "pv", "owner": "alice"},
            "owner",
        ),
        (
            "/api/parts/",
            {"program": "SU7", "part_number": "X", "name": "X", "qty_per_vehicle": 2**31},
            "qty_per_vehicle",
        ),
        ("/api/parts/", {"program": "SU7", "part_number": "X", "name": "X", "ppap_level": 6}, "ppap_level"),
        (
            "/api/parts/",
            {"program": "SU7", "part_number": "X", "name": "X", "capacity_per_week": -1},
            "capacity_per_week",
        ),
        ("/api/parts/", {"program": "SU7", "part_number": "X", "name": "X", "ppap_status": "great"}, "ppap_status"),
        ("/api/parts/", {"program": "SU7", "part_number": "X", "name": "X", "need_date": "0001-01-01"}, "need_date"),
        (
            "/api/parts/",
            {"program": "SU7", "part_number": "X", "name": "X", "qty_per_vehicle": 10_001},
            "qty_per_vehicle",
        ),
        ("/api/programs/SU7/ramp-steps/", {"month": "2999-12-01", "planned_vehicles": 2**31 - 1}, "planned_vehicles"),
        ("/api/programs/SU7/ramp-steps/", {"month": "2027-08-15", "planned_vehicles": 100}, "month"),
        ("/api/parts/", {"program": ["SU7"], "part_number": "X", "name": "X"}, "program"),
        ("/api/parts/", {"program": "SU7", "part_number": {"a": 1}, "name": "X"}, "part_number"),
        ("/api/parts/", {"program": "SU7", "part_number": "X\x00", "name": "X"}, "part_number"),
        (
            "/api/programs/",
            {"code": "NEW", "name": "N", "sop_date": "2027-06-01", "part_lead_days": 40000},
            "part_lead_days",
        ),
        ("/api/programs/", {"code": "bad code!", "name": "N", "sop_date": "2027-06-01"}, "code"),
        ("/api/supplier-updates/", {"part": "abc", "note": "x"}, "part"),
        ("/api/supplier-updates/", {"part": 2**70, "note": "x"}, "part"),
        ("/api/supplier-updates/", {"program": "SU7\x00", "part_number": "BM-100", "note": "x"}, "program"),
        ("/api/supplier-updates/", {"program": "SU7", "note": "x"}, "part_number"),
        ("/api/supplier-updates/", {"program": "SU7", "part_number": "BM-100"}, "non_field_errors"),
        ("/api/validation-tests/", {"program": "SU7", "code": "T", "name": "T", "phase": "xx"}, "phase"),
        ("/api/validation-tests/", {"program": "SU7", "code": "T", "name": "T", "phase": "pv", "part": 2**40}, "part"),
        ("/api/handover-items/", {"checklist": "first", "title": "T"}, "checklist"),
    ],
)
def test_bad_values_name_the_field_and_change_nothing(world, eng, path, body, field):
    before = _snapshot()
    response = eng.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert _snapshot() == before


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2", b'"just a string"', b"42", b"null", b'[1, "x"]', b"\xff\xfe"],
)
def test_malformed_bodies_are_4xx(world, eng, raw):
    before = _snapshot()
    for path in ("/api/parts/", "/api/supplier-updates/", "/api/handover-items/"):
        response = eng.generic("POST", path, raw, content_type="application/json")
        assert 400 <= response.status_code < 500, (path, raw, response.content)
        assert response.json()
    assert _snapshot() == before


def test_form_encoded_body_is_refused(world, eng):
    response = eng.post("/api/parts/", {"program": "SU7"}, format="multipart")
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("page=-1", 404, "page"),
        ("page=abc", 404, "page"),
        ("page=999", 404, "page"),
        ("page=%C2%B2", 404, "page"),  # "²": a digit to str.isdigit, not to int()
        ("page=%E2%91%A0", 404, "page"),  # "①"
        ("page_size=0", 400, "page_size"),
        ("page_size=100000", 400, "page_size"),
        ("page_size=abc", 400, "page_size"),
        ("late=maybe", 400, "late"),
        ("has_blocker=2", 400, "has_blocker"),
        ("need_date_before=2027-02-30", 400, "need_date_before"),
        ("need_date_before=02/01/2027", 400, "need_date_before"),  # 1 February or 2 January?
        ("need_date_after=2027-2-1", 400, "need_date_after"),
        ("ordering=need_date,", 200, None),
        ("ppap_status=great", 400, "ppap_status"),
        ("search=%00", 400, "search"),
        ("program=%00", 400, "program"),
        ("late=", 200, None),
        ("ordering=nonsense", 400, "ordering"),
        ("ordering=-password", 400, "ordering"),
        ("ordering=-need_date,part_number", 200, None),
    ],
)
def test_bad_list_parameters(world, eng, query, status, field):
    response = eng.get(f"/api/parts/?{query}")
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()


@pytest.mark.parametrize(
    "path",
    [
        "/api/parts/abc/",
        "/api/parts/99999999999999999999999/",
        "/api/parts/%00/",
        "/api/programs/%00/",
        "/api/programs/NOPE/readiness/",
        "/api/suppliers/NOPE/",
        "/api/supplier-updates/-1/",
        "/api/validation-tests/?part=abc",
        "/api/handover-items/?checklist=99999999999999999999999",
        "/api/blockers/?open=perhaps",
    ],
)
def test_bad_paths_and_filters_are_4xx(world, eng, path):
    assert 400 <= eng.get(path).status_code < 500


def test_json_nested_too_deep_is_a_parse_error(world, eng):
    # About a thousand levels in a 2 KB body is where Python's JSON parser gives up (RecursionError).
    deep = "[" * 5000 + "]" * 5000
    before = _snapshot()
    for path in ("/api/parts/", "/api/supplier-updates/", "/api/programs/", f"/api/parts/{world.part_a.pk}/"):
        method = "PATCH" if path.endswith(f"{world.part_a.pk}/") else "POST"
        body = f'{{"part": {world.part_a.pk}, "note": {deep}}}'.encode()
        response = eng.generic(method, path, body, content_type="application/json")
        assert response.status_code == 400, (path, response.content[:200])
        assert "nested too deeply" in response.json()["detail"]
    assert _snapshot() == before


def test_format_suffix_of_the_readiness_action(world, eng):
    response = eng.get("/api/programs/SU7/readiness.json")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["program"] == "SU7"


def test_unknown_api_path_is_json(world, eng):
    for path in ("/api/nothing/", "/api/parts/1/nothing/"):
        response = eng.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert path in response.json()["detail"]


def test_unknown_page_path_stays_html(world, client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_body_over_the_size_limit_is_a_json_413(world, eng, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2**20
    before = _snapshot()
    body = [{"part": world.part_a.pk, "note": "x" * 9000}] * 200  # 1.8 MB
    response = eng.post("/api/supplier-updates/", body, format="json")
    assert response.status_code == 413, response.content[:300]
    assert "over 1 MB" in response.json()["non_field_errors"][0]
    assert _snapshot() == before


def test_a_full_batch_with_long_notes_fits_the_size_limit(world, eng):
    longest = "x" * SUPPLIER_UPDATE_NOTE_MAX_LENGTH
    body = [{"part": world.part_a.pk, "note": longest}] * 1000  # 2 MB: the largest batch API.md allows
    response = eng.post("/api/supplier-updates/", body, format="json")
    assert response.status_code == 201, response.content[:300]
    assert SupplierUpdate.objects.filter(part=world.part_a, note=longest).count() == 1000


def test_a_supplier_login_is_named_as_such_when_given_as_owner(world, eng):
    response = eng.patch(f"/api/parts/{world.part_b.pk}/", {"owner": "bob"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "owner": ["bob is a supplier's login; owners and responsible people are the customer's own."]
    }


def test_a_part_with_validation_tests_keeps_its_program(world, eng):
    from tests.factories import ProgramFactory

    ProgramFactory(code="SU8")
    before = _snapshot()
    response = eng.patch(f"/api/parts/{world.part_a.pk}/", {"program": "SU8"}, format="json")
    assert response.status_code == 400
    assert "1 validation test in its program" in response.json()["program"][0]
    assert _snapshot() == before
    # Without tests, it moves.
    response = eng.patch(f"/api/parts/{world.part_b.pk}/", {"program": "SU8"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["program"] == "SU8"


@pytest.mark.parametrize("date_text", ["20270201", "2027-W05-2", "2027-2-1", "２０２７-02-01"])
def test_dates_are_written_yyyy_mm_dd(world, eng, alice, date_text):
    before = _snapshot()
    for client, path, body in (
        (alice, "/api/supplier-updates/", {"part": world.part_a.pk, "promised_date": date_text}),
        (eng, f"/api/parts/{world.part_a.pk}/", {"promised_date": date_text}),
    ):
        send = client.patch if path.startswith("/api/parts/") else client.post
        response = send(path, body, format="json")
        assert response.status_code == 400, response.content
        assert response.json() == {
            "promised_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]
        }
    assert _snapshot() == before


def test_an_unknown_field_is_named_not_dropped(world, eng, alice):
    before = _snapshot()
    response = alice.post(
        "/api/supplier-updates/", {"part": world.part_a.pk, "note": "n", "promissed_date": "2027-03-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"promissed_date": ["Unknown field; did you mean promised_date?"]}
    response = eng.patch(f"/api/parts/{world.part_a.pk}/", {"colour": "red"}, format="json")
    assert response.json() == {"colour": ["Unknown field."]}
    assert _snapshot() == before
    # What a client read may go back as it was: read-only fields are known.
    part = eng.get(f"/api/parts/{world.part_a.pk}/").json()
    assert eng.patch(f"/api/parts/{world.part_a.pk}/", part, format="json").status_code == 200


def test_a_part_with_supplier_updates_is_not_deleted(world, eng):
    before = _snapshot()
    response = eng.delete(f"/api/parts/{world.part_a.pk}/")
    assert response.status_code == 409
    assert response.json() == {
        "non_field_errors": ["Cannot delete this: 1 supplier update refers to it, and it is kept."]
    }
    assert _snapshot() == before


def test_program_filter_dates_are_yyyy_mm_dd(world, eng):
    response = eng.get("/api/programs/?sop_date__gte=02/01/2027")
    assert response.status_code == 400
    assert response.json() == {"sop_date__gte": ["Enter a date as YYYY-MM-DD."]}
    assert eng.get("/api/programs/?sop_date__gte=2027-02-01").status_code == 200


# The shapes of a supplier update: what the serializer takes, and what it refuses before any part is read (the
# refusals that depend on the part and on who reports, such as a supplier's PPAP decisions, are the service's:
# tests/api/test_supplier_updates.py).
GOOD_UPDATES = [
    {"part": 1, "promised_date": "2027-02-01", "note": "bench"},
    {"part": 9, "ppap_status": "submitted", "tooling_stage": "soft_tool", "capacity_per_week": 0},
    {"program": "P1", "part_number": "  X-1 ", "revision": "B", "note": "  "},
    {"program": "P1", "part_number": "X-1", "note": "Grüße, ünïcode"},
    {"part": 2**63 - 1, "promised_date": "2999-12-31"},
    {"part": "7", "note": "x"},  # DRF's IntegerField takes numbers in strings and integral floats
    {"part": 1.0, "note": "x"},
]
BAD_UPDATES = [
    {"part": 0, "note": "x"},
    {"part": True, "note": "x"},
    {"part": 1, "promised_date": "2027-02-30"},
    {"part": 1, "promised_date": "1899-12-31"},
    {"part": 1, "promised_date": "3000-01-01"},
    {"part": 1, "promised_date": None},
    {"part": 1, "promised_date": "2027-02-01T00:00:00"},
    {"part": 3, "promised_date": "20270201"},  # ISO basic format: API.md's dates are YYYY-MM-DD
    {"part": 3, "promised_date": "2027-W05-2"},  # an ISO week date
    {"part": 3, "promised_date": "2027-2-1"},
    {"part": 1, "promised_date": "2027-02-01", "promissed_date": "2027-03-01"},  # an unknown field: a typo
    {"part": 1, "ppap_status": "SUBMITTED"},
    {"part": 1, "tooling_stage": ""},
    {"part": 1, "note": "a\x00b"},
    {"part": 1, "note": "\ud800"},
    {"part": 1, "note": "x" * 10001},
    {"part": 1, "capacity_per_week": -1},
    {"part": 1, "capacity_per_week": 2147483648},
    {"part": 1},
    {"part": 1, "program": "P1", "note": "x"},
    {"program": "P1", "note": "x"},
    {"program": "", "part_number": "X", "note": "x"},
    {"program": "P" * 33, "part_number": "X", "note": "x"},
    [],
    "x",
    None,
]


@pytest.mark.parametrize("data", GOOD_UPDATES)
def test_a_well_formed_supplier_update_is_taken(data):
    assert SupplierUpdateWriteSerializer(data=data).is_valid()


@pytest.mark.parametrize("data", BAD_UPDATES)
def test_a_malformed_supplier_update_is_refused_naming_why(data):
    serializer = SupplierUpdateWriteSerializer(data=data)
    assert not serializer.is_valid()
    assert serializer.errors and all(isinstance(reasons, list) and reasons for reasons in serializer.errors.values())
