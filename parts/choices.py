"""Vocabularies of the parts app. The values are the API contract: never rename them."""

from django.db import models


class PPAPStatus(models.TextChoices):
    NOT_SUBMITTED = "not_submitted", "Not submitted"
    SUBMITTED = "submitted", "Submitted"
    INTERIM_APPROVED = "interim_approved", "Interim approved"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


# PPAP states that satisfy the due date (the part may ship).
PPAP_ACCEPTED = frozenset({PPAPStatus.APPROVED, PPAPStatus.INTERIM_APPROVED})
# PPAP states that only the customer (an engineer) may set; suppliers may not.
PPAP_CUSTOMER_DECISIONS = frozenset({PPAPStatus.APPROVED, PPAPStatus.INTERIM_APPROVED, PPAPStatus.REJECTED})


class ToolingStage(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    SOFT_TOOL = "soft_tool", "Soft tool"
    PRODUCTION_TOOL = "production_tool", "Production tool"
    OFF_TOOL_SAMPLES = "off_tool_samples", "Off-tool samples"


class Criticality(models.TextChoices):
    SAFETY = "safety", "Safety"
    CRITICAL = "critical", "Critical"
    STANDARD = "standard", "Standard"


PPAP_LEVELS = (1, 2, 3, 4, 5)
DEFAULT_PPAP_LEVEL = 3


class EvidenceKind(models.TextChoices):
    PPAP_WARRANT = "ppap_warrant", "PPAP warrant"
    RUN_AT_RATE = "run_at_rate", "Run-at-rate report"
    TEST_REPORT = "test_report", "Test report"
    OTHER = "other", "Other"
