"""Celery tasks of parts: thin wrappers around services."""

from datetime import date

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from . import capacity, services


@shared_task
def purge_idempotency_records() -> int:
    return services.idempotency_records_purge()


@shared_task(
    acks_late=True,  # idempotent: run again after a worker died mid-way
    autoretry_for=(OperationalError,),  # the database restarting or failing over
    retry_backoff=60,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=6,
)
def refresh_capacity_in_force(day: str | None = None) -> int:
    """Each part's capacity per week as its capacity plan's line in force on `day` (ISO date, default the day it
    runs, so a retry after midnight refreshes to the new day's lines)."""
    today = date.fromisoformat(day) if day else timezone.localdate()
    return capacity.parts_capacity_refresh(today=today)
