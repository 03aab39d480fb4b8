"""The gate rules as SQL: one condition per rule, named after it, assembled into one statement per kind.

`{part.need_date}` in a condition is a column, named through the model's _meta so that a renamed field
breaks the scan loudly instead of silently. The statements run on PostgreSQL and SQLite alike: dates are
compared with per-program constants computed in Python (`statement_params`), and the one per-row date
offset goes through `_minus_days`.
"""

from datetime import date, datetime, time, timedelta
from functools import cache

from django.db import connection
from django.utils import timezone

from parts.choices import PPAP_ACCEPTED, PPAPStatus
from parts.models import Part
from validation.choices import TEST_DONE, TEST_RUNNING, TestStatus
from validation.models import HandoverChecklist, HandoverItem, ValidationTest

from ..choices import Rule
from ..models import Program, RampStep

# --- The rules ---------------------------------------------------------------------------------------
#
# `{part.need_date}` is a column, `{need}` a shorthand defined just above the rules (and
# `{need_minus_at_risk_days}`, written per database by `_minus_days`), `{part_late}` another rule's
# condition, `{rejected}` a choice value, `%(today)s` a parameter (see `statement_params`).
# NULL counts as false.

PART_TERMS = {
    "open": "{part.received_on} IS NULL",
    "need": "COALESCE({part.need_date}, %(default_need_date)s)",
    # As text: the database driver turns text into a datetime ten times faster than it reads a timestamp.
    "last_update_text": "CAST(COALESCE({part.last_supplier_update_at}, {part.created_at}) AS TEXT)",
}
PART_RULES = {
    Rule.PART_UNSOURCED: "{part.supplier} IS NULL",
    Rule.PART_LATE: (
        "{open} AND ({part.promised_date} > {need} OR {need} < %(today)s"
        " OR ({part.promised_date} IS NULL AND {need} <= %(at_risk_horizon)s))"
    ),
    Rule.PART_AT_RISK: (
        "NOT {part_late} AND {open} AND {part.promised_date} IS NOT NULL"
        " AND {part.promised_date} >= {need_minus_at_risk_days}"
    ),
    Rule.PPAP_REJECTED: "{part.ppap_status} = {rejected}",
    # PPAP due < today, where a missing due date is need - ppap_lead_days, i.e. need < today + ppap_lead_days.
    Rule.PPAP_OVERDUE: (
        "{part.ppap_status} NOT IN ({accepted})"
        " AND COALESCE({part.ppap_due_date} < %(today)s, {need} < %(ppap_need_before)s)"
    ),
    Rule.PPAP_INTERIM_EXPIRING: (
        "{part.ppap_status} = {interim_approved}"
        " AND ({part.interim_expires_on} IS NULL OR {part.interim_expires_on} < %(interim_limit)s)"
    ),
    # Against the peak month of the ramp plan (`{peak_days}` is NULL without a plan; see PEAK_SQL).
    # capacity < ceil(demand) <=> capacity < demand for whole units; compared without division, in 64 bits
    # (a capacity of a few million a week times 31 days overflows 32 and PostgreSQL would refuse the scan).
    Rule.CAPACITY_SHORTFALL: (
        "{peak_days} IS NOT NULL AND {part.capacity_per_week} IS NOT NULL"
        " AND CAST({part.capacity_per_week} AS BIGINT) * {peak_days}"
        " < CAST({part.qty_per_vehicle} AS BIGINT) * {peak_vehicles_times_7}"
    ),
    Rule.CAPACITY_UNCONFIRMED: "{peak_days} IS NOT NULL AND {part.capacity_per_week} IS NULL",
    Rule.SUPPLIER_UPDATE_STALE: (
        "{open} AND {part.supplier} IS NOT NULL"
        " AND COALESCE({part.last_supplier_update_at}, {part.created_at}) < %(stale_before)s"
    ),
}

TEST_RULES = {
    Rule.TEST_FAILED: "{test.status} = {failed}",
    Rule.TEST_AFTER_SOP: "{test.status} NOT IN ({done}) AND {test.planned_end} > %(sop)s",
    Rule.TEST_OVERDUE: "{test.status} IN ({running}) AND {test.planned_end} < %(today)s",
}

ITEM_RULES = {
    Rule.HANDOVER_ITEM_OVERDUE: "{item.due_date} < %(today)s",
    Rule.HANDOVER_ITEM_AFTER_SOP: "{item.due_date} > %(sop)s",
}

# Each statement selects the objects of one program that violate some rule, with `{rules}`: one bit per rule
# violated, in the order of the rules above (see `bits`).

