"""Database expressions shared by the parts queries and the gate rules."""

import json

from django.db import models
from django.db.models.functions import Cast


class DateAddDays(models.Func):
    """`date + days` evaluated in the database, for a date expression and an integer expression.

    PostgreSQL adds an integer to a date natively; SQLite needs its date() modifier.
    """

    arity = 2
    output_field = models.DateField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" + ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        days_sql, days_params = compiler.compile(self.source_expressions[1])
        return f"date({date_sql}, printf('%%+d days', {days_sql}))", (*date_params, *days_params)


def date_minus_days(date_expr, days_expr) -> DateAddDays:
    return DateAddDays(date_expr, models.ExpressionWrapper(-days_expr, output_field=models.IntegerField()))


class JSONMapMember(models.Func):
    """`mapping[str(key)][member]` as text, for a dict computed in Python (one parameter, whatever its size) and a
    key expression per row: how a figure computed once per scan in Python reaches a rule's condition as a column
    (`sopgate.gate.coverage`). NULL where the key or the member is missing."""

    output_field = models.TextField()

    def __init__(self, mapping: dict, key, member: str, **extra):
        super().__init__(
            models.Value(json.dumps(mapping, default=str)),
            Cast(key, models.TextField()),
            models.Value(member),
            **extra,
        )

    def _compiled(self, compiler):
        return [compiler.compile(expression) for expression in self.source_expressions]

    def as_sql(self, compiler, connection, **extra_context):
        (mapping, p1), (key, p2), (member, p3) = self._compiled(compiler)
        return f"((({mapping})::jsonb -> ({key})) ->> ({member}))", (*p1, *p2, *p3)

    def as_sqlite(self, compiler, connection, **extra_context):
        (mapping, p1), (key, p2), (member, p3) = self._compiled(compiler)
        return f"json_extract({mapping}, '$.\"' || ({key}) || '\".' || ({member}))", (*p1, *p2, *p3)
