"""Limits every way in (admin, import, API) shares, so that what is stored is what the gate can compute with.

The gate adds lead times to dates and multiplies quantities by planned volumes, in Python and in SQL. A year-1 or
year-9999 date overflows the date range there, and a quantity of two billion per vehicle times two billion
vehicles overflows a 64-bit integer; either would stop every scan of the program. So values beyond a plausible
plan are refused where they come in, with the field named.
"""

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
MAX_QTY_PER_VEHICLE = 10_000  # of one part number in one vehicle
MAX_PLANNED_VEHICLES = 10_000_000  # in one month of a ramp plan

PLANNING_DATE = [
    MinValueValidator(MIN_DATE, message=f"Enter a date on or after {MIN_DATE}."),
    MaxValueValidator(MAX_DATE, message=f"Enter a date on or before {MAX_DATE}."),
]

# The people a program, part, test or handover item is given to: anyone but a supplier's login. They receive the
# blockers' alerts, which name other suppliers' parts. (`limit_choices_to` of those keys, for the admin's forms.)
NOT_A_SUPPLIER_USER = {"supplier_membership__isnull": True}


def person_field(*, related_name: str = "+", **kwargs) -> models.ForeignKey:
    """The key to the person something is given to (an owner, a responsible person): optional, kept as empty when
    the user is deleted, and never a supplier's login (NOT_A_SUPPLIER_USER)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name=related_name,
        limit_choices_to=NOT_A_SUPPLIER_USER,
        **kwargs,
    )
