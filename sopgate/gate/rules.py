"""The gate rules of DOMAIN.md, each declared once: everything else (the scan's findings, the API's `late` filter,
the dashboard's counts, readiness, the forecast and the alert emails) takes them from here.

A rule's condition is a `Q` over one kind of object, annotated once per kind with the dates the rules compare
(`sopgate.gate.findings.kind_queryset` for a program's scan, `parts.selectors.part_dates` for the part list).
Besides the model's fields, a condition may use these names:

- every kind: `as_of` (the day evaluated), `sop` (the program's SOP date);
- parts: `effective_need_date` (need date, else SOP − part lead days), `effective_ppap_due_date` (PPAP due, else
  need − PPAP lead days), `at_risk_horizon` (as_of + at-risk days), `at_risk_from` (need − at-risk days),
  `last_update` (last supplier update, else creation), `stale_before` (the start of as_of − stale-update days),
  `interim_limit` (SOP + 90 days), `peak_run_at_rate` and `peak_demand` (run-at-rate per week and the demand of
  the ramp's peak week, both times that week's planned-vehicles denominator, so that they compare without
  division; NULL without a ramp plan), and the part's weekly verdict from the ramp week by week
  (`sopgate.gate.coverage`, computed once per scan): `capacity_short_week` (the first short ISO week, NULL when
  none), `capacity_shortfall` (units) and `capacity_short_closed` (the closed dates that week);
- checklists: `signoff_due` (SOP − sign-off days).

A rule's message is a function of the finding's named facts (`Facts`): the row's fields and the names above, with
`label`, `today` and the program's figures (`sop`, `part_lead_days`, `signoff_days`, ..., and `peak`, the
ramp's peak week: its planned vehicles and its Monday).

This module imports no model: the part list (`parts.selectors`) takes `part_late` from here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import F, Q

from parts.choices import PPAP_ACCEPTED, PPAPStatus
from validation.choices import TEST_DONE, TEST_RUNNING, TestStatus

from ..choices import ObjectType, Rule, Severity
from ..ramp import demand, week_label


class Facts(dict):
    """A finding's named facts, read as attributes: `facts.label`, `facts.promised_date`."""

    __getattr__ = dict.__getitem__


def days_text(n: int | timedelta) -> str:
    n = n.days if isinstance(n, timedelta) else n
    return f"{n} day" if abs(n) == 1 else f"{n} days"


@dataclass(frozen=True)
class GateRule:
    code: Rule
    severity: Severity
    kind: ObjectType  # the kind of object it is about; its owner is that object's (see `findings.KINDS`)
    condition: Q  # over the kind's annotated queryset (see above)
    message: Callable[[Facts], str]
    clear_by: Callable[[Facts], date | None] = lambda facts: None  # the earliest date the blocker can clear
    # Why the forecast SOP date is unknown while a blocking blocker of this rule has no date to clear by.
    unknown_forecast: str = ""
    alerts_supplier: bool = False  # supplier-caused: its alerts also go to the supplier's alert contacts
    # How the forecast names a blocker of this rule that clears last: from its label, clear-by date and program.
    forecast_driver: Callable | None = None
    # Whether its message counts days from today: its blockers are then rewritten each day, else only on a change.
    message_changes_daily: bool = True

    @property
    def blocking(self) -> bool:
        return self.severity == Severity.BLOCKING


def peak_weekly_demand(peak, qty_per_vehicle: int) -> int:
    """A part's demand in the ramp's peak week (`peak`: its planned vehicles, exact, and its Monday)."""
    return demand(peak[0], qty_per_vehicle)


# --- Parts ---------------------------------------------------------------------------------------------

OPEN_PART = Q(received_on__isnull=True)

PART_LATE = GateRule(
    Rule.PART_LATE,
    Severity.BLOCKING,
    ObjectType.PART,
    OPEN_PART
    & (
        Q(promised_date__gt=F("effective_need_date"))
        | Q(effective_need_date__lt=F("as_of"))
        | Q(promised_date__isnull=True, effective_need_date__lte=F("at_risk_horizon"))
    ),
    message=lambda f: (
        (
            f"{f.label}: no promised date, needed {f.need} ({days_text(f.today - f.need)} overdue)"
            if f.need < f.today
            else f"{f.label}: no promised date, needed {f.need} "
            f"({f'in {days_text(f.need - f.today)}' if f.need > f.today else 'today'})"
        )
        if f.promised_date is None
        else f"{f.label}: promised {f.promised_date}, needed {f.need} ({days_text(f.promised_date - f.need)} late)"
        if f.promised_date > f.need
        else f"{f.label}: promised {f.promised_date}, needed {f.need}, not received "
        f"({days_text(f.today - f.need)} overdue)"
    ),
    clear_by=lambda f: f.promised_date + timedelta(days=f.part_lead_days) if f.promised_date else None,
    unknown_forecast="is late without a promised date",
    alerts_supplier=True,
    forecast_driver=lambda label, clear_by, program: (
        f"{label} arrives {clear_by - timedelta(days=program.part_lead_days):%Y-%m-%d} "
        f"+ {days_text(program.part_lead_days)} lead"
    ),
)