PART_SQL = """
SELECT {part.id}, {part.name} || ' ' || {part.part_number} || ' rev ' || {part.revision}, {part.owner},
       {part.supplier}, {part.qty_per_vehicle}, {part.promised_date}, {part.need_date}, {part.ppap_due_date},
       {part.ppap_status}, {part.interim_expires_on}, {part.capacity_per_week},
       CASE WHEN {supplier_update_stale} THEN {last_update_text} END,
       {rules}
FROM {part.table}
WHERE {part.program} = %(program)s AND ({any_rule})"""

TEST_SQL = """
SELECT {test.id}, 'Test ' || {test.code} || ' ' || {test.name}, {test.owner}, {test.planned_end}, {test.status},
       {test.result_note}, {rules}
FROM {test.table}
WHERE {test.program} = %(program)s AND {test.required_for_sop} AND ({any_rule})"""

ITEM_SQL = """
SELECT {item.id}, {checklist.area} || ': ' || {item.title}, {item.responsible}, {item.due_date}, {rules}
FROM {item.table} JOIN {checklist.table} ON {checklist.id} = {item.checklist}
WHERE {checklist.program} = %(program)s AND {item.required} AND {item.done_at} IS NULL AND ({any_rule})"""

CHECKLIST_SQL = """
SELECT {checklist.id}, {checklist.area}, {checklist.rd_owner}, {checklist.production_owner},
       {checklist.rd_signed_off_at} IS NULL, {checklist.production_signed_off_at} IS NULL
FROM {checklist.table}
WHERE {checklist.program} = %(program)s
  AND ({checklist.rd_signed_off_at} IS NULL OR {checklist.production_signed_off_at} IS NULL)"""

RAMP_SQL = """
SELECT {ramp.month}, {ramp.planned_vehicles} FROM {ramp.table} WHERE {ramp.program} = %(program)s"""

# One figure of the ramp step with the most vehicles a day, as a subquery that the database runs once per
# statement; of steps with equal vehicles a day, the latest, as `peak_demand` picks it in Python for the
# messages. The two figures come from two subqueries: both must pick the same step.
PEAK_SQL = """(
SELECT {figure} FROM {step.table} WHERE {step.program} = %(program)s
ORDER BY {step.planned_vehicles} * 1.0 / {days_in_month} DESC, {step.month} DESC LIMIT 1)"""


# --- Assembling the statements -------------------------------------------------------------------------


class Columns:
    """`{part.need_date}`: the quoted column of a model field, qualified by the table's alias (bare without
    one); `{part.table}`: the quoted table and its alias. An unknown field name raises FieldDoesNotExist.
    The dashboard's statements (`sopgate.dashboard.sql`) name their columns with it too."""

    def __init__(self, model, alias: str = ""):
        self._model, self._alias = model, alias

    def __getattr__(self, name: str) -> str:
        quote = connection.ops.quote_name
        if name == "table":
            return f"{quote(self._model._meta.db_table)} {self._alias}".rstrip()
        column = quote(self._model._meta.get_field(name).column)
        return f"{self._alias}.{column}" if self._alias else column


def sql_strings(values) -> str:
    # Choice values are plain identifiers; checked anyway, since they are written into the statement.
    assert all(str(v).replace("_", "").isalnum() for v in values), values
    return ", ".join(f"'{v}'" for v in sorted(values))


def _minus_days(expression: str, days_parameter: str) -> str:
    """`expression - n days` for a date expression: PostgreSQL subtracts an integer from a date natively,
    SQLite needs its date() modifier (the parameter `<name>_modifier` holds "-n days")."""
    if connection.vendor == "sqlite":
        return f"date({expression}, %({days_parameter}_modifier)s)"
    return f"({expression} - %({days_parameter})s)"


def _days_in_month(month: str) -> str:
    """The number of days in the month starting on the date `month`."""
    if connection.vendor == "sqlite":
        return f"CAST(julianday({month}, '+1 month') - julianday({month}) AS INTEGER)"
    return f"(CAST({month} + INTERVAL '1 month' AS DATE) - {month})"


def bits(rules: dict) -> dict[str, int]:
    return {rule: 1 << n for n, rule in enumerate(rules)}


