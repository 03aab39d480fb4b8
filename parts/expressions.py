"""Database expressions shared by the parts queries and the gate rules."""

from django.db import models


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
