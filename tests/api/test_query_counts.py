"""Every list endpoint issues the same number of queries for 1 row as for 50 (no per-row queries)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from parts.models import SupplierUpdate
from sopgate.models import Blocker
from tests.factories import (
    ChecklistFactory,
    EngineerFactory,
    ItemFactory,
    PartFactory,
    ProgramFactory,
    RampStepFactory,
    SupplierFactory,
    ValidationTestFactory,
)

pytestmark = pytest.mark.django_db

# Token lookup (with its user), django-rest-knox's look for the user's expired tokens, the user with its supplier
# membership, the page count, the page. Checklists add three queries for their prefetched items and the delegates
# of each side; readiness is the program lookup plus program_readiness's six (open blockers per rule, parts, tests
# and items with those done, the blockers the forecast looks at, the open blockers shown): +2 since readiness is
# one function whose pieces are counted in the database rather than from the loaded blockers.
PINNED = {
    "programs": 5,
    "ramp-steps": 6,
    "suppliers": 5,
    "parts": 5,
    "parts-as-supplier": 5,
    "supplier-updates": 5,
    "supplier-updates-as-supplier": 5,
    "validation-tests": 5,
    "handover-checklists": 8,
    "handover-items": 5,
    "blockers": 5,
    "readiness": 10,
}


def _blocker(program, *, object_id, owner):
    now = timezone.now()
    return Blocker.objects.create(
        program=program,
        rule="part_late",
        severity="blocking",
        object_type="part",
        object_id=object_id,
        object_label=f"part {object_id}",
        message="late",
        owner=owner,
        opened_at=now,
        last_seen_at=now,
    )


def _more_programs(world, n):
    for _ in range(n):
        ProgramFactory(owner=EngineerFactory())


def _more_ramp_steps(world, n):
    for i in range(n):
        RampStepFactory(program=world.program, month=date(2028 + i // 12, i % 12 + 1, 1))


def _more_suppliers(world, n):
    for _ in range(n):
        SupplierFactory()


def _more_parts(world, n, supplier=None):
    for _ in range(n):
        part = PartFactory(supplier=supplier or SupplierFactory(), owner=EngineerFactory())
        _blocker(part.program, object_id=part.pk, owner=part.owner)


def _more_updates(world, n, supplier=None):
    for _ in range(n):
        part = PartFactory(supplier=supplier or SupplierFactory())
        SupplierUpdate.objects.create(part=part, reported_by=EngineerFactory(), reported_at=timezone.now())


def _more_tests(world, n):
    for _ in range(n):
        ValidationTestFactory(part=PartFactory())


def _more_checklists(world, n):
    for _ in range(n):
        checklist = ChecklistFactory()
        ItemFactory(checklist=checklist, done_by=EngineerFactory(), done_at=timezone.now())
        ItemFactory(checklist=checklist)


def _more_items(world, n):
    for _ in range(n):
        ItemFactory(done_by=EngineerFactory(), done_at=timezone.now())


def _more_blockers(world, n, program=None):
    for i in range(n):
        _blocker(program or ProgramFactory(), object_id=10_000 + i, owner=EngineerFactory())


CASES = [
    ("programs", "engineer", "/api/programs/", _more_programs),
    ("ramp-steps", "engineer", "/api/programs/SU7/ramp-steps/", _more_ramp_steps),
    ("suppliers", "engineer", "/api/suppliers/", _more_suppliers),
    ("parts", "engineer", "/api/parts/", _more_parts),
    ("parts-as-supplier", "supplier_a", "/api/parts/", lambda w, n: _more_parts(w, n, supplier=w.supplier_a)),
    ("supplier-updates", "engineer", "/api/supplier-updates/", _more_updates),
    (
        "supplier-updates-as-supplier",
        "supplier_a",
        "/api/supplier-updates/",
        lambda w, n: _more_updates(w, n, supplier=w.supplier_a),
    ),
    ("validation-tests", "engineer", "/api/validation-tests/", _more_tests),
    ("handover-checklists", "engineer", "/api/handover-checklists/", _more_checklists),
    ("handover-items", "engineer", "/api/handover-items/", _more_items),
    ("blockers", "engineer", "/api/blockers/", _more_blockers),
    ("readiness", "engineer", "/api/programs/SU7/readiness/", lambda w, n: _more_blockers(w, n, program=w.program)),
]


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    rows = len(body["results"]) if "results" in body else len(body["blockers"])
    return len(queries), rows


@pytest.mark.parametrize(("name", "role", "url", "more"), CASES, ids=[c[0] for c in CASES])
def test_list_query_count_is_the_same_for_1_and_50_rows(world, clients, name, role, url, more):
    client = clients[role]
    few, rows = _count(client, url)
    more(world, 50 - rows)
    many, rows_after = _count(client, url)
    assert rows <= 2
    assert rows_after == 50
    assert few == many == PINNED[name]
