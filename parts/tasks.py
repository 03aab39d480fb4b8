"""Celery tasks of parts: thin wrappers around services."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from . import capacity, services


@shared_task
def purge_idempotency_records() -> int:
    return services.idempotency_records_purge()


@shared_task
def refresh_capacity_in_force(day: str | None = None) -> int:
    """Each part's capacity per week as its capacity plan's line in force on `day` (ISO date, default today)."""
    today = date.fromisoformat(day) if day else timezone.localdate()
    return capacity.parts_capacity_refresh(today=today)
