"""Suppliers, the parts they deliver and the append-only log of what they reported."""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import get_valid_filename
from simple_history.models import HistoricalRecords

from sopgate.history import HistoricalActor
from sopgate.validators import MAX_QTY_PER_VEHICLE, PLANNING_DATE, person_field

from .choices import DEFAULT_PPAP_LEVEL, Criticality, EvidenceKind, PPAPStatus, ToolingStage

# Longest note a supplier update keeps: a paragraph or two of explanation. The log is append-only and readable
# by the supplier and every engineer; documents belong in evidence files.
SUPPLIER_UPDATE_NOTE_MAX_LENGTH = 2000

CODE_VALIDATOR = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "Use letters, digits, '.', '_' or '-'.")


def _alert_emails_validator(value) -> None:
    from django.core.validators import validate_email

    if not isinstance(value, list):
        raise ValidationError("Enter a list of email addresses.")
    for email in value:
        if not isinstance(email, str):
            raise ValidationError("Each alert contact must be an email address.")
        validate_email(email)


class Supplier(models.Model):
    code = models.CharField(max_length=32, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166 alpha-2 code in capitals, e.g. DE.")],
        help_text="ISO 3166 alpha-2 code, e.g. DE.",
    )
    alert_emails = models.JSONField(default=list, blank=True, validators=[_alert_emails_validator])
    is_active = models.BooleanField(default=True)
    calendar = models.ForeignKey(
        "sopgate.WorkCalendar",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="suppliers",
        help_text="The supplier's work calendar; empty = the plant's (the program's).",
    )

    history = HistoricalRecords(bases=[HistoricalActor])

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SupplierUser(models.Model):
    """Links a login to the one supplier it speaks for; a user belongs to at most one supplier."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="supplier_membership"
    )
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="members")

    class Meta:
        verbose_name = "supplier user"

    def __str__(self) -> str:
        return f"{self.user} @ {self.supplier.code}"


class Part(models.Model):
    program = models.ForeignKey("sopgate.Program", on_delete=models.CASCADE, related_name="parts")
    part_number = models.CharField(max_length=64)
    revision = models.CharField(max_length=16, default="A")
    name = models.CharField(max_length=200)
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.PROTECT, related_name="parts")
    owner = person_field(related_name="owned_parts")
    criticality = models.CharField(max_length=16, choices=Criticality.choices, default=Criticality.STANDARD)
    qty_per_vehicle = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_QTY_PER_VEHICLE)]
    )
    need_date = models.DateField(
        null=True, blank=True, validators=PLANNING_DATE, help_text="Empty = SOP minus the program's part lead days."
    )
    promised_date = models.DateField(
        null=True, blank=True, validators=PLANNING_DATE, help_text="Supplier-committed arrival of PPAP-conform parts."
    )
    received_on = models.DateField(null=True, blank=True, validators=PLANNING_DATE)
    ppap_status = models.CharField(
        "PPAP status", max_length=20, choices=PPAPStatus.choices, default=PPAPStatus.NOT_SUBMITTED
    )
    ppap_level = models.PositiveSmallIntegerField(
        "PPAP level", default=DEFAULT_PPAP_LEVEL, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    ppap_due_date = models.DateField(
        "PPAP due date",
        null=True,
        blank=True,
        validators=PLANNING_DATE,
        help_text="Empty = need date minus the program's PPAP lead days.",
    )
    interim_expires_on = models.DateField(null=True, blank=True, validators=PLANNING_DATE)
    tooling_stage = models.CharField(max_length=20, choices=ToolingStage.choices, default=ToolingStage.NOT_STARTED)
    capacity_per_week = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Supplier-confirmed capacity: the capacity plan's line in force today, where the part has one.",
    )
    run_at_rate_on = models.DateField(
        "run at rate on", null=True, blank=True, validators=PLANNING_DATE, help_text="When the supplier ran at rate."
    )
    run_at_rate_per_week = models.PositiveIntegerField(
        "run-at-rate per week",
        null=True,
        blank=True,
        help_text="The rate demonstrated; caps the capacity the gate counts from the run-at-rate date on.",
    )
    last_supplier_update_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # History is read per part (by id) and by date; an index per copied foreign key would only slow down the
    # writes, which copy a history row for every changed part (500 for a batch of supplier updates). For the same
    # reason the actor is not a database constraint: PostgreSQL checks a foreign key with a query per row written
    # (at commit, as Django defers them); the 1,500 checks of a 500-item supplier batch took 9 ms. The actor is the
    # request's user; deleting a user through Django still sets it to null (SET_NULL; tested in
    # tests/parts/test_services.py). A user deleted outside Django leaves the id behind: reads of the actor join
    # it (select_related) and show none.
    history = HistoricalRecords(
        bases=[HistoricalActor], no_db_index=["program", "supplier", "owner"], user_db_constraint=False
    )

    class Meta:
        ordering = ["program", "part_number", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["program", "part_number", "revision"], name="part_unique_number_revision"),
            models.CheckConstraint(condition=Q(qty_per_vehicle__gte=1), name="part_qty_per_vehicle_positive"),
            models.CheckConstraint(condition=Q(ppap_level__gte=1, ppap_level__lte=5), name="part_ppap_level_1_to_5"),
            models.CheckConstraint(
                condition=Q(capacity_per_week__isnull=True) | Q(capacity_per_week__gte=0),
                name="part_capacity_not_negative",
            ),
            models.CheckConstraint(condition=Q(ppap_status__in=PPAPStatus.values), name="part_ppap_status_valid"),
            models.CheckConstraint(condition=Q(criticality__in=Criticality.values), name="part_criticality_valid"),
            models.CheckConstraint(condition=Q(tooling_stage__in=ToolingStage.values), name="part_tooling_stage_valid"),
        ]
        indexes = [
            models.Index(fields=["program", "supplier"], name="part_program_supplier_idx"),
            models.Index(fields=["program", "need_date"], name="part_program_need_idx"),
            models.Index(fields=["supplier", "part_number"], name="part_supplier_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.part_number} rev {self.revision}"


class SupplierUpdate(models.Model):
    """What a supplier reported for one part, by whom and when. Rows are never changed or deleted."""

    # No index of its own: update_part_time_idx (part, reported_at) serves every look-up by part. A part with
    # updates is not deleted (nor its program): the log is append-only, also against a cascade.
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="supplier_updates", db_index=False)
    # The supplier the update belongs to: the part's supplier when it was reported (for a supplier user, its own).
    # A supplier reads its own updates by this, also after the part moved to another supplier. Empty for an
    # engineer's update to an unsourced part. No index of its own: update_supplier_time_idx serves it.
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.PROTECT, related_name="supplier_updates", db_index=False
    )
    # Not a database constraint, like the actor of a part's history row (see Part.history).
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    # The reporter's username as it was at the time: what the log shows, also once the user row is gone.
    reported_by_username = models.CharField("reported by (username)", max_length=150, blank=True)
    reported_at = models.DateTimeField()
    promised_date = models.DateField(null=True, blank=True, validators=PLANNING_DATE)
    ppap_status = models.CharField(max_length=20, choices=PPAPStatus.choices, blank=True)
    capacity_per_week = models.PositiveIntegerField(null=True, blank=True)
    tooling_stage = models.CharField(max_length=20, choices=ToolingStage.choices, blank=True)
    run_at_rate_on = models.DateField(null=True, blank=True, validators=PLANNING_DATE)
    run_at_rate_per_week = models.PositiveIntegerField(null=True, blank=True)
    note = models.TextField(
        blank=True,
        max_length=SUPPLIER_UPDATE_NOTE_MAX_LENGTH,
        validators=[MaxLengthValidator(SUPPLIER_UPDATE_NOTE_MAX_LENGTH)],
    )

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ppap_status="") | Q(ppap_status__in=PPAPStatus.values), name="update_ppap_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(tooling_stage="") | Q(tooling_stage__in=ToolingStage.values),
                name="update_tooling_stage_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["part", "reported_at"], name="update_part_time_idx"),
            # A supplier's own updates, newest first, and how many it stored today (its daily limit).
            models.Index(fields=["supplier", "reported_at"], name="update_supplier_time_idx"),
        ]

    def __str__(self) -> str:
        return f"Update to {self.part_id} at {self.reported_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Supplier updates are append-only.")
        # Stored as they are when the update is made (the services fill them in bulk the same way).
        if self.supplier_id is None and self.part_id is not None:
            self.supplier_id = Part.objects.filter(pk=self.part_id).values_list("supplier_id", flat=True).first()
        if not self.reported_by_username and self.reported_by is not None:
            self.reported_by_username = self.reported_by.get_username()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Supplier updates are append-only.")


class CapacityLine(models.Model):
    """One line of a part's capacity plan: from `effective_from` on (until the next line), the supplier can make
    `capacity_per_week`, as reported by whom and when. Written through `parts.capacity.capacity_lines_apply`, which
    keeps the part's `capacity_per_week` at the line in force today; a line posted again for the same day
    replaces it."""

    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="capacity_lines", db_index=False)
    effective_from = models.DateField(validators=PLANNING_DATE)
    capacity_per_week = models.PositiveIntegerField()
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    reported_by_username = models.CharField("reported by (username)", max_length=150, blank=True)
    reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["part", "effective_from"]
        constraints = [
            # Also the index every read by part uses.
            models.UniqueConstraint(fields=["part", "effective_from"], name="capacity_line_unique_day"),
            models.CheckConstraint(condition=Q(capacity_per_week__gte=0), name="capacity_line_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.capacity_per_week:,}/week from {self.effective_from}"


class IdempotencyRecord(models.Model):
    """The first successful response to a POST that carried an `Idempotency-Key` header, per user and key.

    A retry of the same request with the same key gets this response back and stores nothing again; the same
    key with a different body is refused. Written in the same transaction as the request's own changes.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # JSON as text, not jsonb: a replay answers with the keys in the order the first response had them.
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_once_per_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"


