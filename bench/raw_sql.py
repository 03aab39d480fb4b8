"""Hand-written SQL baselines (PostgreSQL), computing the same results as the ORM code being measured."""

import json
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from sopgate.gate.coverage import program_ramp

# Every rule's violations for one program in one statement: one row per violating object with a flag per rule
# (`SCAN_FLAGS`: the rules of each kind, in the order of its flags), given the ramp's figures that the scan takes
# from the ramp week by week (`scan_params`: the short parts and the peak week). `{...}` are empty here;
# SCAN_WITH_COLUMNS_SQL fills them with the columns a finding carries besides its flags.
_SCAN_TEMPLATE = """
WITH {ramp}p AS (
    SELECT pt.id, pt.supplier_id, pt.received_on, pt.promised_date, pt.ppap_status, pt.interim_expires_on,
           pt.capacity_per_week, pt.qty_per_vehicle, pt.run_at_rate_on, pt.run_at_rate_per_week,
           COALESCE(pt.need_date, %(default_need)s::date) AS need,
           COALESCE(pt.ppap_due_date, COALESCE(pt.need_date, %(default_need)s::date) - %(ppap_lead)s) AS ppap_due,
           COALESCE(pt.last_supplier_update_at, pt.created_at) AS last_update{p}
    FROM parts_part pt WHERE pt.program_id = %(program)s
), pf AS (
    SELECT id,
        supplier_id IS NULL AS unsourced,
        received_on IS NULL AND (promised_date > need OR need < %(today)s
            OR (promised_date IS NULL AND need <= %(horizon)s)) AS late,
        received_on IS NULL AND promised_date < %(today)s AS promise_missed,
        ppap_status = 'rejected' AS ppap_rejected,
        ppap_status NOT IN ('approved', 'interim_approved') AND ppap_due < %(today)s AS ppap_overdue,
        ppap_status = 'interim_approved' AND (interim_expires_on IS NULL OR interim_expires_on < %(interim_limit)s)
            AS interim_expiring,
        {short} AS shortfall,
        capacity_per_week IS NULL AND {has_peak} AS unconfirmed,
        received_on IS NULL AND supplier_id IS NOT NULL AND capacity_per_week IS NOT NULL AND run_at_rate_on IS NULL
            AND ppap_due <= %(today)s AS run_at_rate_missing,
        run_at_rate_per_week::numeric * {peak_den} < qty_per_vehicle::numeric * {peak_num}
            AS run_at_rate_below,
        received_on IS NULL AND supplier_id IS NOT NULL AND last_update < %(stale_cutoff)s AS stale,
        received_on, promised_date, need{pf}
    FROM p
), pf2 AS (
    SELECT *, received_on IS NULL AND NOT late AND promised_date IS NOT NULL
              AND promised_date >= need - %(at_risk)s AS at_risk
    FROM pf
)
SELECT 'part', id, {part}unsourced, late, promise_missed, at_risk, ppap_rejected, ppap_overdue, interim_expiring,
       shortfall, unconfirmed, run_at_rate_missing, run_at_rate_below, stale
FROM pf2
WHERE unsourced OR late OR promise_missed OR at_risk OR ppap_rejected OR ppap_overdue OR interim_expiring
   OR shortfall OR unconfirmed OR run_at_rate_missing OR run_at_rate_below OR stale
UNION ALL
SELECT 'validation_test', id, {test}status = 'failed', status NOT IN ('passed', 'waived') AND planned_end > %(sop)s,
       status IN ('planned', 'in_progress') AND planned_end < %(today)s, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL
FROM validation_validationtest
WHERE program_id = %(program)s AND required_for_sop
  AND (status = 'failed' OR (status NOT IN ('passed', 'waived') AND planned_end > %(sop)s)
       OR (status IN ('planned', 'in_progress') AND planned_end < %(today)s))
UNION ALL
SELECT 'handover_item', i.id, {item}i.due_date < %(today)s, i.due_date > %(sop)s, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL
FROM validation_handoveritem i JOIN validation_handoverchecklist c ON c.id = i.checklist_id
WHERE c.program_id = %(program)s AND i.required AND i.done_at IS NULL AND (i.due_date < %(today)s OR i.due_date > %(sop)s)
UNION ALL
SELECT 'handover_checklist', id, {checklist}TRUE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM validation_handoverchecklist
WHERE program_id = %(program)s AND %(signoff_due)s AND (rd_signed_off_at IS NULL OR production_signed_off_at IS NULL)
"""

