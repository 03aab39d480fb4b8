"""Serializer pieces shared by the apps' APIs: bounded dates and integers, people by username."""

import difflib
import re
from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.db import models
from rest_framework import serializers

from ..validators import PLANNING_DATE

# Column ranges of the integer fields, so an oversized number is a 400 naming the field, not a database error.
INTEGER_MAX = {
    models.PositiveSmallIntegerField: 32767,
    models.SmallIntegerField: 32767,
    models.PositiveIntegerField: 2147483647,
    models.IntegerField: 2147483647,
    models.BigIntegerField: 9223372036854775807,
    models.PositiveBigIntegerField: 9223372036854775807,
}


# A date as API.md writes it. Python's own ISO parser also takes 20260203 or 2026-W05-2 (a week date), and
# Django's 2026-2-3; a client sending those most likely means something else.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BoundedDateField(serializers.DateField):
    """A date written YYYY-MM-DD within the planning horizon (`sopgate.validators.PLANNING_DATE`), also where
    the model field has no such limit (a serializer's own field)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators += [validator for validator in PLANNING_DATE if validator not in self.validators]

    def to_internal_value(self, value):
        if isinstance(value, str) and not ISO_DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class KnownFieldsMixin:
    """A write naming a field the resource does not have is refused, naming it: a typo ("promissed_date") would
    otherwise be dropped without a word and the rest stored. Read-only fields are known, so a client may send
    back what it read."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = [key for key in data if key not in self.fields]
            if unknown:
                raise serializers.ValidationError({str(key): [self._unknown_field(str(key))] for key in unknown})
        return super().to_internal_value(data)

    def _unknown_field(self, key: str) -> str:
        close = difflib.get_close_matches(key, [name for name, field in self.fields.items() if not field.read_only], 1)
        return f"Unknown field; did you mean {close[0]}?" if close else "Unknown field."


class BoundedModelSerializer(KnownFieldsMixin, serializers.ModelSerializer):
    """ModelSerializer whose date fields are bounded and whose integer fields stop at the column's range."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: BoundedDateField,
    }

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if not issubclass(field_class, serializers.IntegerField):
            return field_class, field_kwargs
        for model_class in type(model_field).__mro__:
            if model_class in INTEGER_MAX:
                limit = INTEGER_MAX[model_class]
                if field_kwargs.get("max_value") is None or field_kwargs["max_value"] > limit:
                    field_kwargs["max_value"] = limit
                if model_class.__name__.startswith("Positive"):
                    field_kwargs.setdefault("min_value", 0)
                break
        return field_class, field_kwargs


class NamedRelatedField(serializers.SlugRelatedField):
    """A related object named by a string key; text the database cannot store (NUL) is simply not found."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", "\\x00"))
        return super().to_internal_value(data)


class UsernameField(NamedRelatedField):
    """A person named by username; unknown names are a 400 naming the field. A writable one is an owner of
    something (a program, part, test, checklist or item) and takes no supplier's login (`NOT_A_SUPPLIER_USER`)."""

    default_error_messages = {
        "supplier_user": "{value} is a supplier's login; owners and responsible people are the customer's own."
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        if kwargs.get("read_only"):
            kwargs.setdefault("allow_null", True)  # people fields are nullable: the user may have been deleted
        else:
            # With the supplier membership, so telling a supplier's login apart costs no query of its own.
            kwargs.setdefault("queryset", get_user_model().objects.select_related("supplier_membership"))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        user = super().to_internal_value(data)
        if hasattr(user, "supplier_membership"):
            self.fail("supplier_user", value=data)
        return user


class CodeField(NamedRelatedField):
    """A program or supplier named by its code."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)