def evidence_path(instance: "StoredEvidence", filename: str) -> str:
    """<the record's folder>/<random>/<name>: a folder per owner (a store's access rules can follow it), and a random
    folder so that two files of one name never meet and no path can be guessed. The stored name is cut to 120 bytes
    (keeping its extension) so that a long or non-Latin name fits a file system's 255; the record keeps it whole."""
    name = get_valid_filename(filename)
    suffix = Path(name).suffix[:16]
    stem = name[: len(name) - len(suffix)] if suffix else name
    while len((stem + suffix).encode()) > 120:
        stem = stem[:-1]
    return f"{instance.evidence_folder()}/{uuid.uuid4().hex}/{stem or 'file'}{suffix}"


class StoredEvidence(models.Model):
    """A file kept as proof through Django's storage API (a local folder, or an S3-compatible store by setting), with
    who added it and when. Added, never changed. What it proves is the concrete model's: a part's `EvidenceFile`,
    a handover item's file (validation). Added through `services.evidence_file_keep`, which applies the limits."""

    file = models.FileField(upload_to=evidence_path, max_length=400)
    name = models.CharField(max_length=255, help_text="The file's name as it was uploaded.")
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    uploaded_by_username = models.CharField(max_length=150, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def evidence_folder(self) -> str:
        raise NotImplementedError


class EvidenceFile(StoredEvidence):
    """A file that proves something about a part (a PPAP warrant, a run-at-rate report, a test report)."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="files")
    kind = models.CharField(max_length=20, choices=EvidenceKind.choices, default=EvidenceKind.OTHER)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=EvidenceKind.values), name="evidence_kind_valid")]
        indexes = [models.Index(fields=["part", "uploaded_at"], name="evidence_part_time_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def evidence_folder(self) -> str:
        """evidence/<supplier code>/<part id>: one folder per supplier."""
        owner = self.part.supplier.code if self.part.supplier_id else "unsourced"
        return f"evidence/{owner}/{self.part_id}"
