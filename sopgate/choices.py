"""Vocabularies of the gate. The values are the API contract: never rename them."""

from django.db import models


class Severity(models.TextChoices):
    BLOCKING = "blocking", "Blocking"
    WARNING = "warning", "Warning"


class Decision(models.TextChoices):
    GO = "go", "Go"
    CONDITIONAL = "conditional", "Conditional"
    NO_GO = "no_go", "No go"


class ObjectType(models.TextChoices):
    PART = "part", "Part"
    VALIDATION_TEST = "validation_test", "Validation test"
    HANDOVER_ITEM = "handover_item", "Handover item"
    HANDOVER_CHECKLIST = "handover_checklist", "Handover checklist"


class Rule(models.TextChoices):
    """The gate rules' codes and labels; each rule itself is declared in `sopgate.gate.rules`."""

    PART_UNSOURCED = "part_unsourced", "Part not sourced"
    PART_LATE = "part_late", "Part late"
    PART_AT_RISK = "part_at_risk", "Part at risk"
    PART_PROMISE_MISSED = "part_promise_missed", "Part promise missed"
    PPAP_REJECTED = "ppap_rejected", "PPAP rejected"
    PPAP_OVERDUE = "ppap_overdue", "PPAP overdue"
    PPAP_INTERIM_EXPIRING = "ppap_interim_expiring", "Interim PPAP expiring"
    CAPACITY_SHORTFALL = "capacity_shortfall", "Capacity shortfall"
    CAPACITY_UNCONFIRMED = "capacity_unconfirmed", "Capacity unconfirmed"
    RUN_AT_RATE_MISSING = "run_at_rate_missing", "Run at rate missing"
    RUN_AT_RATE_BELOW_DEMAND = "run_at_rate_below_demand", "Run at rate below demand"
    SUPPLIER_UPDATE_STALE = "supplier_update_stale", "Supplier update stale"
    TEST_FAILED = "test_failed", "Test failed"
    TEST_AFTER_SOP = "test_after_sop", "Test ends after SOP"
    TEST_OVERDUE = "test_overdue", "Test overdue"
    HANDOVER_ITEM_OVERDUE = "handover_item_overdue", "Handover item overdue"
    HANDOVER_ITEM_AFTER_SOP = "handover_item_after_sop", "Handover item due after SOP"
    HANDOVER_UNSIGNED = "handover_unsigned", "Handover not signed"


class AlertStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed permanently"
    WITHDRAWN = "withdrawn", "Not sent: resolved before it went out"
