"""Model instances from rows of hand-written statements, read as the ORM reads them.

For the few hot reads that are written out as SQL (the scan's lock, the program page's program, the session's
user): building the query through the ORM, or a `RawQuerySet`, took several times the statement's own client
time there. `Model.from_db` is what the ORM itself calls; the converters are the ones its compiler applies.
Only for models whose fields all live in their own table (no multi-table inheritance).
"""

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model


def instance_from_row(model: type[Model], row: tuple, using: str = DEFAULT_DB_ALIAS) -> tuple[Model, tuple]:
    """The `model` instance whose concrete fields, in `_meta.concrete_fields` order, start `row` (as read from
    the database `using`), and the rest of the row."""
    fields = model._meta.concrete_fields
    values = list(row[: len(fields)])
    connection = connections[using]
    for index, converters, column in _converters(model, using):
        for convert in converters:
            values[index] = convert(values[index], column, connection)
    return model.from_db(using, [f.attname for f in fields], values), row[len(fields) :]


@cache
def _converters(model: type[Model], using: str) -> list[tuple[int, list, object]]:
    """Per column of a `model` row that needs it: its index, the database's and the field's converters, and
    the column expression they take."""
    connection = connections[using]
    result = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            result.append((index, converters, column))
    return result


def columns_of(model: type[Model], alias: str = "", using: str = DEFAULT_DB_ALIAS) -> str:
    """`alias.column, ...` (`column, ...` without an alias) of the model's concrete fields, in the order
    `instance_from_row` reads them."""
    quote = connections[using].ops.quote_name
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{quote(field.column)}" for field in model._meta.concrete_fields)
