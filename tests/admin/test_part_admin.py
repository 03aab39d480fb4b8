"""The part admin as an engineer uses it: filters, search, badges, actions, history; suppliers stay out."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from parts.models import Part
from tests.factories import (
    TODAY,
    PartFactory,
    ProgramFactory,
    SupplierFactory,
    SupplierUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:parts_part_changelist"


@pytest.fixture
def parts(at_today):
    su7, su8 = ProgramFactory(code="SU7"), ProgramFactory(code="SU8")
    catl, lear = SupplierFactory(code="CATL-NB", name="Ningbo Cells"), SupplierFactory(code="LEAR-SF")
    need = su7.sop_date - timedelta(days=su7.part_lead_days)
    return {
        "late": PartFactory(
            program=su7,
            part_number="BM-107",
            name="Battery module",
            supplier=catl,
            criticality="critical",
            ppap_status="submitted",
            promised_date=need + timedelta(days=20),
        ),
        "on_time": PartFactory(
            program=su7, part_number="SF-114", name="Seat frame", supplier=lear, criticality="safety"
        ),
        "other_program": PartFactory(program=su8, part_number="DL-100", name="Door latch", supplier=lear),
    }


def _listed(client, **params):
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return {part.part_number for part in response.context["cl"].result_list}


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, {"BM-107", "SF-114", "DL-100"}),
        ({"program": "SU7"}, {"BM-107", "SF-114"}),
        ({"supplier": "LEAR-SF"}, {"SF-114", "DL-100"}),
        ({"ppap_status__exact": "submitted"}, {"BM-107"}),
        ({"criticality__exact": "safety"}, {"SF-114"}),
        ({"late": "yes"}, {"BM-107"}),
        ({"late": "no"}, {"SF-114", "DL-100"}),
        ({"q": "battery"}, {"BM-107"}),
        ({"q": "CATL"}, {"BM-107"}),
        ({"q": "DL-100"}, {"DL-100"}),
        ({"program": "SU7", "late": "no", "q": "seat"}, {"SF-114"}),
    ],
)
def test_part_changelist_filters_and_search(parts, engineer_client, params, expected):
    from parts.models import Supplier
    from sopgate.models import Program

    if "program" in params:
        params["program__id__exact"] = Program.objects.get(code=params.pop("program")).pk
    if "supplier" in params:
        params["supplier__id__exact"] = Supplier.objects.get(code=params.pop("supplier")).pk
    assert _listed(engineer_client, **params) == expected


def test_badges_say_it_in_words_and_symbols(parts, engineer_client):
    html = engineer_client.get(reverse(CHANGELIST)).content.decode()
    assert 'class="sg-badge badge-bad" title="Late">✖ Late</span>' in html
    assert "✔ On time" in html
    assert "● Submitted" in html
    assert "✔ Approved" in html


def test_admin_pages_load_the_badge_stylesheet(parts, engineer_client):
    html = engineer_client.get(reverse(CHANGELIST)).content.decode()
    assert '<link rel="stylesheet" href="/static/admin/sopgate.css">' in html
    assert "SOPGate" in html  # the site header still comes from Django's base_site template


@pytest.fixture
def an_hour_later(parts, time_machine):
    """Edits happen after the parts were created: history is ordered by time, so give it time."""
    from datetime import datetime, time

    from django.utils import timezone

    time_machine.move_to(timezone.make_aware(datetime.combine(TODAY, time(10, 0))), tick=False)


def _run_action(client, action, parts):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [p.pk for p in parts], "index": 0},
        follow=True,
    )


def test_approve_ppap_action_records_the_engineer(parts, an_hour_later, engineer_client, engineer_user):
    late, on_time = parts["late"], parts["on_time"]
    response = _run_action(engineer_client, "approve_ppap", [late, on_time])
    assert "PPAP approved for 1 part." in [str(m) for m in response.context["messages"]]
    late.refresh_from_db()
    assert late.ppap_status == "approved"
    record = late.history.first()
    assert (record.history_user, record.ppap_status, record.prev_record.ppap_status) == (
        engineer_user,
        "approved",
        "submitted",
    )
    assert on_time.history.count() == 1  # already approved: untouched, no history row


def test_mark_received_action(parts, engineer_client, engineer_user):
    response = _run_action(engineer_client, "mark_received", [parts["late"]])
    assert "1 part marked received." in [str(m) for m in response.context["messages"]]
    part = Part.objects.get(pk=parts["late"].pk)
    assert part.received_on == TODAY
    assert part.history.first().history_user == engineer_user
    assert "✔ Received" in _html_row(engineer_client, "BM-107")


def _html_row(client, part_number):
    html = client.get(reverse(CHANGELIST), {"q": part_number}).content.decode()
    return html[html.index("<tbody>") : html.index("</tbody>")]


def _change_form_data(part, **changes):
    data = {
        "program": part.program_id,
        "part_number": part.part_number,
        "revision": part.revision,
        "name": part.name,
        "supplier": part.supplier_id or "",
        "owner": part.owner_id or "",
        "criticality": part.criticality,
        "qty_per_vehicle": part.qty_per_vehicle,
        "need_date": part.need_date or "",
        "promised_date": part.promised_date or "",
        "received_on": part.received_on or "",
        "ppap_status": part.ppap_status,
        "ppap_level": part.ppap_level,
        "ppap_due_date": part.ppap_due_date or "",
        "interim_expires_on": part.interim_expires_on or "",
        "tooling_stage": part.tooling_stage,
        "capacity_per_week": part.capacity_per_week or "",
        # The evidence files inline: no row, unless a test adds one.
        "files-TOTAL_FORMS": "0",
        "files-INITIAL_FORMS": "0",
        "files-MIN_NUM_FORMS": "0",
        "files-MAX_NUM_FORMS": "1000",
        # The capacity plan inline (none added here).
        "capacity_lines-TOTAL_FORMS": "0",
        "capacity_lines-INITIAL_FORMS": "0",
        "capacity_lines-MIN_NUM_FORMS": "0",
        "capacity_lines-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    data.update(changes)
    return data


def test_an_evidence_file_is_added_on_the_part_page_within_the_limits(
    parts, engineer_client, engineer_user, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from parts.models import EvidenceFile

    settings.MEDIA_ROOT, settings.EVIDENCE_MAX_MB = tmp_path, 1
    part = parts["on_time"]
    url = reverse("admin:parts_part_change", args=[part.pk])

    def post(name, content):
        row = {
            "files-TOTAL_FORMS": "1",
            "files-0-kind": "run_at_rate",
            "files-0-file": SimpleUploadedFile(name, content),
        }
        return engineer_client.post(url, {**_change_form_data(part), **row})

    refused = post("rate.exe", b"MZ")
    assert refused.status_code == 200
    (formset,) = [f for f in refused.context["inline_admin_formsets"] if f.formset.prefix == "files"]
    assert formset.formset.forms[0].errors["file"][0].startswith("rate.exe: a .exe file is not taken")
    too_big = post("rate.pdf", b"x" * (2**20 + 1))
    assert "evidence files may be up to 1 MB" in too_big.content.decode()
    assert not EvidenceFile.objects.exists()

    assert post("rate.pdf", b"%PDF run at rate 1,850/week").status_code == 302
    evidence = EvidenceFile.objects.get()
    assert (evidence.part, evidence.kind, evidence.name, evidence.uploaded_by) == (
        part,
        "run_at_rate",
        "rate.pdf",
        engineer_user,
    )
    page = engineer_client.get(url).content.decode()
    assert f'href="/api/parts/{part.pk}/files/{evidence.pk}/content/">rate.pdf</a>' in page
    download = engineer_client.get(f"/api/parts/{part.pk}/files/{evidence.pk}/content/")
    assert b"".join(download.streaming_content) == b"%PDF run at rate 1,850/week"


def test_editing_a_part_records_who_when_and_old_to_new_visible_in_history(
    parts, an_hour_later, engineer_client, engineer_user
):
    part = parts["on_time"]
    old_promise = part.promised_date
    new_promise = old_promise + timedelta(days=3)
    url = reverse("admin:parts_part_change", args=[part.pk])
    response = engineer_client.post(url, _change_form_data(part, promised_date=new_promise, capacity_per_week=1800))
    assert response.status_code == 302, response.context["adminform"].form.errors
    record = part.history.first()
    assert record.history_type == "~"
    assert record.history_user == engineer_user
    assert record.history_date.date() == TODAY
    delta = record.diff_against(record.prev_record)
    assert {(c.field, c.old, c.new) for c in delta.changes} == {
        ("promised_date", old_promise, new_promise),
        ("capacity_per_week", 100000, 1800),
    }
    history = engineer_client.get(reverse("admin:parts_part_history", args=[part.pk]))
    assert history.status_code == 200
    html = history.content.decode()
    assert re.search(r'<a href="/admin/auth/user/\d+/change/">erin</a>', html)  # the "Changed by" column
    # simple-history lists each change as "<field>: old → new".
    assert re.search(r"capacity per week:</strong>\s*100000\s*&nbsp;&rarr;&nbsp;&nbsp;1800", html, re.I), html
    assert re.search(rf"promised date:</strong>\s*{old_promise}\s*&nbsp;&rarr;&nbsp;&nbsp;{new_promise}", html, re.I), (
        html
    )


def test_bad_input_in_the_change_form_names_the_field_and_changes_nothing(parts, engineer_client):
    part = parts["on_time"]
    url = reverse("admin:parts_part_change", args=[part.pk])
    response = engineer_client.post(url, _change_form_data(part, qty_per_vehicle=0, ppap_level=6))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"qty_per_vehicle", "ppap_level"}
    assert part.history.count() == 1


def test_supplier_user_cannot_log_into_the_admin(db):
    membership = SupplierUserFactory(user=UserFactory(username="sam"))
    client = Client()
    response = client.post(
        reverse("admin:login"), {"username": "sam", "password": "pw-for-tests-only", "next": "/admin/"}
    )
    assert response.status_code == 200
    assert "correct username and password for a staff account" in response.content.decode()
    assert "_auth_user_id" not in client.session
    client.force_login(membership.user)  # even with a session, the admin sends a non-staff user to the login
    assert client.get(reverse(CHANGELIST)).status_code == 302
