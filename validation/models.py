"""Validation tests and the R&D-to-production handover checklists."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from parts.models import StoredEvidence
from sopgate.history import HistoricalActor
from sopgate.validators import NOT_A_SUPPLIER_USER, PLANNING_DATE, person_field

from .choices import TestPhase, TestStatus


class ValidationTest(models.Model):
    program = models.ForeignKey("sopgate.Program", on_delete=models.CASCADE, related_name="validation_tests")
    part = models.ForeignKey(
        "parts.Part", null=True, blank=True, on_delete=models.SET_NULL, related_name="validation_tests"
    )
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    phase = models.CharField(max_length=16, choices=TestPhase.choices)
    owner = person_field(related_name="owned_tests")
    planned_start = models.DateField(null=True, blank=True, validators=PLANNING_DATE)
    planned_end = models.DateField(null=True, blank=True, validators=PLANNING_DATE)
    status = models.CharField(max_length=16, choices=TestStatus.choices, default=TestStatus.PLANNED)
    required_for_sop = models.BooleanField("required for SOP", default=True)
    result_note = models.TextField(blank=True, help_text="What the test found; required when it failed.")
    completed_on = models.DateField(
        null=True, blank=True, validators=PLANNING_DATE, help_text="Required when it passed; not in the future."
    )
    waiver_reason = models.TextField(blank=True, help_text="Why the test is waived; a launch manager waives it.")

    history = HistoricalRecords(bases=[HistoricalActor])

    class Meta:
        ordering = ["program", "code"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="test_unique_code"),
            models.CheckConstraint(condition=Q(phase__in=TestPhase.values), name="test_phase_valid"),
            models.CheckConstraint(condition=Q(status__in=TestStatus.values), name="test_status_valid"),
            # The messages are what an engineer sees in the admin form when a constraint refuses the row.
            models.CheckConstraint(
                condition=~Q(status=TestStatus.WAIVED) | ~Q(waiver_reason=""),
                name="test_waiver_needs_reason",
                violation_error_message="Waiver reason: a waived test needs a reason.",
            ),
            models.CheckConstraint(
                condition=Q(planned_start__isnull=True)
                | Q(planned_end__isnull=True)
                | Q(planned_end__gte=F("planned_start")),
                name="test_planned_end_after_start",
                violation_error_message="Planned end: must not be before the planned start.",
            ),
        ]
        indexes = [models.Index(fields=["program", "status"], name="test_program_status_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        super().clean()
        if self.part_id is not None and self.program_id is not None and self.part.program_id != self.program_id:
            raise ValidationError(
                {"part": f"Part {self.part} belongs to another program; a test and its part share one."}
            )


class HandoverChecklist(models.Model):
    program = models.ForeignKey("sopgate.Program", on_delete=models.CASCADE, related_name="handover_checklists")
    area = models.CharField(max_length=120)
    rd_owner = person_field(verbose_name="R&D owner")
    production_owner = person_field()
    # People an owner named to sign their side in their place (e.g. while away); never the other side's signer.
    rd_delegates = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        limit_choices_to=NOT_A_SUPPLIER_USER,
        verbose_name="R&D delegates",
        help_text="May sign off the R&D side in the R&D owner's place.",
    )
    production_delegates = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        limit_choices_to=NOT_A_SUPPLIER_USER,
        help_text="May sign off the production side in the production owner's place.",
    )
    rd_signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="R&D signed off by",
    )
    rd_signed_off_at = models.DateTimeField("R&D signed off at", null=True, blank=True)
    production_signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    production_signed_off_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(bases=[HistoricalActor])

    class Meta:
        ordering = ["program", "area"]
        constraints = [models.UniqueConstraint(fields=["program", "area"], name="checklist_unique_area")]

    def __str__(self) -> str:
        return f"Handover {self.area}"

    @property
    def rd_signed_off(self) -> bool:
        return self.rd_signed_off_at is not None

    @property
    def production_signed_off(self) -> bool:
        return self.production_signed_off_at is not None


class HandoverItem(models.Model):
    checklist = models.ForeignKey(HandoverChecklist, on_delete=models.CASCADE, related_name="items")
    title = models.CharField(max_length=200)
    responsible = person_field()
    due_date = models.DateField(null=True, blank=True, validators=PLANNING_DATE)
    required = models.BooleanField(default=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    evidence = models.TextField(blank=True, help_text="Link or reference proving the item is done.")

    history = HistoricalRecords(bases=[HistoricalActor])

    class Meta:
        ordering = ["checklist", "due_date", "id"]
        indexes = [models.Index(fields=["checklist", "required", "done_at"], name="item_checklist_open_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def done(self) -> bool:
        return self.done_at is not None


class HandoverItemFile(StoredEvidence):
    """A file that proves a handover item done (a released work instruction, a training record, a signed list):
    with its text `evidence`, what a required item needs before it is marked done."""

    item = models.ForeignKey(HandoverItem, on_delete=models.PROTECT, related_name="files")

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["item", "uploaded_at"], name="item_file_item_time_idx")]

    def __str__(self) -> str:
        return self.name

    def evidence_folder(self) -> str:
        """handover/<checklist id>/<item id>: apart from the suppliers' folders."""
        return f"handover/{self.item.checklist_id}/{self.item_id}"
