"""Hand-written SQL baselines (PostgreSQL), computing the same results as the ORM code being measured."""

from calendar import monthrange
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from sopgate.models import RampStep


def peak_demand(program):
    """The ramp step with the highest vehicles per day, as (days in its month, vehicles): the monthly capacity
    check this baseline still makes (the gate's weekly one is measured by the `ramp_coverage` case)."""
    steps = [
        (monthrange(month.year, month.month)[1], vehicles)
        for month, vehicles in RampStep.objects.filter(program=program).values_list("month", "planned_vehicles")
    ]
    return max(steps, key=lambda step: step[1] / step[0], default=None)


# Every rule's violations for one program in one statement: one row per violating object with a flag per rule.
# `{...}` are empty here; SCAN_WITH_COLUMNS_SQL fills them with the columns a finding carries besides its flags.
_SCAN_TEMPLATE = """
WITH p AS (
    SELECT pt.id, pt.supplier_id, pt.received_on, pt.promised_date, pt.ppap_status, pt.interim_expires_on,
           pt.capacity_per_week, pt.qty_per_vehicle,
           COALESCE(pt.need_date, %(default_need)s::date) AS need,
           COALESCE(pt.ppap_due_date, COALESCE(pt.need_date, %(default_need)s::date) - %(ppap_lead)s) AS ppap_due,
           COALESCE(pt.last_supplier_update_at, pt.created_at) AS last_update{p}
    FROM parts_part pt WHERE pt.program_id = %(program)s
), pf AS (
    SELECT id,
        supplier_id IS NULL AS unsourced,
        received_on IS NULL AND (promised_date > need OR need < %(today)s
            OR (promised_date IS NULL AND need <= %(horizon)s)) AS late,
        ppap_status = 'rejected' AS ppap_rejected,
        ppap_status NOT IN ('approved', 'interim_approved') AND ppap_due < %(today)s AS ppap_overdue,
        ppap_status = 'interim_approved' AND (interim_expires_on IS NULL OR interim_expires_on < %(interim_limit)s)
            AS interim_expiring,
        capacity_per_week IS NOT NULL AND %(has_peak)s
            AND capacity_per_week * %(peak_days)s < qty_per_vehicle * %(peak_vehicles7)s AS shortfall,
        capacity_per_week IS NULL AND %(has_peak)s AS unconfirmed,
        received_on IS NULL AND supplier_id IS NOT NULL AND last_update < %(stale_cutoff)s AS stale,
        received_on, promised_date, need{pf}
    FROM p
), pf2 AS (
    SELECT *, received_on IS NULL AND NOT late AND promised_date IS NOT NULL
              AND promised_date >= need - %(at_risk)s AS at_risk
    FROM pf
)
SELECT 'part', id, {part}unsourced, late, at_risk, ppap_rejected, ppap_overdue, interim_expiring, shortfall, unconfirmed, stale
FROM pf2
WHERE unsourced OR late OR at_risk OR ppap_rejected OR ppap_overdue OR interim_expiring OR shortfall OR unconfirmed OR stale
UNION ALL
SELECT 'test', id, {test}status = 'failed', status NOT IN ('passed', 'waived') AND planned_end > %(sop)s,
       status IN ('planned', 'in_progress') AND planned_end < %(today)s, NULL, NULL, NULL, NULL, NULL, NULL
FROM validation_validationtest
WHERE program_id = %(program)s AND required_for_sop
  AND (status = 'failed' OR (status NOT IN ('passed', 'waived') AND planned_end > %(sop)s)
       OR (status IN ('planned', 'in_progress') AND planned_end < %(today)s))
UNION ALL
SELECT 'item', i.id, {item}i.due_date < %(today)s, i.due_date > %(sop)s, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM validation_handoveritem i JOIN validation_handoverchecklist c ON c.id = i.checklist_id
WHERE c.program_id = %(program)s AND i.required AND i.done_at IS NULL AND (i.due_date < %(today)s OR i.due_date > %(sop)s)
UNION ALL
SELECT 'checklist', id, {checklist}TRUE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM validation_handoverchecklist
WHERE program_id = %(program)s AND %(signoff_due)s AND (rd_signed_off_at IS NULL OR production_signed_off_at IS NULL)
"""


SCAN_SQL = _SCAN_TEMPLATE.format(p="", pf="", part="", test="", item="", checklist="")

# The same, each row also carrying what a finding does: label, owner, supplier and the dates, status and
# figures its messages name (11 columns, NULL where a kind has none). Not a target: it shows how much of `scan`
# is those columns (see docs/PERFORMANCE.md).
SCAN_WITH_COLUMNS_SQL = _SCAN_TEMPLATE.format(
    p=", pt.name || ' ' || pt.part_number || ' rev ' || pt.revision AS label, pt.owner_id AS owner,"
    " CASE WHEN pt.received_on IS NULL THEN CAST(COALESCE(pt.last_supplier_update_at, pt.created_at) AS TEXT)"
    " END AS last_text",
    pf=", label, owner, supplier_id, ppap_due, ppap_status, interim_expires_on, capacity_per_week, qty_per_vehicle,"
    " last_text",
    part="label, owner, supplier_id, promised_date, need, ppap_due, ppap_status, interim_expires_on,"
    " capacity_per_week, qty_per_vehicle, last_text, ",
    test="'Test ' || code || ' ' || name, owner_id, NULL::int, planned_end, NULL::date, NULL::date, status,"
    " NULL::date, NULL::int, NULL::int, result_note, ",
    item="c.area || ': ' || i.title, i.responsible_id, NULL::int, i.due_date, NULL::date, NULL::date, NULL,"
    " NULL::date, NULL::int, NULL::int, NULL, ",
    checklist="area, rd_owner_id, NULL::int, NULL::date, NULL::date, NULL::date, NULL, NULL::date, NULL::int,"
    " NULL::int, NULL, ",
)


def scan_params(program, today: date) -> dict:
    peak = peak_demand(program)
    return {
        "program": program.pk,
        "today": today,
        "sop": program.sop_date,
        "default_need": program.sop_date - timedelta(days=program.part_lead_days),
        "ppap_lead": program.ppap_lead_days,
        "horizon": today + timedelta(days=program.at_risk_days),
        "at_risk": program.at_risk_days,
        "interim_limit": program.sop_date + timedelta(days=90),
        "has_peak": peak is not None,
        "peak_days": peak[0] if peak else 1,
        "peak_vehicles7": peak[1] * 7 if peak else 0,
        "stale_cutoff": timezone.make_aware(
            datetime.combine(today - timedelta(days=program.stale_update_days), time.min)
        ),
        "signoff_due": program.sop_date - timedelta(days=program.signoff_days) <= today,
    }


def scan_raw(params: dict, sql: str = SCAN_SQL) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def count_violations(rows: list[tuple]) -> int:
    return sum(1 for row in rows for flag in row[2:] if flag)