# The rules each kind's flags stand for, in their order (the last `FLAGS` columns of a row).
SCAN_FLAGS = {
    "part": (
        "part_unsourced",
        "part_late",
        "part_promise_missed",
        "part_at_risk",
        "ppap_rejected",
        "ppap_overdue",
        "ppap_interim_expiring",
        "capacity_shortfall",
        "capacity_unconfirmed",
        "run_at_rate_missing",
        "run_at_rate_below_demand",
        "supplier_update_stale",
    ),
    "validation_test": ("test_failed", "test_after_sop", "test_overdue"),
    "handover_item": ("handover_item_overdue", "handover_item_after_sop"),
    "handover_checklist": ("handover_unsigned",),
}
FLAGS = len(SCAN_FLAGS["part"])

# The ramp's figures as parameters, from the same Python as the scan's (`scan_params`).
_RAMP_PARAMETERS = {
    "ramp": "",
    "short": "id = ANY(%(short)s::bigint[])",
    "has_peak": "%(has_peak)s",
    "peak_num": "%(peak_num)s::numeric",
    "peak_den": "%(peak_den)s::numeric",
}
SCAN_SQL = _SCAN_TEMPLATE.format(**_RAMP_PARAMETERS, p="", pf="", part="", test="", item="", checklist="")

# The same, each row also carrying what a finding does: label, owner, supplier and the dates, status and
# figures its messages name (14 columns, NULL where a kind has none; a short part's week, units and closed dates
# as one JSON value). Not a target: it shows how much of `scan` is those columns (see docs/PERFORMANCE.md).
SCAN_WITH_COLUMNS_SQL = _SCAN_TEMPLATE.format(
    **_RAMP_PARAMETERS,
    p=", pt.name || ' ' || pt.part_number || ' rev ' || pt.revision AS label, pt.owner_id AS owner,"
    " CASE WHEN pt.received_on IS NULL THEN CAST(COALESCE(pt.last_supplier_update_at, pt.created_at) AS TEXT)"
    " END AS last_text, %(short_facts)s::jsonb -> pt.id::text AS short_facts",
    pf=", label, owner, supplier_id, ppap_due, ppap_status, interim_expires_on, capacity_per_week, qty_per_vehicle,"
    " last_text, run_at_rate_on, run_at_rate_per_week, short_facts",
    part="label, owner, supplier_id, promised_date, need, ppap_due, ppap_status, interim_expires_on,"
    " capacity_per_week, qty_per_vehicle, last_text, run_at_rate_on, run_at_rate_per_week, short_facts, ",
    test="'Test ' || code || ' ' || name, owner_id, NULL::int, planned_end, NULL::date, NULL::date, status,"
    " NULL::date, NULL::int, NULL::int, result_note, NULL::date, NULL::int, NULL::jsonb, ",
    item="c.area || ': ' || i.title, i.responsible_id, NULL::int, i.due_date, NULL::date, NULL::date, NULL,"
    " NULL::date, NULL::int, NULL::int, NULL, NULL::date, NULL::int, NULL::jsonb, ",
    checklist="area, rd_owner_id, NULL::int, NULL::date, NULL::date, NULL::date, NULL, NULL::date, NULL::int,"
    " NULL::int, NULL, NULL::date, NULL::int, NULL::jsonb, ",
)


def scan_params(program, today: date) -> dict:
    """The statement's parameters: the program's dates, and the ramp's figures from the ramp week by week, worked
    out by the same Python as the scan's (`program_ramp`: its four queries and the weekly arithmetic; measured on
    its own by the `ramp_coverage` case): the parts short in some week (with what their findings state) and the
    peak week's planned vehicles, exact (numerator and denominator; NULL without a ramp week)."""
    weeks = program_ramp(program)
    short = weeks.short_facts()
    peak = weeks.peak
    return {
        **scan_dates(program, today),
        "short": list(short),
        "short_facts": json.dumps(short),
        "has_peak": peak is not None,
        "peak_num": peak[0].numerator if peak else None,
        "peak_den": peak[0].denominator if peak else None,
    }


