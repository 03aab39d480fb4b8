"""Retries from suppliers: `Idempotency-Key` makes a retried POST return the first response and store nothing
twice, also when the retries arrive at the same time."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from rest_framework.test import APIClient

from parts.models import IdempotencyRecord, SupplierUpdate
from parts.tasks import purge_idempotency_records
from tests.faults.conftest import service_env
from tests.faults.helpers import http, make_world, slip_body


@pytest.mark.django_db
def test_retry_with_the_same_key_replays_the_first_response_and_stores_once():
    world = make_world(code="IDEM")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.supplier_token}", HTTP_IDEMPOTENCY_KEY="batch-2027-01-04-001")
    body = [slip_body(world, 20, note="first")]
    first = client.post("/api/supplier-updates/", body, format="json")
    again = client.post("/api/supplier-updates/", body, format="json")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content  # byte for byte: the same keys in the same order
    assert again["Idempotent-Replayed"] == "true"
    assert SupplierUpdate.objects.filter(part=world.part).count() == 1

    # The same key with different data is refused, naming the header, and changes nothing.
    other = client.post("/api/supplier-updates/", [slip_body(world, 30)], format="json")
    assert other.status_code == 400
    assert "Idempotency-Key" in other.json()
    assert SupplierUpdate.objects.filter(part=world.part).count() == 1

    # A failed request stores no record: the corrected retry with the same key goes through.
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.supplier_token}", HTTP_IDEMPOTENCY_KEY="fix-me")
    bad = client.post("/api/supplier-updates/", [{"part": world.part.pk, "promised_date": "2027-02-30"}], format="json")
    assert bad.status_code == 400 and not IdempotencyRecord.objects.filter(key="fix-me").exists()
    good = client.post("/api/supplier-updates/", [slip_body(world, 25)], format="json")
    assert good.status_code == 201

    # Keys are per user: another user's identical key is independent.
    engineer = APIClient()
    engineer.credentials(
        HTTP_AUTHORIZATION=f"Token {world.engineer_token}", HTTP_IDEMPOTENCY_KEY="batch-2027-01-04-001"
    )
    assert engineer.post("/api/supplier-updates/", body, format="json").status_code == 201
    assert SupplierUpdate.objects.filter(part=world.part).count() == 3


@pytest.mark.django_db
def test_keys_are_forgotten_after_the_retention_and_a_late_retry_counts_as_new(settings):
    settings.SOPGATE_IDEMPOTENCY_RETENTION_HOURS = 72
    world = make_world(code="IDP")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.supplier_token}", HTTP_IDEMPOTENCY_KEY="old-batch")
    body = [slip_body(world, 20, note="first")]
    assert client.post("/api/supplier-updates/", body, format="json").status_code == 201
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.supplier_token}", HTTP_IDEMPOTENCY_KEY="new-batch")
    assert client.post("/api/supplier-updates/", [slip_body(world, 21)], format="json").status_code == 201
    IdempotencyRecord.objects.filter(key="old-batch").update(created_at=timezone.now() - timedelta(hours=73))

    assert purge_idempotency_records() == 1  # the hourly beat task
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new-batch"]
    assert "parts.tasks.purge_idempotency_records" in {
        entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
    }
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.supplier_token}", HTTP_IDEMPOTENCY_KEY="old-batch")
    late = client.post("/api/supplier-updates/", body, format="json")
    assert late.status_code == 201 and "Idempotent-Replayed" not in late
    assert SupplierUpdate.objects.filter(part=world.part).count() == 3


@pytest.mark.django_db
def test_bad_idempotency_key_is_refused_naming_the_header():
    world = make_world(code="IDK")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.supplier_token}", HTTP_IDEMPOTENCY_KEY="x" * 300)
    response = client.post("/api/supplier-updates/", [slip_body(world)], format="json")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not SupplierUpdate.objects.filter(part=world.part).exists()


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_store_once(postgres_only, private_redis, services):
    world = make_world(code="IDEMC")
    env = service_env(redis_url=private_redis.url, email_url="memorymail://")
    _, base = services.web(env)
    body = [slip_body(world, days) for days in (10, 11, 12)]

    def post(_):
        return http(
            "POST",
            f"{base}/api/supplier-updates/",
            token=world.supplier_token,
            body=body,
            headers={"Idempotency-Key": "nightly-sync-42"},
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(post, range(10)))
    assert [status for status, *_ in responses] == [201] * 10, [r[1] for r in responses]
    assert all(payload == responses[0][1] for _, payload, _, _ in responses), "every retry sees the first response"
    assert SupplierUpdate.objects.filter(part=world.part).count() == 3
    assert sum(1 for *_, headers in responses if headers.get("Idempotent-Replayed") == "true") == 9
