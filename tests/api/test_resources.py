"""What each resource does beyond access: fields, filters, computed columns, sign-off and done, ramp plan."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from parts.models import Part
from sopgate.models import RampStep
from tests.api.conftest import client_for
from tests.factories import ChecklistFactory, ItemFactory, PartFactory, api_token, launch_manager
from validation.models import HandoverItem

pytestmark = pytest.mark.django_db

PART_FIELDS = [
    "id",
    "program",
    "part_number",
    "revision",
    "name",
    "supplier",
    "owner",
    "criticality",
    "qty_per_vehicle",
    "need_date",
    "effective_need_date",
    "promised_date",
    "received_on",
    "ppap_status",
    "ppap_level",
    "ppap_due_date",
    "effective_ppap_due_date",
    "interim_expires_on",
    "tooling_stage",
    "capacity_per_week",
    "run_at_rate_on",
    "run_at_rate_per_week",
    "last_supplier_update_at",
    "late",
    "open_blockers",
]


def test_part_fields_and_computed_columns(world, eng):
    late = PartFactory(
        program=world.program,
        part_number="LATE-1",
        supplier=world.supplier_b,
        promised_date=world.program.sop_date + timedelta(days=5),
    )
    body = eng.get(f"/api/parts/{world.part_a.pk}/").json()
    assert list(body) == PART_FIELDS
    assert (body["program"], body["supplier"], body["owner"]) == ("SU7", "ACME", "eng")
    assert (body["late"], body["open_blockers"]) == (False, 1)
    late_body = eng.get(f"/api/parts/{late.pk}/").json()
    assert (late_body["late"], late_body["open_blockers"]) == (True, 0)


def test_a_part_shows_the_dates_the_gate_uses(world, alice):
    """A supplier sees by when its part is needed and its PPAP due, also where no date is set on the part."""
    program = world.program  # part_lead_days 14, ppap_lead_days 28 by default
    bare = PartFactory(program=program, part_number="BARE-1", supplier=world.supplier_a, need_date=None)
    body = alice.get(f"/api/parts/{bare.pk}/").json()
    need = program.sop_date - timedelta(days=program.part_lead_days)
    assert (body["need_date"], body["ppap_due_date"]) == (None, None)
    assert body["effective_need_date"] == need.isoformat()
    assert body["effective_ppap_due_date"] == (need - timedelta(days=program.ppap_lead_days)).isoformat()
    dated = PartFactory(
        program=program, part_number="DATED-1", supplier=world.supplier_a, need_date=need, ppap_due_date=need
    )
    body = alice.get(f"/api/parts/{dated.pk}/").json()
    assert (body["effective_need_date"], body["effective_ppap_due_date"]) == (need.isoformat(), need.isoformat())


def test_a_part_without_supplier_or_owner_shows_them_as_null(world, eng):
    PartFactory(program=world.program, part_number="NOBODY-1", supplier=None, owner=None, promised_date=None)
    for body in (
        eng.get("/api/parts/", {"search": "NOBODY-1"}).json()["results"][0],
        eng.get("/api/parts/", {"search": "BM-100"}).json()["results"][0],
    ):
        expected = (None, None) if body["part_number"] == "NOBODY-1" else ("ACME", "eng")
        assert (body["supplier"], body["owner"]) == expected


def test_part_filters(world, eng):
    PartFactory(
        program=world.program,
        part_number="LATE-1",
        name="Door hinge",
        supplier=world.supplier_b,
        promised_date=world.program.sop_date + timedelta(days=5),
        ppap_status="submitted",
        criticality="safety",
    )

    def numbers(query):
        response = eng.get(f"/api/parts/?{query}")
        assert response.status_code == 200, response.content
        return sorted(p["part_number"] for p in response.json()["results"])

    assert numbers("late=true") == ["LATE-1"]
    assert numbers("late=false") == ["BM-100", "SF-200"]
    assert numbers("has_blocker=true") == ["BM-100"]
    assert numbers("has_blocker=false") == ["LATE-1", "SF-200"]
    assert numbers("supplier=BOLT") == ["LATE-1", "SF-200"]
    assert numbers("program=SU7&ppap_status=submitted") == ["LATE-1"]
    assert numbers("criticality=safety") == ["LATE-1"]
    assert numbers("search=hinge") == ["LATE-1"]
    assert numbers("search=BM-1") == ["BM-100"]
    need = world.program.sop_date - timedelta(days=14)
    assert numbers(f"need_date_before={need}") == ["BM-100", "LATE-1", "SF-200"]
    assert numbers(f"need_date_after={need + timedelta(days=1)}") == []
    assert [p["part_number"] for p in eng.get("/api/parts/?ordering=-part_number").json()["results"]] == [
        "SF-200",
        "LATE-1",
        "BM-100",
    ]
    assert eng.get("/api/parts/?ordering=-late").json()["results"][0]["part_number"] == "LATE-1"


def test_part_create_patch_delete(world, eng):
    created = eng.post(
        "/api/parts/",
        {"program": "SU7", "part_number": "BR-1", "name": "Bracket", "supplier": "ACME", "owner": "eng"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["revision"], body["late"], body["open_blockers"]) == ("A", False, 0)
    duplicate = eng.post("/api/parts/", {"program": "SU7", "part_number": "BR-1", "name": "Again"}, format="json")
    assert duplicate.status_code == 400
    assert "non_field_errors" in duplicate.json()
    patched = eng.patch(f"/api/parts/{body['id']}/", {"received_on": "2027-01-03"}, format="json")
    assert patched.json()["received_on"] == "2027-01-03"
    assert eng.delete(f"/api/parts/{body['id']}/").status_code == 204
    assert not Part.objects.filter(pk=body["id"]).exists()


def test_supplier_fields(world, eng):
    body = eng.get("/api/suppliers/ACME/").json()
    assert list(body) == ["id", "code", "name", "country", "alert_emails", "is_active", "calendar"]
    assert body["alert_emails"] == ["alerts@acme.example"]
    bad = eng.patch("/api/suppliers/ACME/", {"alert_emails": ["not-an-email"], "country": "germany"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"alert_emails", "country"}


def test_readiness_shape(world, eng):
    body = eng.get("/api/programs/SU7/readiness/").json()
    assert list(body) == [
        "program",
        "sop_date",
        "decision",
        "readiness_pct",
        "forecast_sop_date",
        "forecast_reason",
        "counts",
        "blockers",
    ]
    assert (body["program"], body["decision"]) == ("SU7", "no_go")
    assert isinstance(body["readiness_pct"], float)
    assert body["counts"]["by_severity"] == {"blocking": 1, "warning": 0}
    assert body["counts"]["items"]["parts"] == {"total": 2, "done": 2}
    assert [b["id"] for b in body["blockers"]] == [world.blocker.pk]
    assert list(body["blockers"][0]) == list(eng.get(f"/api/blockers/{world.blocker.pk}/").json())


def test_ramp_steps(world, eng):
    url = "/api/programs/SU7/ramp-steps/"
    assert eng.post(url, {"month": "2027-08-01", "planned_vehicles": 12000}, format="json").status_code == 201
    again = eng.post(url, {"month": "2027-08-01", "planned_vehicles": 1}, format="json")
    assert again.status_code == 400 and list(again.json()) == ["month"]
    mid_month = eng.post(url, {"month": "2027-09-15", "planned_vehicles": 10}, format="json")
    assert mid_month.json() == {"month": ["Use the first day of the month, e.g. 2026-07-01."]}
    assert [s["month"] for s in eng.get(url).json()["results"]] == ["2027-07-01", "2027-08-01"]
    assert eng.delete(f"{url}2027-08-01/").status_code == 204
    assert eng.get(f"{url}2027-02-30/").status_code == 404
    assert eng.get("/api/programs/NOPE/ramp-steps/").status_code == 404
    assert list(RampStep.objects.values_list("month", flat=True)) == [date(2027, 7, 1)]


def test_checklist_sign_off_is_refused_while_required_items_are_open(world, eng):
    url = f"/api/handover-checklists/{world.checklist.pk}/"
    refused = eng.patch(url, {"rd_signed_off": True, "area": "Renamed"}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["rd_signed_off"]
    assert "Work instructions released" in refused.json()["rd_signed_off"][0]
    world.checklist.refresh_from_db()
    assert (world.checklist.area, world.checklist.rd_signed_off_at) == ("Battery pack", None)

    done = eng.patch(f"/api/handover-items/{world.item.pk}/", {"done": True}, format="json").json()
    assert (done["done"], done["done_by"]) == (True, "eng")
    assert done["done_at"].startswith("2027-01-04T09:00")
    signed = eng.patch(url, {"rd_signed_off": True}, format="json")
    assert signed.status_code == 200
    body = signed.json()
    assert (body["rd_signed_off"], body["rd_signed_off_by"], body["production_signed_off"]) == (True, "eng", False)
    assert [i["done"] for i in body["items"]] == [True]


def _signed_off_by_eng(world, eng) -> str:
    """Mark the world's one required item done and sign the R&D side off; answer the checklist's URL."""
    url = f"/api/handover-checklists/{world.checklist.pk}/"
    assert eng.patch(f"/api/handover-items/{world.item.pk}/", {"done": True}, format="json").status_code == 200
    assert eng.patch(url, {"rd_signed_off": True}, format="json").status_code == 200
    return url


def test_no_item_change_reopens_a_signed_off_checklist(world, eng):
    url = _signed_off_by_eng(world, eng)
    optional = ItemFactory(checklist=world.checklist, title="Poster", required=False)
    elsewhere = ItemFactory(checklist=ChecklistFactory(program=world.program, area="Paint"), title="Oven curve")
    stored = list(HandoverItem.objects.order_by("id").values())
    signed = "Checklist 'Battery pack' is signed off by R&D (eng, 2027-01-04); withdraw the sign-off before"
    attempts = [
        (
            "post",
            "/api/handover-items/",
            {"checklist": world.checklist.pk, "title": "late-added", "required": True},
            {"checklist": [f"{signed} adding 'late-added' as a required item that is not done."]},
        ),
        (
            "patch",
            f"/api/handover-items/{world.item.pk}/",
            {"done": False},
            {"done": [f"{signed} reopening the required item 'Work instructions released'."]},
        ),
        (
            "patch",
            f"/api/handover-items/{optional.pk}/",
            {"required": True},
            {"required": [f"{signed} making the open item 'Poster' required."]},
        ),
        (
            "patch",
            f"/api/handover-items/{elsewhere.pk}/",
            {"checklist": world.checklist.pk},
            {"checklist": [f"{signed} moving the open required item 'Oven curve' into it."]},
        ),
    ]
    for method, path, body, errors in attempts:
        refused = getattr(eng, method)(path, body, format="json")
        assert (refused.status_code, refused.json()) == (400, errors), body
    assert list(HandoverItem.objects.order_by("id").values()) == stored
    body = eng.get(url).json()
    assert (body["rd_signed_off"], body["rd_signed_off_by"]) == (True, "eng")
    assert [i["title"] for i in body["items"]] == ["Work instructions released", "Poster"]


def test_changes_that_open_no_required_item_work_on_a_signed_off_checklist(world, eng):
    url = _signed_off_by_eng(world, eng)
    item_url = f"/api/handover-items/{world.item.pk}/"
    edited = eng.patch(item_url, {"title": "Work instructions v2", "evidence": "WI-7"}, format="json")
    assert (edited.status_code, edited.json()["title"], edited.json()["done"]) == (200, "Work instructions v2", True)
    done_on_arrival = {
        "checklist": world.checklist.pk,
        "title": "Torque audit",
        "required": True,
        "done": True,
        "evidence": "Audit TA-7",
    }
    created = eng.post("/api/handover-items/", done_on_arrival, format="json")
    assert (created.status_code, created.json()["done_by"]) == (201, "eng")
    optional = {"checklist": world.checklist.pk, "title": "Poster", "required": False}
    optional_url = f"/api/handover-items/{eng.post('/api/handover-items/', optional, format='json').json()['id']}/"
    assert eng.patch(optional_url, {"done": True}, format="json").status_code == 200
    assert eng.patch(optional_url, {"done": False}, format="json").status_code == 200
    assert eng.get(url).json()["rd_signed_off"] is True

    manager = client_for(api_token(launch_manager()))
    withdrawal = {"rd_signed_off": False, "withdrawal_reason": "Work instructions rewritten"}
    assert manager.patch(url, withdrawal, format="json").status_code == 200
    reopened = eng.patch(item_url, {"done": False}, format="json")
    assert (reopened.status_code, reopened.json()["done"], reopened.json()["done_by"]) == (200, False, None)


def test_items_nested_read_only_and_filters(world, eng):
    ItemFactory(checklist=world.checklist, title="Optional", required=False)
    body = eng.get(f"/api/handover-checklists/{world.checklist.pk}/").json()
    assert [i["title"] for i in body["items"]] == ["Work instructions released", "Optional"]
    ignored = eng.patch(f"/api/handover-checklists/{world.checklist.pk}/", {"items": []}, format="json")
    assert len(ignored.json()["items"]) == 2
    assert eng.get("/api/handover-items/?required=false").json()["count"] == 1
    assert eng.get("/api/handover-items/?done=true").json()["count"] == 0
    assert eng.get(f"/api/handover-items/?checklist={world.checklist.pk}").json()["count"] == 2


def test_validation_test_rules_name_fields(world, eng):
    url = f"/api/validation-tests/{world.test.pk}/"
    code = world.test.code
    waived = eng.patch(url, {"status": "waived", "waiver_reason": "carry-over"}, format="json")
    assert waived.status_code == 403
    assert waived.json() == {"status": [f"Only a launch manager (the group has no members yet) may waive {code}."]}
    backwards = eng.patch(url, {"planned_start": "2027-02-01", "planned_end": "2027-01-01"}, format="json")
    assert list(backwards.json()) == ["planned_end"]
    manager = client_for(api_token(launch_manager()))
    no_reason = manager.patch(url, {"status": "waived"}, format="json")
    assert (no_reason.status_code, no_reason.json()) == (400, {"waiver_reason": [f"Say why {code} is waived."]})
    failed = eng.patch(url, {"status": "failed"}, format="json")
    assert failed.json() == {"result_note": [f"{code} failed: say what failed in the result note."]}
    assert eng.get(url).json()["status"] == "in_progress"  # every refusal changed nothing
    assert manager.patch(url, {"status": "waived", "waiver_reason": "carry-over"}, format="json").status_code == 200
    assert eng.get("/api/validation-tests/?status=waived&program=SU7").json()["count"] == 1
    assert eng.get(f"/api/validation-tests/?part={world.part_a.pk}").json()["count"] == 1


def test_blocker_filters(world, eng):
    assert eng.get("/api/blockers/?open=true&program=SU7&severity=blocking&rule=part_late").json()["count"] == 1
    assert eng.get("/api/blockers/?open=false").json()["count"] == 0


def test_docs_are_served_without_a_cdn(world, client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "drf_spectacular_sidecar" in html
    assert "cdn" not in html.lower() and "unpkg" not in html
    assert "<script>" not in html.replace(" ", ""), "no inline script: the CSP forbids it"
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/supplier-updates/" in schema.json()["paths"]


def test_a_supplier_reads_the_blockers_about_its_own_parts(world, alice, clients, eng):
    from sopgate.models import Blocker

    now = timezone.now()
    Blocker.objects.create(
        program=world.program,
        rule="ppap_overdue",
        severity="blocking",
        object_type="part",
        object_id=world.part_b.pk,
        object_label="Seat frame SF-200 rev A",
        message="Seat frame SF-200 rev A: PPAP submitted, due 2027-01-01 (3 days overdue)",
        opened_at=now,
        last_seen_at=now,
    )
    mine = alice.get("/api/blockers/?open=true").json()
    assert [(b["object_id"], b["rule"], b["message"]) for b in mine["results"]] == [
        (world.part_a.pk, "part_late", "late")
    ]
    theirs = clients["supplier_b"].get("/api/blockers/").json()["results"]
    assert [b["object_id"] for b in theirs] == [world.part_b.pk]
    assert eng.get("/api/blockers/").json()["count"] == 2


def test_a_programs_gate_settings_are_a_launch_managers_to_change(world, eng):
    url = "/api/programs/SU7/"
    refused = eng.patch(url, {"part_lead_days": 7, "name": "SU7 sedan"}, format="json")
    assert refused.status_code == 403
    assert refused.json() == {
        "part_lead_days": [
            "Only a launch manager (the group has no members yet) may change SU7's gate settings (part_lead_days)."
        ]
    }
    assert eng.get(url).json()["name"] != "SU7 sedan"  # nothing changed
    assert eng.patch(url, {"name": "SU7 sedan"}, format="json").status_code == 200  # other fields are engineers'
    new = {"code": "EX9", "name": "EX9", "sop_date": "2027-09-01", "signoff_days": 3}
    created = eng.post("/api/programs/", new, format="json")
    assert created.status_code == 403 and list(created.json()) == ["signoff_days"]
    manager = client_for(api_token(launch_manager()))
    changed = manager.patch(url, {"part_lead_days": 7}, format="json")
    assert (changed.status_code, changed.json()["part_lead_days"]) == (200, 7)
