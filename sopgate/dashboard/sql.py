"""The program page's reads as hand-written SQL, run raw through one cursor.

The page runs a dozen aggregate queries per request; compiling them through the ORM (resolving expressions,
filters and joins anew each time) cost about as much as running them. These statements are assembled once per
database vendor and take plain parameters. As in `sopgate.rules.sql`, `{part.need_date}` is a column named
through the model's _meta (a renamed field fails loudly), per-program dates are computed in Python
(`page_params`), and the statements run on PostgreSQL and SQLite alike: conditions are counted with
CASE rather than FILTER, the one timestamp-to-date conversion is written by the backend itself, and the one
date difference (a blocker's days open, `DAYS_SINCE`) is written out for each of the two.
"""

from collections.abc import Sequence
from datetime import date
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from parts.choices import PPAPStatus
from parts.models import Supplier

from ..choices import Rule, Severity
from ..models import Blocker, Program, ReadinessSnapshot
from ..rows import columns_of
from ..rules.sql import PART_RULES, PART_TERMS, Columns, program_params, results_of, sql_strings, tables

# --- Terms ---------------------------------------------------------------------------------------------
#
# Named conditions a statement uses as `{name}`; each may use columns and the terms above it. `%(today)s` and
# the like are parameters (see `page_params`). NULL counts as false.

TERMS = {
    # The need date (a part without one is needed the part lead time before SOP) and the part_late rule, as
    # the gate's rules write them (`sopgate.rules.sql`).
    "open": PART_TERMS["open"],
    "need": PART_TERMS["need"],
    "part_late": PART_RULES[Rule.PART_LATE],
    # Done for readiness, as `program_readiness` counts it (`selectors.part_done_q`).
    "part_done": (
        "{part.ppap_status} = {approved} AND ({part.received_on} IS NOT NULL OR {part.promised_date} <= {need})"
    ),
    "part_stale": (
        "{part.received_on} IS NULL AND COALESCE({part.last_supplier_update_at}, {part.created_at}) < %(stale_before)s"
    ),
    # A settled promise: the part arrived, or its promised date passed without it; kept if it came in time.
    "promise_due": (
        "{part.promised_date} IS NOT NULL AND ({part.received_on} IS NOT NULL OR {part.promised_date} < %(today)s)"
    ),
    "promise_kept": "{promise_due} AND {part.received_on} <= {part.promised_date}",
    "item_done": "{item.required} AND {item.done_at} IS NOT NULL",
    "item_overdue": "{item.required} AND {item.done_at} IS NULL AND {item.due_date} < %(today)s",
}

# --- Statements ------------------------------------------------------------------------------------------