RULES: tuple[GateRule, ...] = (
    GateRule(
        Rule.PART_UNSOURCED,
        Severity.BLOCKING,
        ObjectType.PART,
        Q(supplier__isnull=True),
        message_changes_daily=False,
        message=lambda f: f"{f.label}: no supplier yet, needed {f.need}",
        unknown_forecast="has no supplier",
    ),
    PART_LATE,
    GateRule(
        Rule.PART_PROMISE_MISSED,
        Severity.BLOCKING,
        ObjectType.PART,
        OPEN_PART & Q(promised_date__lt=F("as_of")),
        message=lambda f: (
            f"{f.label}: promised {f.promised_date}, not received ({days_text(f.today - f.promised_date)} ago)"
        ),
        unknown_forecast="missed its promised date",
        alerts_supplier=True,
    ),
    GateRule(
        Rule.PART_AT_RISK,
        Severity.WARNING,
        ObjectType.PART,
        OPEN_PART & ~PART_LATE.condition & Q(promised_date__gte=F("at_risk_from")),
        message_changes_daily=False,
        message=lambda f: (
            f"{f.label}: promised {f.promised_date}, needed {f.need} "
            f"(only {days_text(f.need - f.promised_date)} of margin)"
        ),
    ),
    GateRule(
        Rule.PPAP_REJECTED,
        Severity.BLOCKING,
        ObjectType.PART,
        Q(ppap_status=PPAPStatus.REJECTED),
        message_changes_daily=False,
        message=lambda f: f"{f.label}: PPAP rejected",
        alerts_supplier=True,
    ),
    GateRule(
        Rule.PPAP_OVERDUE,
        Severity.BLOCKING,
        ObjectType.PART,
        ~Q(ppap_status__in=PPAP_ACCEPTED) & Q(effective_ppap_due_date__lt=F("as_of")),
        message=lambda f: (
            f"{f.label}: PPAP {PPAPStatus(f.ppap_status).label.lower()}, due {f.ppap_due} "
            f"({days_text(f.today - f.ppap_due)} overdue)"
        ),
        alerts_supplier=True,
    ),
    GateRule(
        Rule.PPAP_INTERIM_EXPIRING,
        Severity.WARNING,
        ObjectType.PART,
        Q(ppap_status=PPAPStatus.INTERIM_APPROVED)
        & (Q(interim_expires_on__isnull=True) | Q(interim_expires_on__lt=F("interim_limit"))),
        message_changes_daily=False,
        message=lambda f: (
            f"{f.label}: interim PPAP approval has no expiry date (must hold past {f.interim_limit})"
            if f.interim_expires_on is None
            else f"{f.label}: interim PPAP approval expires {f.interim_expires_on}, before {f.interim_limit} "
            "(SOP + 90 days)"
        ),
    ),
    GateRule(
        Rule.CAPACITY_SHORTFALL,
        Severity.BLOCKING,
        ObjectType.PART,
        # Set by the scan from the ramp week by week (`coverage.program_ramp`): the first week whose cumulative
        # demand since the SOP week exceeds the cumulative capacity since then, NULL for a part that keeps up.
        Q(capacity_short_week__isnull=False),
        message_changes_daily=False,
        message=lambda f: (
            f"{f.label}: short from {f.capacity_short_week} by {f.capacity_shortfall:,} units "
            "(cumulative demand since the SOP week over cumulative capacity)"
            + (f"; closed that week: {f.capacity_short_closed}" if f.capacity_short_closed else "")
        ),
        alerts_supplier=True,
    ),
    GateRule(
        Rule.CAPACITY_UNCONFIRMED,
        Severity.WARNING,
        ObjectType.PART,
        Q(capacity_per_week__isnull=True, peak_demand__isnull=False),
        message_changes_daily=False,
        message=lambda f: f"{f.label}: supplier has not confirmed a weekly capacity for the ramp plan",
    ),
    GateRule(
        Rule.RUN_AT_RATE_MISSING,
        Severity.WARNING,
        ObjectType.PART,
        OPEN_PART
        & Q(
            supplier__isnull=False,
            capacity_per_week__isnull=False,
            run_at_rate_on__isnull=True,
            effective_ppap_due_date__lte=F("as_of"),
        ),
        message=lambda f: (
            f"{f.label}: no run at rate yet, PPAP due {f.ppap_due} ({days_text(f.today - f.ppap_due)} ago)"
            if f.ppap_due < f.today
            else f"{f.label}: no run at rate yet, PPAP due today"
        ),
        alerts_supplier=True,
    ),
    GateRule(
        Rule.RUN_AT_RATE_BELOW_DEMAND,
        Severity.BLOCKING,
        ObjectType.PART,
        # Both sides times the peak week's denominator (see `peak_demand`): rate < ⌈share × qty⌉ ⟺ rate < share × qty.
        Q(peak_run_at_rate__lt=F("peak_demand")),
        message_changes_daily=False,
        message=lambda f: (
            f"{f.label}: ran at {f.run_at_rate_per_week:,}/week on {f.run_at_rate_on}, below the peak demand of "
            f"{peak_weekly_demand(f.peak, f.qty_per_vehicle):,}/week ({week_label(f.peak[1])})"
        ),
        alerts_supplier=True,
    ),
    GateRule(
        Rule.SUPPLIER_UPDATE_STALE,
        Severity.WARNING,
        ObjectType.PART,
        OPEN_PART & Q(supplier__isnull=False, last_update__lt=F("stale_before")),
        message=lambda f: (
            f"{f.label}: no supplier update since {f.last_update_on} ({days_text(f.today - f.last_update_on)} ago, "
            f"limit {days_text(f.stale_update_days)})"
        ),
        alerts_supplier=True,
    ),
    # --- Validation tests (required for SOP) ------------------------------------------------------------
    GateRule(
        Rule.TEST_FAILED,
        Severity.BLOCKING,
        ObjectType.VALIDATION_TEST,
        Q(status=TestStatus.FAILED),
        message_changes_daily=False,
        message=lambda f: (
            f"{f.label}: failed ({f.result_note}); required for SOP"
            if f.result_note
            else f"{f.label}: failed; required for SOP"
        ),
        unknown_forecast="failed a required test",
    ),
    GateRule(
        Rule.TEST_AFTER_SOP,
        Severity.BLOCKING,
        ObjectType.VALIDATION_TEST,
        ~Q(status__in=TEST_DONE) & Q(planned_end__gt=F("sop")),
        message_changes_daily=False,
        message=lambda f: (
            f"{f.label}: planned to end {f.planned_end}, {days_text(f.planned_end - f.sop)} after SOP {f.sop}"
        ),
        clear_by=lambda f: f.planned_end,
    ),
    GateRule(
        Rule.TEST_OVERDUE,
        Severity.WARNING,
        ObjectType.VALIDATION_TEST,
        Q(status__in=TEST_RUNNING, planned_end__lt=F("as_of")),
        message=lambda f: (
            f"{f.label}: planned to end {f.planned_end} ({days_text(f.today - f.planned_end)} overdue), "
            f"still {f.status.replace('_', ' ')}"
        ),
        clear_by=lambda f: f.planned_end,
    ),
    # --- Handover items (required, not done) and checklists ---------------------------------------------
    GateRule(
        Rule.HANDOVER_ITEM_OVERDUE,
        Severity.BLOCKING,
        ObjectType.HANDOVER_ITEM,
        Q(due_date__lt=F("as_of")),
        message=lambda f: f"{f.label}: due {f.due_date} ({days_text(f.today - f.due_date)} overdue), not done",
        clear_by=lambda f: f.due_date,
    ),
    GateRule(
        Rule.HANDOVER_ITEM_AFTER_SOP,
        Severity.BLOCKING,
        ObjectType.HANDOVER_ITEM,
        Q(due_date__gt=F("sop")),
        message_changes_daily=False,
        message=lambda f: f"{f.label}: due {f.due_date}, {days_text(f.due_date - f.sop)} after SOP {f.sop}",
        clear_by=lambda f: f.due_date,
    ),
    GateRule(
        Rule.HANDOVER_UNSIGNED,
        Severity.BLOCKING,
        ObjectType.HANDOVER_CHECKLIST,
        (Q(rd_signed_off_at__isnull=True) | Q(production_signed_off_at__isnull=True)) & Q(signoff_due__lte=F("as_of")),
        message_changes_daily=False,
        message=lambda f: (
            f"{f.label}: "
            f"{' and '.join(side for side, signed in (('R&D', f.rd_signed_off_at), ('production', f.production_signed_off_at)) if not signed)}"
            f" sign-off missing, due {f.signoff_due} (SOP − {f.signoff_days} days)"
        ),
    ),
)

RULE = {rule.code.value: rule for rule in RULES}


def rules_of(kind: ObjectType) -> list[GateRule]:
    return [rule for rule in RULES if rule.kind == kind]


# --- What counts as done for readiness (DOMAIN.md), per kind -------------------------------------------------

# A part: PPAP approved, and received or promised on or before its need date (`effective_need_date`).
PART_DONE = Q(ppap_status=PPAPStatus.APPROVED) & (
    Q(received_on__isnull=False) | Q(promised_date__lte=F("effective_need_date"))
)
TEST_DONE_Q = Q(status__in=TEST_DONE)  # of the tests required for SOP
ITEM_DONE = Q(done_at__isnull=False)  # of the required handover items