def _with_rules(select: str, rules: dict[str, str], names: dict) -> str:
    """`select` with its rule conditions: `{rules}`, the bits of the rules violated, and `{any_rule}`.

    A rule may use the rules before it by name (`{part_late}`), and `select` any rule. A rule written
    "NOT {earlier} AND rest" is an alternative to the earlier rule: it shares the earlier rule's CASE
    (WHEN earlier THEN its bit WHEN rest THEN this bit), and `{any_rule}` names only its rest (E OR (NOT E
    AND R) is E OR R), so the database evaluates the earlier condition once per row instead of twice."""
    names = dict(names)
    alternatives = {}  # earlier rule -> (rule, its condition without "NOT {earlier} AND")
    for rule, template in rules.items():
        names[rule] = f"({template.format_map(names)})"
        for earlier in rules:
            prefix = f"NOT {{{earlier}}} AND "
            if earlier != rule and template.startswith(prefix):
                alternatives[earlier] = (rule, f"({template.removeprefix(prefix).format_map(names)})")
    bit_of, rests = bits(rules), dict(alternatives.values())
    flags = []
    for rule, bit in bit_of.items():
        if rule in alternatives:
            other, rest = alternatives[rule]
            flags.append(f"CASE WHEN {names[rule]} THEN {bit} WHEN {rest} THEN {bit_of[other]} ELSE 0 END")
        elif rule not in rests:
            flags.append(f"CASE WHEN {names[rule]} THEN {bit} ELSE 0 END")
    any_rule = " OR ".join(rests.get(rule, names[rule]) for rule in rules)
    return select.format_map({**names, "rules": " + ".join(flags), "any_rule": any_rule})


@cache
def _statements(vendor: str) -> dict[str, str]:
    names = {
        "part": Columns(Part, "p"),
        "test": Columns(ValidationTest, "t"),
        "item": Columns(HandoverItem, "i"),
        "checklist": Columns(HandoverChecklist, "c"),
        "ramp": Columns(RampStep, "r"),
        "rejected": sql_strings([PPAPStatus.REJECTED]),
        "interim_approved": sql_strings([PPAPStatus.INTERIM_APPROVED]),
        "accepted": sql_strings(PPAP_ACCEPTED),
        "failed": sql_strings([TestStatus.FAILED]),
        "done": sql_strings(TEST_DONE),
        "running": sql_strings(TEST_RUNNING),
    }
    for term, template in PART_TERMS.items():
        names[term] = template.format_map(names)
    names["need_minus_at_risk_days"] = _minus_days(names["need"], "at_risk_days")
    step = Columns(RampStep, "peak")
    days = _days_in_month(step.month)
    names["peak_days"] = PEAK_SQL.format(step=step, days_in_month=days, figure=days)
    names["peak_vehicles_times_7"] = PEAK_SQL.format(
        step=step, days_in_month=days, figure=f"CAST({step.planned_vehicles} AS BIGINT) * 7"
    )
    return {
        "part": _with_rules(PART_SQL, PART_RULES, names),
        "test": _with_rules(TEST_SQL, TEST_RULES, names),
        "item": _with_rules(ITEM_SQL, ITEM_RULES, names),
        "checklist": CHECKLIST_SQL.format_map(names),
        "ramp": RAMP_SQL.format_map(names),
    }


def default_need_date(program: Program) -> date:
    return program.sop_date - timedelta(days=program.part_lead_days)


def interim_limit(program: Program) -> date:
    """An interim PPAP approval must hold until 90 days after SOP."""
    return program.sop_date + timedelta(days=90)


def statement_params(program: Program, today: date) -> dict:
    """The parameters of the statements: the program's dates and limits as of `today`."""
    ops = connection.ops
    day = ops.adapt_datefield_value
    return {
        "program": program.pk,
        "today": day(today),
        "sop": day(program.sop_date),
        "default_need_date": day(default_need_date(program)),
        "at_risk_horizon": day(today + timedelta(days=program.at_risk_days)),
        "at_risk_days": program.at_risk_days,
        "at_risk_days_modifier": f"-{program.at_risk_days} days",
        "ppap_need_before": day(today + timedelta(days=program.ppap_lead_days)),
        "interim_limit": day(interim_limit(program)),
        "stale_before": ops.adapt_datetimefield_value(
            timezone.make_aware(datetime.combine(today - timedelta(days=program.stale_update_days), time.min))
        ),
    }


def rows(kind: str, params: dict) -> list[tuple]:
    """Run one of the statements: `part`, `test`, `item`, `checklist` or `ramp`."""
    return batch([kind], params)[0]


def batch(kinds: list[str], params: dict) -> list[list[tuple]]:
    """Run several of the statements with the same parameters; their rows, in the order asked, unordered
    within a statement. On PostgreSQL the statements go in one round trip: the driver binds the parameters
    on the client (Django's default) and the server returns one result set per statement. SQLite, and
    PostgreSQL with server-side binding (which takes one statement at a time), run them one by one."""
    statements = _statements(connection.vendor)
    one_round_trip = connection.vendor == "postgresql" and not connection.settings_dict["OPTIONS"].get(
        "server_side_binding"
    )
    with connection.cursor() as cursor:
        if not one_round_trip:
            results = []
            for kind in kinds:
                cursor.execute(statements[kind], params)
                results.append(cursor.fetchall())
            return results
        cursor.execute(";\n".join(statements[kind] for kind in kinds), params)
        results = [cursor.fetchall()]
        while cursor.nextset():
            results.append(cursor.fetchall())
        return results