STATEMENTS = {
    "trend": """
SELECT {snapshot.date}, {snapshot.decision}, {snapshot.readiness_pct}, {snapshot.blocking_count},
       {snapshot.warning_count}, {snapshot.forecast_sop_date}
FROM {snapshot.table}
WHERE {snapshot.program} = %(program)s
ORDER BY {snapshot.date} DESC
LIMIT %(trend_days)s""",
    "ppap": """
SELECT {part.ppap_status}, COUNT(*), COUNT(CASE WHEN {part_done} THEN 1 END)
FROM {part.table}
WHERE {part.program} = %(program)s
GROUP BY {part.ppap_status}""",
    "ramp": """
SELECT {ramp.month}, {ramp.planned_vehicles} FROM {ramp.table} WHERE {ramp.program} = %(program)s
ORDER BY {ramp.month}""",
    # The tightest confirmed part: fewest vehicles a week its capacity supports.
    "bottleneck": """
SELECT {part.name} || ' ' || {part.part_number} || ' rev ' || {part.revision}, {part.part_number}, {supplier.code},
       {part.capacity_per_week}, {part.qty_per_vehicle}, {part.capacity_per_week} / {part.qty_per_vehicle} AS per_week
FROM {part.table} LEFT JOIN {supplier.table} ON {supplier.id} = {part.supplier}
WHERE {part.program} = %(program)s AND {part.capacity_per_week} IS NOT NULL
ORDER BY per_week, {part.part_number}, {part.id}
LIMIT 1""",
    "tests": """
SELECT {test.phase}, {test.status}, COUNT(*)
FROM {test.table}
WHERE {test.program} = %(program)s AND {test.required_for_sop}
GROUP BY {test.phase}, {test.status}""",
    "handover": """
SELECT {checklist.id}, {checklist.area},
       {checklist.rd_signed_off_at} IS NOT NULL, {checklist.production_signed_off_at} IS NOT NULL,
       COUNT(CASE WHEN {item.required} THEN 1 END), COUNT(CASE WHEN {item_done} THEN 1 END),
       COUNT(CASE WHEN {item_overdue} THEN 1 END)
FROM {checklist.table} LEFT JOIN {item.table} ON {item.checklist} = {checklist.id}
WHERE {checklist.program} = %(program)s
GROUP BY {checklist.id}, {checklist.area}, {checklist.rd_signed_off_at}, {checklist.production_signed_off_at}
ORDER BY {checklist.area}, {checklist.id}""",
    # Per supplier of the program: parts, late, stale, settled and kept promises, open blocking and warning
    # blockers; worst first (late parts stop the line, then broken promises, then silence, then other open
    # blockers), so suppliers with none of these come last.
    "suppliers": """
SELECT {supplier.id}, {supplier.code}, {supplier.name}, sp.parts, sp.late, sp.stale, sp.promises_due,
       sp.promises_kept, COALESCE(sb.blocking, 0) AS blocking, COALESCE(sb.warnings, 0) AS warnings
FROM (
    SELECT {part.supplier} AS supplier_id, COUNT(*) AS parts, COUNT(CASE WHEN {part_late} THEN 1 END) AS late,
           COUNT(CASE WHEN {part_stale} THEN 1 END) AS stale,
           COUNT(CASE WHEN {promise_due} THEN 1 END) AS promises_due,
           COUNT(CASE WHEN {promise_kept} THEN 1 END) AS promises_kept
    FROM {part.table}
    WHERE {part.program} = %(program)s AND {part.supplier} IS NOT NULL
    GROUP BY {part.supplier}
) sp
JOIN {supplier.table} ON {supplier.id} = sp.supplier_id
LEFT JOIN (
    SELECT {blocker.supplier} AS supplier_id, COUNT(CASE WHEN {blocker.severity} = {blocking} THEN 1 END) AS blocking,
           COUNT(CASE WHEN {blocker.severity} = {warning} THEN 1 END) AS warnings
    FROM {blocker.table}
    WHERE {blocker.program} = %(program)s AND {blocker.resolved_at} IS NULL AND {blocker.supplier} IS NOT NULL
    GROUP BY {blocker.supplier}
) sb ON sb.supplier_id = sp.supplier_id
ORDER BY sp.late DESC, sp.promises_kept - sp.promises_due, sp.stale DESC, blocking DESC, warnings DESC,
         {supplier.code}""",
    # Open blockers to show: every blocking one, the oldest `%(shown)s` of each warning rule, and the one that
    # clears last (the forecast needs it), as `gate.BlockerRow`s: with days open as of %(today)s and the owners'
    # names as `report.blocker_age_days` and `report.blocker_owners` give them, then each one's place in its
    # rule, oldest first, and the rule's total.
    "gate": """
SELECT b.id, b.rule, b.severity, b.object_type, b.object_id, b.object_label, b.message, b.clear_by,
       {age_days}, COALESCE({owner_name} || ' & ' || {co_owner_name}, {owner_name}, {co_owner_name}, 'unassigned'),
       b.position, b.rule_total
FROM (
    SELECT {blocker.id} AS id, {blocker.rule} AS rule, {blocker.severity} AS severity,
           {blocker.object_type} AS object_type, {blocker.object_id} AS object_id,
           {blocker.object_label} AS object_label, {blocker.message} AS message, {blocker.clear_by} AS clear_by,
           {opened_on} AS opened_on, {blocker.opened_at} AS opened_at,
           {blocker.owner} AS owner_id, {blocker.co_owner} AS co_owner_id,
           ROW_NUMBER() OVER (PARTITION BY {blocker.rule} ORDER BY {blocker.opened_at}, {blocker.id}) AS position,
           COUNT(*) OVER (PARTITION BY {blocker.rule}) AS rule_total
    FROM {blocker.table}
    WHERE {blocker.program} = %(program)s AND {blocker.resolved_at} IS NULL
) b
LEFT JOIN {user.table} o ON o.{user.id} = b.owner_id
LEFT JOIN {user.table} co ON co.{user.id} = b.co_owner_id
WHERE b.severity = {blocking} OR b.position <= %(shown)s OR b.id = (
    SELECT {last.id} FROM {last.table}
    WHERE {last.program} = %(program)s AND {last.resolved_at} IS NULL AND {last.clear_by} > %(sop)s
    ORDER BY {last.clear_by} DESC, {last.id} DESC
    LIMIT 1
)
ORDER BY b.severity, b.rule, b.opened_at, b.id""",
}

