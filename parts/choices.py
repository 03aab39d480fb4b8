"""Vocabularies of the parts app. The values are the API contract: never rename them. The labels are translated
for the suppliers' portal (portal/)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PPAPStatus(models.TextChoices):
    NOT_SUBMITTED = "not_submitted", _("Not submitted")
    SUBMITTED = "submitted", _("Submitted")
    INTERIM_APPROVED = "interim_approved", _("Interim approved")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


# PPAP states that satisfy the due date (the part may ship).
PPAP_ACCEPTED = frozenset({PPAPStatus.APPROVED, PPAPStatus.INTERIM_APPROVED})
# PPAP states that only the customer (an engineer) may set; suppliers may not.
PPAP_CUSTOMER_DECISIONS = frozenset({PPAPStatus.APPROVED, PPAPStatus.INTERIM_APPROVED, PPAPStatus.REJECTED})


class ToolingStage(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    SOFT_TOOL = "soft_tool", _("Soft tool")
    PRODUCTION_TOOL = "production_tool", _("Production tool")
    OFF_TOOL_SAMPLES = "off_tool_samples", _("Off-tool samples")


class Criticality(models.TextChoices):
    SAFETY = "safety", _("Safety")
    CRITICAL = "critical", _("Critical")
    STANDARD = "standard", _("Standard")


PPAP_LEVELS = (1, 2, 3, 4, 5)
DEFAULT_PPAP_LEVEL = 3


class EvidenceKind(models.TextChoices):
    PPAP_WARRANT = "ppap_warrant", _("PPAP warrant")
    RUN_AT_RATE = "run_at_rate", _("Run-at-rate report")
    TEST_REPORT = "test_report", _("Test report")
    OTHER = "other", _("Other")
