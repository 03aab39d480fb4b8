"""The gate rules as SQL: one condition per rule, named after it, assembled into one statement per kind.

`{part.need_date}` in a condition is a column, named through the model's _meta so that a renamed field
breaks the scan loudly instead of silently. The statements run on PostgreSQL and SQLite alike: dates are
compared with per-program constants computed in Python (`statement_params`), and the one per-row date
offset goes through `_minus_days`.
"""

import hashlib
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import cache

from django.db import connection
from django.db.backends.postgresql.psycopg_any import is_psycopg3
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
    # Against the peak month of the ramp plan: its days and planned vehicles × 7 are parameters, NULL without a
    # plan (see `statement_params`).
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
# violated, in the order of the rules above (see `bits`), and `{row_hash}`: a hash, computed by the database,
# that changes whenever a column that a finding of the row can state changes (see `_row_hash`). A re-scan
# compares fingerprints built from that hash (see `sopgate.rules.violations`) and fetches the columns
# themselves, `{details}`, only for the objects whose findings are new or changed: at steady state a scan's
# rows are just (id, rules, hash).

PART_SQL = """
SELECT {part.id}, {rules}, {row_hash}{details}
FROM {part.table}
WHERE {part.program} = %(program)s AND ({any_rule})"""
PART_DETAILS = """
       {part.name} || ' ' || {part.part_number} || ' rev ' || {part.revision}, {part.owner},
       {part.supplier}, {part.qty_per_vehicle}, {part.promised_date}, {part.need_date}, {part.ppap_due_date},
       {part.ppap_status}, {part.interim_expires_on}, {part.capacity_per_week},
       CASE WHEN {supplier_update_stale} THEN {last_update_text} END"""
PART_HASHED = """
       {part.name}, {part.part_number}, {part.revision}, {part.owner}, {part.supplier}, {part.qty_per_vehicle},
       {part.promised_date}, {part.need_date}, {part.ppap_due_date}, {part.ppap_status}, {part.interim_expires_on},
       {part.capacity_per_week}, {part.last_supplier_update_at}, {part.created_at}"""

TEST_SQL = """
SELECT {test.id}, {rules}, {row_hash}{details}
FROM {test.table}
WHERE {test.program} = %(program)s AND {test.required_for_sop} AND ({any_rule})"""
TEST_DETAILS = """
       'Test ' || {test.code} || ' ' || {test.name}, {test.owner}, {test.planned_end}, {test.status},
       {test.result_note}"""
TEST_HASHED = "{test.code}, {test.name}, {test.owner}, {test.planned_end}, {test.status}, {test.result_note}"

ITEM_SQL = """
SELECT {item.id}, {rules}, {row_hash}{details}
FROM {item.table} JOIN {checklist.table} ON {checklist.id} = {item.checklist}
WHERE {checklist.program} = %(program)s AND {item.required} AND {item.done_at} IS NULL AND ({any_rule})"""
ITEM_DETAILS = "{checklist.area} || ': ' || {item.title}, {item.responsible}, {item.due_date}"
ITEM_HASHED = "{checklist.area}, {item.title}, {item.responsible}, {item.due_date}"

# One rule: every row found violates it (bit 1).
CHECKLIST_SQL = """
SELECT {checklist.id}, 1, {row_hash}{details}
FROM {checklist.table}
WHERE {checklist.program} = %(program)s
  AND ({checklist.rd_signed_off_at} IS NULL OR {checklist.production_signed_off_at} IS NULL)"""
CHECKLIST_DETAILS = """
       {checklist.area}, {checklist.rd_owner}, {checklist.production_owner},
       {checklist.rd_signed_off_at} IS NULL, {checklist.production_signed_off_at} IS NULL"""
CHECKLIST_HASHED = CHECKLIST_DETAILS  # every detail of a checklist is a column of its own

