"""Set-based writes of many rows in one statement per batch.

Django's `bulk_update` builds a CASE WHEN per field and row, which costs more to compile in Python than the
database takes to run it (about 0.4 s for 500 parts and six fields). Here an UPDATE joins the table to the new
values instead. On PostgreSQL the values travel as one typed array per column (`UNNEST(%s::date[], ...)`): a
statement with thousands of placeholders costs psycopg more to split and quote than the database takes to
run it. SQLite (3.33+) gets a VALUES list. A column with the same value in every row (the update time, the
actor) is one scalar parameter on both.
"""

from collections.abc import Sequence

from django.db import connection, models

from sopgate.history import actor_username


def _array_type(field: models.Field) -> str:
    # Without the length (varchar[] rather than varchar(20)[]), as Django's own UNNEST insert does.
    return field.cast_db_type(connection).split("(")[0] + "[]"


def _pg_array(values: list) -> object:
    """An array parameter for PostgreSQL (cast in the statement): a list of ints as its text form `{1,2,3}`, which
    costs a join, where psycopg adapts and quotes it element by element (about 1 ms for 500); anything else as
    the list itself."""
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    return values


def _prepared(field: models.Field, values: list) -> list:
    """The database values of `values` for `field`; a value seen before in the column is converted once."""
    target = field.target_field if field.is_relation else field
    if (
        connection.vendor in ("postgresql", "sqlite")
        and isinstance(target, models.IntegerField | models.AutoField | models.BigAutoField | models.SmallAutoField)
        and all(type(value) is int for value in values)
    ):
        # An int is its own database value for an integer column (or a key to one) on these backends: Django's
        # conversion is int(value) and, for auto fields, a check that only MySQL makes. It costs 1 µs a value.
        return list(values)
    prep = field.get_db_prep_save
    memo: dict = {}
    out = []
    for value in values:
        key = (type(value), value)
        try:
            out.append(memo[key])
        except KeyError:
            memo[key] = prepared = prep(value, connection)
            out.append(prepared)
        except TypeError:  # unhashable
            out.append(prep(value, connection))
    return out


def _same_or_each(field: models.Field, values: list) -> tuple[bool, object]:
    """(True, value) when every value is the same, else (False, [values]), as database values of `field`."""
    first = values[0]
    if all(value == first and type(value) is type(first) for value in values):
        return True, field.get_db_prep_save(first, connection)
    return False, _prepared(field, values)


