"""Writes of a program as a whole: its daily readiness snapshot, archiving, and who may change its gate settings."""

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from ..models import Program, ReadinessSnapshot
from ..roles import NotPermitted, launch_manager_names, user_is_launch_manager
from ..selectors import program_readiness


def program_snapshot(*, program_id: int, today: date | None = None) -> ReadinessSnapshot:
    program = Program.objects.get(pk=program_id)
    readiness = program_readiness(program, today=today)
    snapshot, _ = ReadinessSnapshot.objects.update_or_create(
        program=program,
        date=readiness.as_of,
        defaults={
            "decision": readiness.decision,
            "readiness_pct": readiness.readiness_pct,
            "blocking_count": readiness.blocking_count,
            "warning_count": readiness.warning_count,
            "counts": readiness.counts,
            "forecast_sop_date": readiness.forecast_sop_date,
        },
    )
    return snapshot


def programs_archive(*, program_ids, actor, archived: bool = True, now: datetime | None = None) -> int:
    """Archive (or, with `archived=False`, unarchive) the programs with ids `program_ids` that are not so yet;
    each change is recorded in the program's history with `actor`. Returns how many changed."""
    programs = Program.objects.filter(pk__in=list(program_ids), archived_at__isnull=archived).order_by("pk")
    when = (now or timezone.now()) if archived else None
    count = 0
    with transaction.atomic():
        for program in programs.select_for_update():
            program.archived_at = when
            program._history_user = actor
            program.save(update_fields=["archived_at", "updated_at"])
            count += 1
    return count


# A program's gate settings: how strict the gate is. Changing them is a launch manager's decision (DOMAIN.md "Trust").
GATE_SETTINGS = ("part_lead_days", "ppap_lead_days", "at_risk_days", "stale_update_days", "signoff_days")


def program_check_gate_settings(*, program: Program, actor) -> None:
    """Refuse (`NotPermitted`, naming the first setting) a change of `program`'s gate settings, as about to be saved,
    by anyone but a launch manager; a new program takes the defaults unless a launch manager sets others."""
    if user_is_launch_manager(actor):
        return
    if program.pk is None:
        stored = {name: Program._meta.get_field(name).get_default() for name in GATE_SETTINGS}
    else:
        stored = Program.objects.filter(pk=program.pk).values(*GATE_SETTINGS).first() or {}
    for name in GATE_SETTINGS:
        if name in stored and getattr(program, name) != stored[name]:
            raise NotPermitted(
                name,
                f"Only {launch_manager_names()} may change {program.code or 'a program'}'s gate settings ({name}).",
            )