def scan_dates(program, today: date) -> dict:
    return {
        "program": program.pk,
        "today": today,
        "sop": program.sop_date,
        "default_need": program.sop_date - timedelta(days=program.part_lead_days),
        "ppap_lead": program.ppap_lead_days,
        "horizon": today + timedelta(days=program.at_risk_days),
        "at_risk": program.at_risk_days,
        "interim_limit": program.sop_date + timedelta(days=90),
        "stale_cutoff": timezone.make_aware(
            datetime.combine(today - timedelta(days=program.stale_update_days), time.min)
        ),
        "signoff_due": program.sop_date - timedelta(days=program.signoff_days) <= today,
    }


def scan_raw(params: dict, sql: str = SCAN_SQL) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def scan_keys(rows: list[tuple]) -> set[tuple[str, int, str]]:
    """(kind, object id, rule) of every violation in the statement's rows."""
    return {
        (row[0], row[1], rule)
        for row in rows
        for rule, flag in zip(SCAN_FLAGS[row[0]], row[-FLAGS:], strict=False)
        if flag
    }


# --- The ramp week by week ------------------------------------------------------------------------------------
# `sopgate.gate.coverage.program_ramp(program).coverage()` in one statement. Planned vehicles are kept exact as
# integers scaled by RAMP_SCALE, the least common multiple of every month's possible working days (1 to 31): a
# day of a month with n working days adds vehicles × RAMP_SCALE / n, an integer, and the rounding up divides once.
RAMP_SCALE = 72201776446800  # lcm(1, ..., 31)