# One count per ramp month `{n}`, joined into the capacity statement (see `capacity`); in 64 bits, like the
# capacity_shortfall rule, so that a large capacity times 31 days does not overflow.
CAPACITY_SQL = """
SELECT COUNT(*), COUNT(CASE WHEN {part.capacity_per_week} IS NULL THEN 1 END),
       MIN({part.capacity_per_week} / {part.qty_per_vehicle}){covered}
FROM {part.table}
WHERE {part.program} = %(program)s"""
COVERED = (
    "COUNT(CASE WHEN CAST({part.capacity_per_week} AS BIGINT) * %(days_{n})s"
    " >= CAST({part.qty_per_vehicle} AS BIGINT) * %(vehicles_times_7_{n})s THEN 1 END)"
)


# --- Assembling and running ----------------------------------------------------------------------------


def _local_date(column: str, tzname: str) -> tuple[str, dict]:
    """The local date of a timestamp column as the backend writes it for TruncDate, with named parameters."""
    sql, params = connection.ops.datetime_cast_date_sql(column, (), tzname)
    names = [f"local_date_{n}" for n in range(len(params))]
    return sql % tuple(f"%({name})s" for name in names), dict(zip(names, params, strict=True))


# `report.person` of a joined user `{a}`: the full name, else the username; NULL without a user.
PERSON = "NULLIF(COALESCE(NULLIF(TRIM({a}.{first} || ' ' || {a}.{last}), ''), {a}.{username}), '')"


def _person(alias: str) -> str:
    """`PERSON` of the user joined as `alias`."""
    user = Columns(get_user_model())
    return PERSON.format(a=alias, first=user.first_name, last=user.last_name, username=user.username)


# Whole days from the date `{earlier}` to the date `{later}`, none if negative, as each backend does date arithmetic.
DAYS_SINCE = {
    "postgresql": "GREATEST({later} - {earlier}, 0)",
    "sqlite": "MAX(CAST(julianday({later}) - julianday({earlier}) AS INTEGER), 0)",
}


def _names() -> dict:
    names = {
        **tables(),  # part, test, item, checklist, ramp: named and aliased as in the gate's statements
        "supplier": Columns(Supplier, "s"),
        "blocker": Columns(Blocker, "b0"),
        "last": Columns(Blocker, "b1"),
        "snapshot": Columns(ReadinessSnapshot, "rs"),
        "user": Columns(get_user_model()),  # joined twice: aliased in the statement
        "approved": sql_strings([PPAPStatus.APPROVED]),
        "blocking": sql_strings([Severity.BLOCKING]),
        "warning": sql_strings([Severity.WARNING]),
    }
    for term, template in TERMS.items():
        names[term] = f"({template.format_map(names)})"
    for name, alias in (("owner_name", "o"), ("co_owner_name", "co")):  # the gate statement's joins
        names[name] = _person(alias)
    return names


