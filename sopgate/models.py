"""The gate's own records: blockers, snapshots and the outboxes. Django loads an app's models from here, so the
program and its ramp plan (`sopgate.programs`, the base the other apps build on) are imported here too."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import AlertStatus, Decision, ObjectType, Rule, Severity
from .programs import Program, RampStep, WorkCalendar

__all__ = [
    "Alert",
    "Blocker",
    "DigestDelivery",
    "Program",
    "RampStep",
    "ReadinessSnapshot",
    "ScanRequest",
    "WorkCalendar",
]


def _choices_check(field: str, choices) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}), name=f"%(app_label)s_%(class)s_{field}_valid"
    )


class Blocker(models.Model):
    """A stored finding of the gate, opened, refreshed and resolved by the scan."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="blockers")
    rule = models.CharField(max_length=32, choices=Rule.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    object_type = models.CharField(max_length=32, choices=ObjectType.choices)
    object_id = models.BigIntegerField()
    object_label = models.CharField(max_length=300)
    message = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    co_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    supplier = models.ForeignKey(
        "parts.Supplier", null=True, blank=True, on_delete=models.SET_NULL, related_name="blockers"
    )
    clear_by = models.DateField(
        null=True, blank=True, help_text="Earliest date this blocker can clear; empty = unknown."
    )
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # A finding that came back after its blocker had resolved: within REOPEN_QUIET_HOURS the same blocker reopens
    # without a second alert; later it is a new blocker marked reopened, and its alert says so.
    reopened_at = models.DateTimeField(null=True, blank=True, help_text="When this finding last came back.")
    # The scan's hash of what it stored (sopgate.gate.findings.Finding.fingerprint): a re-scan compares it instead
    # of reading every message back. Empty for rows written otherwise; the next scan rewrites those once.
    fingerprint = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-opened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "object_type", "object_id"],
                condition=Q(resolved_at__isnull=True),
                name="blocker_one_open_per_rule_object",
            ),
            _choices_check("rule", Rule),
            _choices_check("severity", Severity),
            _choices_check("object_type", ObjectType),
        ]
        indexes = [
            models.Index(fields=["program", "resolved_at"], name="blocker_program_open_idx"),
            models.Index(fields=["object_type", "object_id"], name="blocker_object_idx"),
            # A re-scan sums the fingerprints of the program's open blockers: an index-only scan with this
            # (PostgreSQL; SQLite has no covering indexes and gets the partial index alone).
            models.Index(
                fields=["program"],
                include=["fingerprint"],
                condition=Q(resolved_at__isnull=True),
                name="blocker_open_fingerprints",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule}: {self.object_label}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ReadinessSnapshot(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="snapshots")
    date = models.DateField()
    decision = models.CharField(max_length=16, choices=Decision.choices)
    readiness_pct = models.DecimalField(max_digits=5, decimal_places=1)
    blocking_count = models.PositiveIntegerField()
    warning_count = models.PositiveIntegerField()
    counts = models.JSONField(default=dict)
    forecast_sop_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["program", "date"]
        constraints = [
            models.UniqueConstraint(fields=["program", "date"], name="snapshot_one_per_program_day"),
            _choices_check("decision", Decision),
        ]

    def __str__(self) -> str:
        return f"{self.program_id} {self.date}: {self.decision}"


class ScanRequest(models.Model):
    """Outbox of pending re-scans: one row per program with unscanned changes, written with the change."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, primary_key=True, related_name="scan_request")
    requested_at = models.DateTimeField(default=timezone.now, help_text="Time of the latest change.")
    changes = models.PositiveIntegerField(
        default=1, help_text="Changes since the last scan; a scan deletes the row only if none came in meanwhile."
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"scan of program {self.program_id} requested {self.requested_at:%Y-%m-%d %H:%M:%S}"


class Alert(models.Model):
    """One immediate email about one blocker to one recipient; the unique key makes duplicates impossible."""

    blocker = models.ForeignKey(Blocker, on_delete=models.CASCADE, related_name="alerts")
    recipient = models.EmailField()
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "recipient"], name="alert_once_per_blocker_recipient"),
            _choices_check("status", AlertStatus),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="alert_due_idx")]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.blocker}"


class DigestDelivery(models.Model):
    """Bookkeeping that makes the daily digest go out at most once per person and day."""

    recipient = models.EmailField()
    date = models.DateField()
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "digest deliveries"
        ordering = ["-date", "recipient"]
        constraints = [models.UniqueConstraint(fields=["recipient", "date"], name="digest_once_per_recipient_day")]

    def __str__(self) -> str:
        return f"digest {self.date} to {self.recipient}"
