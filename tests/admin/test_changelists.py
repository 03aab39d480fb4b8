"""Every admin changelist answers 200 for an engineer with the same number of queries for 1 row as for 30."""

import itertools
import os
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from parts.models import SupplierUpdate
from sopgate.models import Alert, Blocker, DigestDelivery, ReadinessSnapshot
from tests.factories import (
    ChecklistFactory,
    EngineerFactory,
    ItemFactory,
    PartFactory,
    ProgramFactory,
    SupplierFactory,
    SupplierUserFactory,
    ValidationTestFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 4, 9, tzinfo=UTC)
_serial = itertools.count(1)


def _parts(n):
    program = ProgramFactory()
    # A different supplier, owner and program per row: any per-row foreign-key lookup would show.
    return [PartFactory(program=program if i % 2 else ProgramFactory()) for i in range(n)]


def _suppliers(n):
    return [PartFactory(supplier=SupplierFactory()).supplier for _ in range(n)]


def _supplier_updates(n):
    for part in _parts(n):
        SupplierUpdate.objects.create(part=part, reported_by=EngineerFactory(), reported_at=NOW, note="ok")


def _supplier_users(n):
    for _ in range(n):
        SupplierUserFactory()


def _tests(n):
    for i in range(n):
        ValidationTestFactory(status=["passed", "failed", "in_progress"][i % 3])


def _checklists(n):
    for _ in range(n):
        ItemFactory(checklist=ChecklistFactory(program=ProgramFactory()))


def _items(n):
    for _ in range(n):
        ItemFactory()


def _programs(n):
    for i in range(n):
        _make_blocker(ProgramFactory(), next(_serial), severity="blocking" if i % 2 else "warning")


def _make_blocker(program, object_id, severity="blocking"):
    return Blocker.objects.create(
        program=program,
        rule="part_late" if severity == "blocking" else "part_at_risk",
        severity=severity,
        object_type="part",
        object_id=object_id,
        object_label=f"Part {object_id}",
        message="late",
        owner=EngineerFactory(),
        opened_at=NOW,
        last_seen_at=NOW,
    )


def _blockers(n):
    for _ in range(n):
        _make_blocker(ProgramFactory(), next(_serial))


def _alerts(n):
    for _ in range(n):
        i = next(_serial)
        Alert.objects.create(blocker=_make_blocker(ProgramFactory(), i), recipient=f"r{i}@example.com")


def _digests(n):
    for _ in range(n):
        DigestDelivery.objects.create(recipient=f"r{next(_serial)}@example.com", date=date(2027, 1, 4))


def _snapshots(n):
    for _ in range(n):
        ReadinessSnapshot.objects.create(
            program=ProgramFactory(),
            date=date(2027, 1, 4) - timedelta(days=next(_serial)),
            decision="no_go",
            readiness_pct=50,
            blocking_count=1,
            warning_count=0,
        )


# (changelist url name, row builder, pinned number of queries)
CHANGELISTS = [
    ("admin:parts_part_changelist", _parts, 9),
    ("admin:parts_supplier_changelist", _suppliers, 8),
    ("admin:parts_supplierupdate_changelist", _supplier_updates, 11),  # + the supplier filter
    ("admin:parts_supplieruser_changelist", _supplier_users, 7),
    ("admin:validation_validationtest_changelist", _tests, 8),
    ("admin:validation_handoverchecklist_changelist", _checklists, 8),
    ("admin:validation_handoveritem_changelist", _items, 9),
    ("admin:sopgate_program_changelist", _programs, 7),
    ("admin:sopgate_blocker_changelist", _blockers, 11),  # + the supplier filter
    ("admin:sopgate_alert_changelist", _alerts, 7),
    ("admin:sopgate_digestdelivery_changelist", _digests, 7),
    ("admin:sopgate_readinesssnapshot_changelist", _snapshots, 8),
]


def _count_queries(client, url):
    # The content-type cache is process-wide: start cold so the count does not depend on test order.
    ContentType.objects.clear_cache()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    if "QDEBUG" in os.environ:
        print("\n".join(q["sql"][:300] for q in queries.captured_queries))
    return len(queries), response


@pytest.mark.parametrize("url_name, build, pinned", CHANGELISTS, ids=[c[0].split(":")[1] for c in CHANGELISTS])
def test_changelist_query_count_does_not_grow_with_rows(at_today, engineer_client, url_name, build, pinned):
    url = reverse(url_name)
    build(1)
    one, response = _count_queries(engineer_client, url)
    assert response.context["cl"].result_count == 1
    build(29)
    many, response = _count_queries(engineer_client, url)
    assert response.context["cl"].result_count == 30
    assert (one, many) == (pinned, pinned)


def _edit_many(obj, n, change):
    """n history rows for obj, each by a different user and changing a foreign key, as the admin would."""
    for i in range(n):
        change(obj, i)
        obj._history_user = EngineerFactory()
        obj.save()


HISTORY_PAGES = [
    ("admin:parts_part_history", PartFactory, lambda p, i: setattr(p, "supplier", SupplierFactory()), 8),
    (
        "admin:validation_validationtest_history",
        ValidationTestFactory,
        lambda t, i: setattr(t, "owner", EngineerFactory()),
        8,
    ),
    (
        "admin:validation_handoveritem_history",
        ItemFactory,
        lambda t, i: setattr(t, "responsible", EngineerFactory()),
        8,
    ),
    ("admin:parts_supplier_history", SupplierFactory, lambda s, i: setattr(s, "name", f"Name {i}"), 8),
    ("admin:sopgate_program_history", ProgramFactory, lambda p, i: setattr(p, "owner", EngineerFactory()), 8),
    (
        "admin:validation_handoverchecklist_history",
        ChecklistFactory,
        lambda c, i: setattr(c, "production_owner", EngineerFactory()),
        8,
    ),
]


@pytest.mark.parametrize(
    "url_name, factory, change, pinned", HISTORY_PAGES, ids=[h[0].split(":")[1] for h in HISTORY_PAGES]
)
def test_history_page_query_count_does_not_grow_with_records(
    at_today, engineer_client, url_name, factory, change, pinned
):
    obj = factory()
    url = reverse(url_name, args=[obj.pk])
    one, response = _count_queries(engineer_client, url)
    assert response.context["page_obj"].paginator.count == 1
    _edit_many(obj, 29, change)
    many, response = _count_queries(engineer_client, url)
    assert response.context["page_obj"].paginator.count == 30
    assert (one, many) == (pinned, pinned)
