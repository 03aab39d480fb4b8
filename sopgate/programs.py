"""The program and its ramp plan: what every layer above plans against. No gate rule lives here."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .history import HistoricalActor
from .validators import MAX_DATE, MAX_PLANNED_VEHICLES, MIN_DATE, PLANNING_DATE, person_field

CODE_VALIDATOR = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "Use letters, digits, '.', '_' or '-'.")


ISO_WEEKDAYS = range(1, 8)  # Monday = 1 ... Sunday = 7
MONDAY_TO_FRIDAY = [1, 2, 3, 4, 5]


def _default_working_weekdays() -> list[int]:
    return list(MONDAY_TO_FRIDAY)


def _working_weekdays_validator(value) -> None:
    if not isinstance(value, list) or not value or any(day not in ISO_WEEKDAYS for day in value):
        raise ValidationError("Give at least one ISO weekday, 1 (Monday) to 7 (Sunday).")
    if len(set(value)) != len(value):
        raise ValidationError("Give each weekday once.")


def _closed_dates_validator(value) -> None:
    if not isinstance(value, list):
        raise ValidationError("Enter a list of dates.")
    for day in value:
        if not isinstance(day, str):
            raise ValidationError("Each closed date is a date, YYYY-MM-DD.")
        try:
            parsed = date.fromisoformat(day)
        except ValueError:
            raise ValidationError(f"{day} is not a date (YYYY-MM-DD).") from None
        if not MIN_DATE <= parsed <= MAX_DATE:
            raise ValidationError(f"{day} is outside {MIN_DATE}..{MAX_DATE}.")


class WorkCalendar(models.Model):
    """When a plant or a supplier works: its working weekdays and its closed dates (holidays, shutdowns). The ramp
    week by week (`sopgate.ramp`) counts working days by it; without one, every weekday works."""

    code = models.CharField(max_length=32, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    working_weekdays = models.JSONField(
        default=_default_working_weekdays,
        validators=[_working_weekdays_validator],
        help_text="ISO weekdays worked: 1 = Monday ... 7 = Sunday.",
    )
    # ISO dates as text in a JSON list: the API's shape, and what the admin's holiday import merges into.
    closed_dates = models.JSONField(default=list, blank=True, validators=[_closed_dates_validator])
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(bases=[HistoricalActor], excluded_fields=["updated_at"])

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ProgramQuerySet(models.QuerySet):
    def active(self):
        """Programs not archived: those the periodic scans, snapshots, digests and the dashboard's list cover."""
        return self.filter(archived_at__isnull=True)


class Program(models.Model):
    code = models.CharField(max_length=32, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    sop_date = models.DateField("SOP date", validators=PLANNING_DATE)
    owner = person_field(related_name="owned_programs")
    part_lead_days = models.PositiveSmallIntegerField(
        default=14, help_text="Parts must be at the plant this many days before SOP."
    )
    ppap_lead_days = models.PositiveSmallIntegerField(
        "PPAP lead days", default=28, help_text="PPAP must be approved this many days before the part's need date."
    )
    at_risk_days = models.PositiveSmallIntegerField(default=7)
    stale_update_days = models.PositiveSmallIntegerField(default=14)
    signoff_days = models.PositiveSmallIntegerField(
        default=7, help_text="Handover sign-offs are due this many days before SOP."
    )
    calendar = models.ForeignKey(
        WorkCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="programs",
        help_text="The plant's work calendar; empty = every weekday works.",
    )
    last_scanned_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A program with gate history is archived, never deleted: its blockers, snapshots and alerts are the record
    # of the gate's decisions (sopgate.selectors.program_delete_refusals).
    archived_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Archived programs are no longer scanned nor reported on."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgramQuerySet.as_manager()

    history = HistoricalRecords(bases=[HistoricalActor], excluded_fields=["last_scanned_at", "updated_at"])

    class Meta:
        ordering = ["sop_date", "code"]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        """Code and name, the code once: "SU7 electric sedan" stays as it is, not "SU7 SU7 electric sedan"."""
        return f"{self.code} {self.name_after_code}".rstrip()

    @property
    def name_after_code(self) -> str:
        """The name without a leading code, to show beside the code: "electric sedan" of "SU7 electric sedan"."""
        first, _, rest = self.name.partition(" ")
        return rest if first == self.code else self.name


class RampStep(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="ramp_steps")
    month = models.DateField(help_text="First day of the month.", validators=PLANNING_DATE)
    planned_vehicles = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PLANNED_VEHICLES)]
    )

    history = HistoricalRecords(bases=[HistoricalActor])

    class Meta:
        ordering = ["program", "month"]
        constraints = [
            models.UniqueConstraint(fields=["program", "month"], name="ramp_step_unique_month"),
            models.CheckConstraint(condition=Q(planned_vehicles__gte=1), name="ramp_step_vehicles_positive"),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="ramp_step_month_first_day",
                violation_error_code="invalid",
                violation_error_message="Use the first day of the month.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%b %Y}: {self.planned_vehicles:,} vehicles"
