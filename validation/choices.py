"""Vocabularies of the validation app. The values are the API contract: never rename them."""

from django.db import models


class TestPhase(models.TextChoices):
    DV = "dv", "Design verification"
    PV = "pv", "Production validation"
    HOMOLOGATION = "homologation", "Homologation"


class TestStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    WAIVED = "waived", "Waived"


# A required test in one of these states no longer stands in the way of SOP.
TEST_DONE = frozenset({TestStatus.PASSED, TestStatus.WAIVED})
# A test in one of these states is still expected to finish by its planned end.
TEST_RUNNING = frozenset({TestStatus.PLANNED, TestStatus.IN_PROGRESS})


class SignOffSide(models.TextChoices):
    RD = "rd", "R&D"
    PRODUCTION = "production", "Production"