# The CTEs every ramp statement shares: `weeks` (Mondays and planned vehicles × RAMP_SCALE) and `part_weeks` (per
# sourced part with a known capacity and week: its capacity, rounded down; every part with one where
# `__SUPPLIERS__` is a LEFT JOIN).
_RAMP_CTES = """
program AS (
    SELECT id, sop_date, calendar_id FROM sopgate_program WHERE id = %(program)s
), steps AS (
    SELECT month, planned_vehicles, LEAD(month) OVER (ORDER BY month) AS next_month
    FROM sopgate_rampstep WHERE program_id = %(program)s
), plan AS (  -- vehicles per month: each step holds until the next one's month
    SELECT m::date AS month, s.planned_vehicles AS vehicles
    FROM steps s, generate_series(s.month::timestamp, COALESCE(s.next_month - 1, s.month)::timestamp, '1 month') m
), bounds AS (
    SELECT p.sop_date - (EXTRACT(ISODOW FROM p.sop_date)::int - 1) AS first_monday, MIN(plan.month) AS first_month,
           (MAX(plan.month) + interval '1 month')::date - 1 AS last_day
    FROM program p, plan GROUP BY p.sop_date
), calendars AS (  -- key 0: no calendar, Monday to Friday
    SELECT 0 AS id, ARRAY[1, 2, 3, 4, 5] AS weekdays, '{}'::date[] AS closed
    UNION ALL
    SELECT c.id, ARRAY(SELECT jsonb_array_elements_text(c.working_weekdays)::int),
           ARRAY(SELECT jsonb_array_elements_text(c.closed_dates)::date)
    FROM sopgate_workcalendar c
    WHERE c.id IN (SELECT calendar_id FROM program UNION SELECT s.calendar_id FROM parts_supplier s
                   JOIN parts_part pt ON pt.supplier_id = s.id WHERE pt.program_id = %(program)s)
), plant AS (
    SELECT c.* FROM program p JOIN calendars c ON c.id = COALESCE(p.calendar_id, 0)
), plant_days AS (
    SELECT d::date AS day, date_trunc('month', d)::date AS month
    FROM bounds, plant, generate_series(LEAST(first_month, first_monday)::timestamp, last_day::timestamp, '1 day') d
    WHERE EXTRACT(ISODOW FROM d)::int = ANY(plant.weekdays) AND d::date <> ALL(plant.closed)
), month_days AS (
    SELECT month, count(*) AS n FROM plant_days GROUP BY month
), weeks AS (
    SELECT w::date AS monday,
           COALESCE((SELECT SUM(plan.vehicles * (%(scale)s::bigint / md.n)::numeric)
                     FROM plant_days pd JOIN plan ON plan.month = pd.month JOIN month_days md ON md.month = pd.month
                     WHERE pd.day BETWEEN w::date AND w::date + 6), 0) AS scaled
    FROM bounds, generate_series(first_monday::timestamp, last_day::timestamp, '7 days') w
), worked AS (  -- per calendar and day of the ramp's weeks (and the day after): the working days before it
    SELECT c.id AS calendar, cardinality(c.weekdays) AS per_day, d::date AS day,
           count(*) FILTER (WHERE EXTRACT(ISODOW FROM d)::int = ANY(c.weekdays) AND d::date <> ALL(c.closed))
               OVER (PARTITION BY c.id ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
    FROM calendars c, bounds,
         generate_series(first_monday::timestamp, ((SELECT MAX(monday) FROM weeks) + 7)::timestamp, '1 day') d
), parts AS (  -- sourced parts with a known capacity, the calendar they are made by and their run-at-rate cap
    SELECT pt.id, pt.qty_per_vehicle, pt.capacity_per_week, COALESCE(s.calendar_id, p.calendar_id, 0) AS calendar,
           CASE WHEN pt.run_at_rate_per_week IS NOT NULL THEN COALESCE(pt.run_at_rate_on, 'infinity') ELSE 'infinity' END
               AS capped_from, pt.run_at_rate_per_week AS cap
    FROM parts_part pt __SUPPLIERS__ parts_supplier s ON s.id = pt.supplier_id JOIN program p ON p.id = pt.program_id
    WHERE pt.capacity_per_week IS NOT NULL OR EXISTS (SELECT FROM parts_capacityline l WHERE l.part_id = pt.id)
), lines AS (  -- each line from its day until the next; a part without a plan: its one figure all along
    SELECT l.part_id, l.effective_from AS since,
           COALESCE(LEAD(l.effective_from) OVER (PARTITION BY l.part_id ORDER BY l.effective_from), 'infinity') AS until,
           l.capacity_per_week AS per_week
    FROM parts_capacityline l JOIN parts ON parts.id = l.part_id
    UNION ALL
    SELECT id, '-infinity', 'infinity', capacity_per_week FROM parts
    WHERE NOT EXISTS (SELECT FROM parts_capacityline l WHERE l.part_id = parts.id)
), periods AS (  -- [since, until) at one weekly rate: each line before the run at rate, and capped from it on
    SELECT p.id, p.calendar, l.since, LEAST(l.until, p.capped_from) AS until, l.per_week
    FROM parts p JOIN lines l ON l.part_id = p.id WHERE l.since < p.capped_from
    UNION ALL
    SELECT p.id, p.calendar, GREATEST(l.since, p.capped_from), l.until, LEAST(l.per_week, p.cap)
    FROM parts p JOIN lines l ON l.part_id = p.id WHERE l.until > p.capped_from
), flat AS (  -- the parts made at one rate all along
    SELECT id FROM periods GROUP BY id HAVING count(*) = 1 AND MIN(since) = '-infinity' AND MAX(until) = 'infinity'
), calendar_weeks AS (  -- each calendar's working days per week
    SELECT a.calendar, a.per_day, w.monday, b.before - a.before AS days
    FROM weeks w JOIN worked a ON a.day = w.monday JOIN worked b ON b.calendar = a.calendar AND b.day = w.monday + 7
), made AS (  -- the others per week: each period's rate × the working days of the week in it ÷ working weekdays
    SELECT pd.id, w.monday, div(SUM(pd.per_week * (b.before - a.before)), NULLIF(MIN(a.per_day), 0))::bigint AS capacity
    FROM periods pd JOIN weeks w ON pd.since < w.monday + 7 AND pd.until > w.monday
    JOIN worked a ON a.calendar = pd.calendar AND a.day = GREATEST(pd.since, w.monday)
    JOIN worked b ON b.calendar = pd.calendar AND b.day = LEAST(pd.until, w.monday + 7)
    WHERE pd.id NOT IN (SELECT id FROM flat)
    GROUP BY pd.id, w.monday
), part_weeks AS (
    SELECT p.id, p.qty_per_vehicle, cw.monday, COALESCE(p.capacity_per_week * cw.days / NULLIF(cw.per_day, 0), 0) AS capacity
    FROM parts p JOIN calendar_weeks cw ON cw.calendar = p.calendar WHERE p.id IN (SELECT id FROM flat)
    UNION ALL  -- a week before the first line: nothing made
    SELECT p.id, p.qty_per_vehicle, w.monday, COALESCE(m.capacity, 0)
    FROM parts p CROSS JOIN weeks w LEFT JOIN made m ON m.id = p.id AND m.monday = w.monday
    WHERE p.id NOT IN (SELECT id FROM flat)
)"""