# Per kind of object: its statement, the columns of its details, the columns its hash covers on SQLite and
# the tables whose row versions it covers on PostgreSQL, and its rules.
KINDS = {
    "part": (PART_SQL, PART_DETAILS, PART_HASHED, ["part"], PART_RULES),
    "test": (TEST_SQL, TEST_DETAILS, TEST_HASHED, ["test"], TEST_RULES),
    "item": (ITEM_SQL, ITEM_DETAILS, ITEM_HASHED, ["item", "checklist"], ITEM_RULES),
    "checklist": (CHECKLIST_SQL, CHECKLIST_DETAILS, CHECKLIST_HASHED, ["checklist"], None),
}

RAMP_SQL = """
SELECT {ramp.month}, {ramp.planned_vehicles} FROM {ramp.table} WHERE {ramp.program} = %(program)s"""

# --- Assembling the statements -------------------------------------------------------------------------


class Columns:
    """`{part.need_date}`: the quoted column of a model field, qualified by the table's alias (bare without
    one); `{part.table}`: the quoted table and its alias. An unknown field name raises FieldDoesNotExist.
    The dashboard's statements (`sopgate.dashboard.sql`) name their columns with it too."""

    def __init__(self, model, alias: str = ""):
        self._model, self.alias = model, alias

    def __getattr__(self, name: str) -> str:
        quote = connection.ops.quote_name
        if name == "table":
            return f"{quote(self._model._meta.db_table)} {self.alias}".rstrip()
        column = quote(self._model._meta.get_field(name).column)
        return f"{self.alias}.{column}" if self.alias else column


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


def tables() -> dict[str, Columns]:
    """The tables the statements read, by the name and alias they use (the program page's too)."""
    return {
        "part": Columns(Part, "p"),
        "test": Columns(ValidationTest, "t"),
        "item": Columns(HandoverItem, "i"),
        "checklist": Columns(HandoverChecklist, "c"),
        "ramp": Columns(RampStep, "r"),
    }


