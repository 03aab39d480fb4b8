"""Who may call what: every endpoint and method, for each role, including cross-supplier 404s."""

import pytest

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "supplier_a", "supplier_b", "engineer", "nobody")

# (method, path, body, expected status per role in ROLES order)
ENGINEER_ONLY_READ = (401, 403, 403, 200, 403)
MATRIX = [
    ("get", "/api/programs/", None, ENGINEER_ONLY_READ),
    ("post", "/api/programs/", {"code": "EX9", "name": "EX9", "sop_date": "2027-09-01"}, (401, 403, 403, 201, 403)),
    ("get", "/api/programs/{program}/", None, ENGINEER_ONLY_READ),
    ("patch", "/api/programs/{program}/", {"name": "SU7 renamed"}, ENGINEER_ONLY_READ),
    ("delete", "/api/programs/{program}/", None, (401, 403, 403, 405, 403)),
    ("get", "/api/programs/{program}/readiness/", None, ENGINEER_ONLY_READ),
    ("get", "/api/programs/{program}/ramp-steps/", None, ENGINEER_ONLY_READ),
    (
        "post",
        "/api/programs/{program}/ramp-steps/",
        {"month": "2027-08-01", "planned_vehicles": 12000},
        (401, 403, 403, 201, 403),
    ),
    ("get", "/api/programs/{program}/ramp-steps/2027-07-01/", None, ENGINEER_ONLY_READ),
    ("delete", "/api/programs/{program}/ramp-steps/2027-07-01/", None, (401, 403, 403, 204, 403)),
    ("get", "/api/suppliers/", None, (401, 200, 200, 200, 403)),
    ("get", "/api/suppliers/{supplier_a}/", None, (401, 200, 404, 200, 403)),
    ("get", "/api/suppliers/{supplier_b}/", None, (401, 404, 200, 200, 403)),
    ("post", "/api/suppliers/", {"code": "NEWCO", "name": "NewCo"}, (401, 403, 403, 201, 403)),
    ("patch", "/api/suppliers/{supplier_a}/", {"name": "Acme GmbH"}, (401, 403, 403, 200, 403)),
    ("get", "/api/parts/", None, (401, 200, 200, 200, 403)),
    ("get", "/api/parts/{part_a}/", None, (401, 200, 404, 200, 403)),
    ("get", "/api/parts/{part_b}/", None, (401, 404, 200, 200, 403)),
    (
        "post",
        "/api/parts/",
        {"program": "SU7", "part_number": "BR-1", "name": "Bracket", "supplier": "ACME"},
        (401, 403, 403, 201, 403),
    ),
    ("patch", "/api/parts/{part_a}/", {"name": "Seat frame LH"}, (401, 403, 403, 200, 403)),
    # part_a has a supplier update, which outlives nothing: the engineer may delete, but not this part (409).
    ("delete", "/api/parts/{part_a}/", None, (401, 403, 403, 409, 403)),
    ("get", "/api/supplier-updates/", None, (401, 200, 200, 200, 403)),
    ("get", "/api/supplier-updates/{update_a}/", None, (401, 200, 404, 200, 403)),
    ("get", "/api/supplier-updates/{update_b}/", None, (401, 404, 200, 200, 403)),
    (
        "post",
        "/api/supplier-updates/",
        {"part": "{part_a}", "promised_date": "2027-02-01"},
        (401, 201, 400, 201, 403),
    ),
    ("patch", "/api/supplier-updates/{update_a}/", {"note": "x"}, (401, 405, 405, 405, 403)),
    ("get", "/api/validation-tests/", None, ENGINEER_ONLY_READ),
    ("get", "/api/validation-tests/{test}/", None, ENGINEER_ONLY_READ),
    (
        "post",
        "/api/validation-tests/",
        {"program": "SU7", "code": "T-NEW", "name": "Side crash", "phase": "pv"},
        (401, 403, 403, 201, 403),
    ),
    ("patch", "/api/validation-tests/{test}/", {"status": "passed"}, ENGINEER_ONLY_READ),
    ("get", "/api/handover-checklists/", None, ENGINEER_ONLY_READ),
    ("get", "/api/handover-checklists/{checklist}/", None, ENGINEER_ONLY_READ),
    ("post", "/api/handover-checklists/", {"program": "SU7", "area": "Paint shop"}, (401, 403, 403, 201, 403)),
    ("patch", "/api/handover-checklists/{checklist}/", {"area": "Battery pack line"}, ENGINEER_ONLY_READ),
    ("get", "/api/handover-items/", None, ENGINEER_ONLY_READ),
    ("get", "/api/handover-items/{item}/", None, ENGINEER_ONLY_READ),
    (
        "post",
        "/api/handover-items/",
        {"checklist": "{checklist}", "title": "Spare parts list"},
        (401, 403, 403, 201, 403),
    ),
    ("patch", "/api/handover-items/{item}/", {"done": True}, ENGINEER_ONLY_READ),
    ("get", "/api/handover-items/{item}/files/", None, ENGINEER_ONLY_READ),
    # Suppliers read the blockers about their own parts (the world's blocker is about part_a, supplier_a's).
    ("get", "/api/blockers/", None, (401, 200, 200, 200, 403)),
    ("get", "/api/blockers/{blocker}/", None, (401, 200, 404, 200, 403)),
    ("post", "/api/blockers/", {}, (401, 403, 403, 405, 403)),
]