def _plain_pre_save(field: models.Field) -> bool:
    """Whether `field.pre_save` only reads the attribute (no auto_now and the like), so it can be skipped."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return False
    return type(field).pre_save in (models.Field.pre_save, models.DateField.pre_save, models.DateTimeField.pre_save)


def _update_joined(cursor, table, pk, keys, assignments, set_params, varying, varying_fields) -> int:
    """Run `UPDATE table SET assignments` joined to one row per key: `v.k` is the key, `v.cN` the Nth varying column.

    PostgreSQL gets one typed array per column (UNNEST); SQLite a VALUES list in a CTE, whose parameters come
    first in the statement, before those of SET.
    """
    quote = connection.ops.quote_name
    aliases = ", ".join(["k", *(f"c{i}" for i in range(len(varying)))])
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{_array_type(field)}" for field in [pk, *varying_fields])
        sql = (
            f"UPDATE {table} SET {', '.join(assignments)} FROM UNNEST({arrays}) AS v({aliases}) "
            f"WHERE {table}.{quote(pk.column)} = v.k"
        )
        params = [*set_params, *map(_pg_array, [keys, *varying])]
    else:
        row = "(" + ", ".join(["%s"] * (len(varying) + 1)) + ")"
        sql = (
            f"WITH v({aliases}) AS (VALUES {', '.join([row] * len(keys))}) "
            f"UPDATE {table} SET {', '.join(assignments)} FROM v WHERE {table}.{quote(pk.column)} = v.k"
        )
        params = [*(value for values in zip(keys, *varying, strict=True) for value in values), *set_params]
    cursor.execute(sql, params)
    return cursor.rowcount


def bulk_merge(
    model: type[models.Model], changes: dict[int, dict[str, object]], *, constants: dict[str, object]
) -> int:
    """Update the rows with the primary keys in `changes` in one statement per batch.

    Each row gets the fields in its dict, keeps the others (`COALESCE` with the current value, so nothing is read
    first), and every row gets `constants`. A `None` in a row's dict also keeps the current value.
    """
    if not changes:
        return 0
    meta = model._meta
    pk = meta.pk
    names = {name for row in changes.values() for name in row}
    fields = [field for field in meta.concrete_fields if field.name in names]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    postgres = connection.vendor == "postgresql"
    max_params = connection.features.max_query_params or 65535
    batch = 5000 if postgres else max(1, min(1000, max_params // (len(fields) + 1) - 1))
    keys_all = list(changes)
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(keys_all), batch):
            chunk = keys_all[start : start + batch]
            assignments, params_set, varying, varying_fields = [], [], [], []
            for name, value in constants.items():
                field = meta.get_field(name)
                assignments.append(f"{quote(field.column)} = %s")
                params_set.append(field.get_db_prep_save(value, connection))
            for field in fields:
                values = [changes[key].get(field.name) for key in chunk]
                if all(value is None for value in values):
                    continue
                column = quote(field.column)
                same, value = _same_or_each(field, values)
                if same:
                    assignments.append(f"{column} = %s")
                    params_set.append(value)
                    continue
                alias = f"v.c{len(varying)}"
                keep = any(v is None for v in values)
                assignments.append(f"{column} = COALESCE({alias}, {table}.{column})" if keep else f"{column} = {alias}")
                varying.append(value)
                varying_fields.append(field)
            keys = _prepared(pk, chunk)
            updated += _update_joined(cursor, table, pk, keys, assignments, params_set, varying, varying_fields)
    return updated


def bulk_insert_columns(
    model: type[models.Model], columns: dict[str, list], *, constants: dict[str, object]
) -> list[int]:
    """Insert rows given column by column (attname -> one value per row), with `constants` the same in every
    row, and return their primary keys in order, without a model instance per row.

    On PostgreSQL it is `INSERT ... SELECT FROM UNNEST(...) RETURNING` with constant columns as scalars, one
    statement per batch; elsewhere Django's `bulk_create`. Every concrete field but the primary key is given, in
    `columns` or in `constants`, and stored as given: no `pre_save`, so a model with auto_now fields is refused.
    No signals are sent, as with `bulk_create`.
    """
    count = len(next(iter(columns.values())))
    if not count:
        return []
    if not all(_plain_pre_save(field) for field in _inserted_fields(model)):
        raise ValueError(f"{model.__name__} has fields that set their own value on save; use bulk_create")
    if connection.vendor != "postgresql":
        names = list(columns)
        objs = [
            model(**dict(zip(names, values, strict=True)), **constants)
            for values in zip(*columns.values(), strict=True)
        ]
        return [obj.pk for obj in model.objects.bulk_create(objs, batch_size=1000)]
    fields = _inserted_fields(model)
    pks: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, count, _INSERT_BATCH):
            stop = min(start + _INSERT_BATCH, count)
            prepared = [
                (True, field.get_db_prep_save(constants[field.attname], connection))
                if field.attname in constants
                else _same_or_each(field, columns[field.attname][start:stop])
                for field in fields
            ]
            pks += _insert_unnest(cursor, model, fields, prepared, stop - start)
    return pks


_INSERT_BATCH = 5000


def _inserted_fields(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def _insert_unnest(cursor, model, fields, prepared: list[tuple[bool, object]], count: int) -> list:
    """`INSERT ... SELECT FROM UNNEST(...) RETURNING pk` of `count` rows; `prepared` has, per field, (True, the
    database value of every row) or (False, [the database value of each row])."""
    quote = connection.ops.quote_name
    selected, constants, arrays, varying, aliases = [], [], [], [], []
    for field, (same, value) in zip(fields, prepared, strict=True):
        if same:
            selected.append(f"%s::{field.cast_db_type(connection)}")
            constants.append(value)
        else:
            alias = f"c{len(varying)}"
            selected.append(f"v.{alias}")
            arrays.append(f"%s::{_array_type(field)}")
            varying.append(_pg_array(value))
            aliases.append(alias)
    if not varying:  # one row repeated: unnest something of the right length
        arrays, varying, aliases = ["%s::int[]"], [_pg_array(list(range(count)))], ["c0"]
    meta = model._meta
    cursor.execute(
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"SELECT {', '.join(selected)} FROM UNNEST({', '.join(arrays)}) AS v({', '.join(aliases)}) "
        f"RETURNING {quote(meta.pk.column)}",
        [*constants, *varying],
    )
    return [pk for (pk,) in cursor.fetchall()]


def bulk_history_snapshot(model: type[models.Model], pks: Sequence[int], *, actor, reason: str, when) -> None:
    """Record a django-simple-history "changed" row for each of `pks`, copied from the table in one statement.

    Same rows as simple-history's own bulk_history_create, but the database copies the current values
    (INSERT ... SELECT) instead of Python sending every column of every row as a parameter. The actor (a user
    or None) is kept by id and by name (sopgate.history.HistoricalActor), as the library's own save keeps it.
    """
    if not pks:
        return
    history = model.history.model
    user_id, username = getattr(actor, "pk", None), actor_username(actor)
    tracked = history.tracked_fields
    quote = connection.ops.quote_name
    target = [quote(history._meta.get_field(field.name).column) for field in tracked]
    source = [quote(field.column) for field in tracked]
    table = quote(model._meta.db_table)
    pk_column = quote(model._meta.pk.column)
    postgres = connection.vendor == "postgresql"
    max_params = connection.features.max_query_params or 65535
    batch = len(pks) if postgres else max(1, min(5000, max_params - 10))
    with connection.cursor() as cursor:
        for start in range(0, len(pks), batch):
            chunk = list(pks[start : start + batch])
            if postgres:
                where, keys = f"{pk_column} = ANY(%s::{_array_type(model._meta.pk)})", [_pg_array(chunk)]
            else:
                where, keys = f"{pk_column} IN ({', '.join(['%s'] * len(chunk))})", chunk
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(target)}, history_date, history_user_id, "
                f"history_username, history_type, history_change_reason) "
                f"SELECT {', '.join(source)}, %s, %s, %s, '~', %s FROM {table} WHERE {where}",
                [when, user_id, username, reason, *keys],
            )