@cache
def _statements(vendor: str) -> dict[str, str]:
    names = {
        **tables(),
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
    names["peak_days"], names["peak_vehicles_times_7"] = "%(peak_days)s", "%(peak_vehicles_times_7)s"
    statements = {"ramp": RAMP_SQL.format_map(names)}
    for kind, (template, details, hashed, versioned, rules) in KINDS.items():
        row_hash = _row_hash(hashed, [names[table] for table in versioned])
        for name, with_details in ((kind, ""), (f"{kind}{DETAILS}", f",{details}")):
            select = template.replace("{row_hash}", row_hash).replace("{details}", with_details)
            statements[name] = _with_rules(select, rules, names) if rules else select.format_map(names)
    return statements


# `batch` and `rows` name a kind's statement with its details as "part/details".
DETAILS = "/details"

# The SQLite function that `_row_hash` calls there (registered in `sopgate.apps`).
SQLITE_ROW_HASH = "sopgate_row_hash"


def _row_hash(columns: str, tables: list[Columns]) -> str:
    """A 64-bit hash, computed by the database, that changes whenever one of the columns does.

    PostgreSQL hashes the version of each table's row: its `xmin` (the transaction that wrote it) and `ctid`
    (where it is stored). Every UPDATE writes a new version with a new ctid, and two versions written by
    different transactions differ in xmin, so the pair changes with any change of the row, even one made by
    hand in SQL; a rewrite of the table (VACUUM FULL, a restore) changes it too, and the next scan then rewrites
    the program's blockers once. Hashing the two took half the time that hashing the columns took.
    An update of a column that no finding states (say, a supplier's note) changes it as well: the next scan
    rewrites those blockers, with the same messages.

    SQLite has neither: it hashes the columns themselves (`sqlite_row_hash`)."""
    if connection.vendor == "sqlite":
        return f"{SQLITE_ROW_HASH}({columns.strip()})"
    versions = ", ".join(f"{table.alias}.xmin, {table.alias}.ctid" for table in tables)
    return f"hash_record_extended(ROW({versions}), 0)"


def sqlite_row_hash(*values) -> int:
    """The row hash on SQLite: the same in every process, as a signed 64-bit integer (SQLite's)."""
    digest = hashlib.blake2b(repr(values).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def default_need_date(program: Program) -> date:
    return program.sop_date - timedelta(days=program.part_lead_days)


def interim_limit(program: Program) -> date:
    """An interim PPAP approval must hold until 90 days after SOP."""
    return program.sop_date + timedelta(days=90)


def program_params(program: Program, today: date) -> dict:
    """What every statement about a program as of `today` may take: the program, the day, its SOP date, the need
    date of a part without one, the at-risk horizon and the stale-update cut-off (the gate's statements here and
    the program page's, `sopgate.dashboard.sql`)."""
    ops = connection.ops
    day = ops.adapt_datefield_value
    return {
        "program": program.pk,
        "today": day(today),
        "sop": day(program.sop_date),
        "default_need_date": day(default_need_date(program)),
        "at_risk_horizon": day(today + timedelta(days=program.at_risk_days)),
        "stale_before": ops.adapt_datetimefield_value(
            timezone.make_aware(datetime.combine(today - timedelta(days=program.stale_update_days), time.min))
        ),
    }


def statement_params(program: Program, today: date, peak=None) -> dict:
    """The parameters of the statements: `program_params`, the rules' other limits, and the peak step of the
    program's ramp plan (a `sopgate.rules.PeakDemand`, None without a plan)."""
    day = connection.ops.adapt_datefield_value
    return {
        **program_params(program, today),
        "peak_days": peak.days_in_month if peak else None,
        "peak_vehicles_times_7": peak.planned_vehicles * 7 if peak else None,
        "at_risk_days": program.at_risk_days,
        "at_risk_days_modifier": f"-{program.at_risk_days} days",
        "ppap_need_before": day(today + timedelta(days=program.ppap_lead_days)),
        "interim_limit": day(interim_limit(program)),
    }


def rows(kind: str, params: dict) -> list[tuple]:
    """Run one of the statements: `part`, `test`, `item`, `checklist` (each also as "<kind>/details") or
    `ramp`."""
    return batch([kind], params)[0]


def batch(
    kinds: list[str], params: dict, *, only: dict[str, list[int]] | None = None, first: tuple[str, ...] = ()
) -> list[list[tuple]]:
    """Run several of the statements with the same parameters; their rows, in the order asked, unordered
    within a statement. `only` narrows a kind's statement to the objects with these ids. `first` are other
    statements (with their parameters in `params`) to run before, in the same round trip; their rows come
    first (none for a statement that returns none).

    On PostgreSQL the statements go in one round trip (`results_of`)."""
    statements = _statements(connection.vendor)
    sqls = list(first)
    for kind in kinds:
        sql, table = statements[kind], kind.removesuffix(DETAILS)
        ids = (only or {}).get(table)
        if ids is not None:
            # Ids are written into the statement: they are ints (int() refuses anything else), and one
            # parameter per id would make the statement as long anyway.
            id_column = tables()[table].id
            sql += f" AND {id_column} IN ({', '.join(str(int(i)) for i in ids) or 'NULL'})"
        sqls.append(sql)
    return results_of(sqls, params)


def one_round_trip() -> bool:
    """Whether several statements can go to the database as one query: on PostgreSQL through psycopg 3 binding
    the parameters on the client (Django's default), which sends it with the simple protocol; the server runs the
    statements one after the other and returns a result set for each. Server-side binding (a prepared statement)
    takes one statement at a time, and so does SQLite."""
    return connection.vendor == "postgresql" and is_psycopg3 and not connection.features.uses_server_side_binding


def results_of(statements: Sequence[str], params) -> list[list[tuple]]:
    """The rows of each of `statements`, all run with `params` (none for a statement that returns none): in one
    round trip where the database allows it (`one_round_trip`), else one by one."""
    with connection.cursor() as cursor:
        if not one_round_trip():
            results = []
            for sql in statements:
                cursor.execute(sql, params)
                results.append(_rows(cursor))
            return results
        cursor.execute(";\n".join(statements), params)
        results = [_rows(cursor)]
        while cursor.nextset():
            results.append(_rows(cursor))
    if len(results) != len(statements):  # a statement holding a ";" of its own would shift every result after it
        raise RuntimeError(f"{len(statements)} statements returned {len(results)} result sets")
    return results


def _rows(cursor) -> list[tuple]:
    return cursor.fetchall() if cursor.description is not None else []