def _fill(value, ids):
    if isinstance(value, str):
        return int(value.format(**ids)) if value.startswith("{") and value.endswith("}") else value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


CASES = [
    pytest.param(method, path, body, role, expected, id=f"{method.upper()} {path} as {role}")
    for method, path, body, statuses in MATRIX
    for role, expected in zip(ROLES, statuses, strict=True)
]


@pytest.mark.parametrize(("method", "path", "body", "role", "expected"), CASES)
def test_matrix(world, clients, method, path, body, role, expected):
    ids = world.ids()
    client = clients[role]
    kwargs = {"format": "json"} if body is not None else {}
    response = getattr(client, method)(path.format(**ids), _fill(body, ids) if body is not None else None, **kwargs)
    assert response.status_code == expected, response.content
    if expected == 401:
        assert response["WWW-Authenticate"].startswith("Token")


def test_another_suppliers_part_answers_exactly_like_a_missing_one(world, alice):
    foreign = alice.get(f"/api/parts/{world.part_b.pk}/")
    missing = alice.get("/api/parts/999999/")
    assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json()) == (404, missing.json())

    foreign = alice.post("/api/supplier-updates/", {"part": world.part_b.pk, "note": "x"}, format="json")
    missing = alice.post("/api/supplier-updates/", {"part": 999999, "note": "x"}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == {"part": [f"No part with id {world.part_b.pk}."]}
    assert missing.json() == {"part": ["No part with id 999999."]}

    by_number = alice.post(
        "/api/supplier-updates/", {"program": "SU7", "part_number": "SF-200", "note": "x"}, format="json"
    )
    assert by_number.status_code == 400
    assert by_number.json() == {"part_number": ["No part SF-200 in program SU7."]}


def test_supplier_sees_only_its_own_supplier_parts_and_updates(world, alice):
    assert [s["code"] for s in alice.get("/api/suppliers/").json()["results"]] == ["ACME"]
    assert [p["part_number"] for p in alice.get("/api/parts/").json()["results"]] == ["BM-100"]
    assert [u["id"] for u in alice.get("/api/supplier-updates/").json()["results"]] == [world.update_a.pk]
    # Filtering by another supplier's code finds nothing, exactly as an unknown code does.
    assert alice.get("/api/parts/?supplier=BOLT").json()["count"] == 0
    assert alice.get("/api/parts/?supplier=NOPE").json()["count"] == 0


def test_engineer_sees_everything(world, eng):
    assert eng.get("/api/suppliers/").json()["count"] == 2
    assert eng.get("/api/parts/").json()["count"] == 2
    assert eng.get("/api/supplier-updates/").json()["count"] == 2


def test_engineers_group_member_is_an_engineer(world):
    from django.contrib.auth.models import Group

    from tests.api.conftest import client_for
    from tests.factories import UserFactory, api_token

    member = UserFactory(username="sqe")
    member.groups.add(Group.objects.get_or_create(name="engineers")[0])  # made by migration sopgate 0009
    client = client_for(api_token(member))
    assert client.get("/api/blockers/").status_code == 200


def test_session_login_works_for_engineers(world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(world.program.owner)
    assert client.get("/api/programs/").status_code == 200


def test_throttled_request_carries_retry_after(world, eng, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "rate", "2/min", raising=False)
    assert eng.get("/api/programs/").status_code == 200
    assert eng.get("/api/programs/").status_code == 200
    third = eng.get("/api/programs/")
    assert third.status_code == 429
    assert 1 <= int(third["Retry-After"]) <= 61
    assert "detail" in third.json()