@cache
def _statements(vendor: str, tzname: str) -> tuple[dict[str, str], dict]:
    """The statements for a vendor and time zone, and the parameters they always take (the time zone's)."""
    names = _names()
    names["opened_on"], fixed = _local_date(names["blocker"].opened_at, tzname)
    names["age_days"] = DAYS_SINCE[vendor].format(later="%(today)s", earlier="b.opened_on")
    return {kind: sql.format_map(names) for kind, sql in STATEMENTS.items()}, fixed


@cache
def _capacity_statement(vendor: str, months: int) -> str:
    names = _names()
    covered = "".join(f",\n       {COVERED.replace('{n}', str(n))}" for n in range(months))
    return CAPACITY_SQL.replace("{covered}", covered).format_map(names)


@cache
def program_statement(vendor: str) -> str:
    """The program whose code is `%s`: its columns (`sopgate.rows.columns_of`) and, as `owner_name`, its owner's
    `report.person` (NULL without an owner)."""
    program, user = Columns(Program, "pr"), Columns(get_user_model())
    return (
        f"SELECT {columns_of(Program, program.alias)}, {_person('u')} AS owner_name\nFROM {program.table}\n"
        f"LEFT JOIN {user.table} u ON u.{user.id} = {program.owner}\nWHERE {program.code} = %s"
    )


def page_params(program: Program, today: date | None = None) -> dict:
    """The parameters of the statements: the program's dates and limits as of `today` (default: today), as the
    gate's statements take them (`sopgate.rules.sql.program_params`)."""
    return program_params(program, timezone.localdate() if today is None else today)


def fetch(kind: str, params: dict) -> list[tuple]:
    """The rows of one of the `STATEMENTS`."""
    statements, fixed = _statements(connection.vendor, timezone.get_current_timezone_name())
    with connection.cursor() as cursor:
        cursor.execute(statements[kind], {**fixed, **params})
        return cursor.fetchall()


def fetch_many(kinds: Sequence[str], params: dict) -> dict[str, list[tuple]]:
    """The rows of several of the `STATEMENTS` taking the same parameters, by name: in one round trip where
    the database allows it (`rules.sql.results_of`), else one after the other. The program page waits for the
    server once instead of eight times (about 1 ms less on loopback, a round trip each less over a network)."""
    statements, fixed = _statements(connection.vendor, timezone.get_current_timezone_name())
    results = results_of([statements[kind] for kind in kinds], {**fixed, **params})
    return dict(zip(kinds, results, strict=True))


class Prefetched:
    """A `fetch` answered from statements read beforehand in one go (`fetch_many`): asked for one of them with
    parameters that agree with the ones it was read with, it returns those rows; anything else it runs."""

    def __init__(self, kinds: Sequence[str], params: dict):
        self.params = params
        self.rows = fetch_many(kinds, params)

    def __call__(self, kind: str, params: dict) -> list[tuple]:
        rows = self.rows.get(kind)
        if rows is None or any(self.params.get(name, _ABSENT) != value for name, value in params.items()):
            return fetch(kind, params)
        return rows


_ABSENT = object()


def fetch_capacity(params: dict, steps: list[tuple[int, int]]) -> tuple:
    """Parts, unconfirmed parts, the tightest vehicles per week, then per step (days in its month, planned
    vehicles × 7) the parts whose confirmed weekly capacity covers it."""
    month_params = {}
    for n, (days, vehicles_times_7) in enumerate(steps):
        month_params[f"days_{n}"] = days
        month_params[f"vehicles_times_7_{n}"] = vehicles_times_7
    with connection.cursor() as cursor:
        cursor.execute(_capacity_statement(connection.vendor, len(steps)), {**params, **month_params})
        return cursor.fetchone()