RAMP_COVERAGE_SQL = f"""
WITH {_RAMP_CTES.replace("__SUPPLIERS__", "JOIN")}, ranked AS (
    SELECT *, capacity / qty_per_vehicle AS vehicles,
           MIN(capacity / qty_per_vehicle) OVER (PARTITION BY monday) AS least
    FROM part_weeks
), bottleneck AS (
    SELECT r.monday, r.least, r.capacity, r.qty_per_vehicle, pt.id, pt.part_number, pt.revision
    FROM ranked r JOIN parts_part pt ON pt.id = r.id WHERE r.vehicles = r.least
)
SELECT w.monday, to_char(w.monday, 'IYYY-"W"IW'), div(w.scaled + %(scale)s - 1, %(scale)s)::int, MIN(b.least),
       COALESCE(json_agg(json_build_object('part', b.id, 'part_number', b.part_number, 'revision', b.revision,
                                           'capacity', b.capacity,
                                           'demand', div(w.scaled * b.qty_per_vehicle + %(scale)s - 1, %(scale)s))
                         ORDER BY b.part_number COLLATE "C", b.revision COLLATE "C") FILTER (WHERE b.id IS NOT NULL),
                '[]')
FROM weeks w LEFT JOIN bottleneck b ON b.monday = w.monday
GROUP BY w.monday, w.scaled ORDER BY w.monday
"""


def ramp_coverage_raw(program) -> list[tuple]:
    """Per ramp week: its Monday, ISO label, planned and achievable vehicles, and the bottleneck parts (JSON)."""
    with connection.cursor() as cursor:
        cursor.execute(RAMP_COVERAGE_SQL, {"program": program.pk, "scale": RAMP_SCALE})
        return cursor.fetchall()


# --- The scan with the ramp in SQL ------------------------------------------------------------------------------
# Not a case: SCAN_SQL with the ramp's figures worked out by the statement itself (`_RAMP_CTES` over every part
# with a capacity, sourced or not, as the gate's: per part the first week whose cumulative demand exceeds its
# cumulative capacity; the peak week), the alternative to the Python arithmetic that docs/PERFORMANCE.md compares.
SCAN_RAMP_IN_SQL = _SCAN_TEMPLATE.format(
    ramp=_RAMP_CTES.replace("__SUPPLIERS__", "LEFT JOIN")
    + """, behind AS (
    SELECT pw.id, pw.monday,
           SUM(div(w.scaled * pw.qty_per_vehicle + %(scale)s - 1, %(scale)s) - pw.capacity)
               OVER (PARTITION BY pw.id ORDER BY pw.monday) AS units
    FROM part_weeks pw JOIN weeks w ON w.monday = pw.monday
), short AS (
    SELECT DISTINCT ON (id) id, monday, units FROM behind WHERE units > 0 ORDER BY id, monday
), peak AS (
    SELECT scaled FROM weeks ORDER BY scaled DESC, monday LIMIT 1
), """,
    short="id IN (SELECT id FROM short)",
    has_peak="EXISTS (SELECT FROM peak)",
    peak_num="(SELECT scaled FROM peak)",
    peak_den="%(scale)s::numeric",
    p="",
    pf="",
    part="",
    test="",
    item="",
    checklist="",
)


def scan_ramp_in_sql_params(program, today: date) -> dict:
    """`SCAN_RAMP_IN_SQL`'s parameters: the program's dates, and no figure of the ramp's."""
    return {**scan_dates(program, today), "scale": RAMP_SCALE}
