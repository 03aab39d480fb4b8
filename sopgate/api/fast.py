"""Shortcuts through DRF's per-field machinery for the API's hot paths: the part list and batches of supplier
updates.

DRF spends about 20 µs per field and row reading an object (attribute lookup through `get_attribute`, checks for
callables and PKOnlyObject) and more validating one (`get_value`, `validate_empty_values`, `run_validators` per
field). For 500 updates or 100 parts that is most of a request. Both mixins here take a shortcut only where its
answer is provably DRF's own, and hand everything else to DRF:

- `FastReadMixin` reads each field with a precompiled getter and calls the field's own `to_representation`;
  a field it does not know, or a value it cannot read plainly (a missing relation, a callable), goes through
  DRF's path for that field.
- `FastListMixin` goes one step further for a list page: when every field of the serializer shows one column
  (of the model, an annotation or a related object's column), it reads the page as tuples of exactly those
  columns with `values_list` and shows them through the fields' own `to_representation`. Building four model
  instances per row (the part and its program, supplier and owner) cost more than everything else in a page.
- `FastValidationMixin` accepts an input object only when every value is of the plain JSON type and within the
  limits that the field would accept unchanged; anything else (and every error) goes through DRF's full
  validation, so error messages are exactly DRF's.
"""

from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter

from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from rest_framework import ISO_8601, fields, relations, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from .fields import ISO_DATE, BoundedDateField

_FALLBACK = object()
_IMMUTABLE = (date, datetime, str, int, bool, Decimal)


# --- reading ------------------------------------------------------------------------------------------


def _read_plan(serializer) -> list[tuple[str, object, object]]:
    """(name, getter or None, field) per readable field; getter(instance) returns the representation or
    _FALLBACK."""
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    plan = []
    for field in serializer._readable_fields:
        plan.append((field.field_name, _reader(field, model), field))
    return plan


def _reader(field, model):
    if field.source == "*" or isinstance(field, serializers.BaseSerializer):
        return None
    if type(field).get_attribute not in (fields.Field.get_attribute, relations.RelatedField.get_attribute):
        return None
    attrs = field.source_attrs
    if isinstance(field, relations.RelatedField):
        if isinstance(field, relations.PrimaryKeyRelatedField):
            # DRF reads the foreign key column (PKOnlyObject) and shows it as it is.
            if field.pk_field is not None or len(attrs) != 1 or model is None:
                return None
            try:
                get_pk = attrgetter(model._meta.get_field(attrs[0]).attname)
            except Exception:
                return None
            return get_pk
        if not isinstance(field, relations.SlugRelatedField) or "__" in field.slug_field:
            return None
        if type(field).to_representation is not relations.SlugRelatedField.to_representation:
            return None
        represent = attrgetter(field.slug_field)
    else:
        represent = field.to_representation
    get = attrgetter(".".join(attrs))
    # CharField shows str(value), IntegerField int(value): for a str or an int that is the value itself.
    plain = {fields.CharField: str, fields.IntegerField: int}.get(type(field))

    last = [_FALLBACK, None]  # the last value read and its representation

    def read(instance):
        try:
            value = get(instance)
        except (AttributeError, ObjectDoesNotExist):
            return _FALLBACK  # DRF decides: None, a default, or leaving the field out
        if value is None:
            return None
        if type(value) is plain:
            return value
        if value is last[0]:
            # The same object again (a batch stamped with one `now`, rows of one program): same answer. Only
            # immutable values are remembered, so "the same object" means "the same value".
            return last[1]
        if callable(value):
            return _FALLBACK
        shown = represent(value)
        if type(value) in _IMMUTABLE:
            last[0], last[1] = value, shown
        return shown

    return read


class FastReadMixin:
    def to_representation(self, instance):
        plan = self.__dict__.get("_fast_read_plan")
        if plan is None:
            plan = self.__dict__["_fast_read_plan"] = _read_plan(self)
        ret = {}
        for name, read, field in plan:
            if read is not None:
                value = read(instance)
                if value is not _FALLBACK:
                    ret[name] = value
                    continue
            try:
                attribute = field.get_attribute(instance)
            except fields.SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, relations.PKOnlyObject) else attribute
            ret[name] = None if check_for_none is None else field.to_representation(attribute)
        return ret


# --- listing ---------------------------------------------------------------------------------------------

# Types a field shows unchanged: a str in a CharField is str(value), an int in an IntegerField int(value), a
# bool in a BooleanField itself. Anything else goes through the field's own `to_representation`.
_SHOWN_AS_IS = {fields.CharField: str, fields.IntegerField: int, fields.BooleanField: bool}


def _column(field, model) -> tuple[str, type | None] | None:
    """(values() path, type shown as it is or None) of a field that shows one column, else None."""
    if field.source == "*" or isinstance(field, serializers.BaseSerializer) or "." in field.source:
        return None
    if type(field).get_attribute not in (fields.Field.get_attribute, relations.RelatedField.get_attribute):
        return None
    if isinstance(field, relations.RelatedField):
        # A related object shown by one of its columns: the column is the representation (a null key is None).
        if isinstance(field, relations.PrimaryKeyRelatedField) and field.pk_field is None:
            return (field.source, object) if _is_relation(model, field.source) else None
        if (
            type(field).to_representation is relations.SlugRelatedField.to_representation
            and "__" not in field.slug_field
            and _is_relation(model, field.source)
        ):
            return f"{field.source}__{field.slug_field}", object
        return None
    if isinstance(field, fields.SerializerMethodField | fields.HiddenField) or not _is_column(model, field.source):
        return None
    return field.source, _SHOWN_AS_IS.get(type(field))


def _is_relation(model, name: str) -> bool:
    try:
        field = model._meta.get_field(name)
    except Exception:
        return False
    return field.many_to_one or field.one_to_one


def _is_column(model, name: str) -> bool:
    """A concrete, non-relation column of `model`, or a name left to the queryset (an annotation)."""
    try:
        field = model._meta.get_field(name)
    except Exception:
        return True  # not a model field: an annotation, checked against the queryset by the caller
    return field.concrete and not field.is_relation


def _list_plan(serializer) -> list[tuple[str, str, object, type | None]] | None:
    """(name, values() path, field, type shown as is) per readable field, or None if a field is not one column."""
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None:
        return None
    plan = []
    for field in serializer._readable_fields:
        column = _column(field, model)
        if column is None:
            return None
        plan.append((field.field_name, column[0], field, column[1]))
    return plan


def _show_column(field, as_is: type | None):
    """The representation of one column's values: None stays None (as DRF shows a null attribute), a value of
    the type shown as is stays itself, any other value goes through the field, once per distinct value."""
    represent = field.to_representation
    memo: dict = {}

    def show(value):
        if value is None or type(value) is as_is or as_is is object:
            return value
        try:
            return memo[value]
        except KeyError:
            shown = memo[value] = represent(value)
            return shown
        except TypeError:  # unhashable
            return represent(value)

    return show


class FastListMixin:
    """`list()` reading the page as tuples of the serializer's columns (see the module's docstring); a
    serializer with a field that is not one column, or a queryset without a column the plan names, gets DRF's
    own `list()`."""

    def list(self, request, *args, **kwargs):
        serializer = self.get_serializer()
        plan = _list_plan(serializer)
        queryset = self.filter_queryset(self.get_queryset())
        if plan is None or not _has_columns(queryset, plan):
            return super().list(request, *args, **kwargs)
        names = [name for name, _, _, _ in plan]
        shows = [_show_column(field, as_is) for _, _, field, as_is in plan]
        rows = queryset.values_list(*[path for _, path, _, _ in plan])
        page = self.paginate_queryset(rows)
        data = [
            {name: show(value) for name, show, value in zip(names, shows, row, strict=True)}
            for row in (rows if page is None else page)
        ]
        return self.get_paginated_response(data) if page is not None else Response(data)


def _has_columns(queryset, plan) -> bool:
    """Every plan path that is not a model field (an annotation) is annotated on `queryset`."""
    model = queryset.model
    annotations = queryset.query.annotations
    for _, path, _, _ in plan:
        try:
            model._meta.get_field(path.split("__")[0])
        except Exception:
            if path not in annotations:
                return False
    return True


# --- validating -----------------------------------------------------------------------------------------


def _only_validators(field, allowed: tuple[type, ...]) -> bool:
    return all(type(validator) in allowed for validator in field.validators)


def _integer_check(field):
    if type(field) is not fields.IntegerField or not _only_validators(field, (MinValueValidator, MaxValueValidator)):
        return None
    low, high = field.min_value, field.max_value

    def check(value):
        if type(value) is not int or (low is not None and value < low) or (high is not None and value > high):
            return _FALLBACK
        return value

    return check


def _char_check(field):
    allowed = (
        MaxLengthValidator,
        MinLengthValidator,
        ProhibitNullCharactersValidator,
        ProhibitSurrogateCharactersValidator,
    )
    if type(field) is not fields.CharField or not _only_validators(field, allowed):
        return None
    trim, allow_blank = field.trim_whitespace, field.allow_blank
    low, high = field.min_length or 0, field.max_length

    def check(value):
        if type(value) is not str:
            return _FALLBACK
        if trim:
            value = value.strip()
        if not value:
            return "" if allow_blank else _FALLBACK
        if len(value) < low or (high is not None and len(value) > high) or "\x00" in value:
            return _FALLBACK
        if not value.isascii():
            try:
                value.encode()  # a lone surrogate cannot be encoded: DRF refuses those
            except UnicodeEncodeError:
                return _FALLBACK
        return value

    return check


def _date_check(field):
    formats = getattr(field, "input_formats", api_settings.DATE_INPUT_FORMATS)
    if (
        not isinstance(field, fields.DateField)
        # DRF's own, or ours that only refuses more (a string not written YYYY-MM-DD, which `check` leaves to it)
        or type(field).to_internal_value not in (fields.DateField.to_internal_value, BoundedDateField.to_internal_value)
    ):
        return None
    if [str(f).lower() for f in formats] != [ISO_8601] or not _only_validators(
        field, (MinValueValidator, MaxValueValidator)
    ):
        return None
    validators = field.validators
    seen: dict[str, date] = {}  # a batch repeats its dates; the plan (and this) lives as long as one serializer

    def check(value):
        if type(value) is not str:
            return _FALLBACK
        parsed = seen.get(value)
        if parsed is not None:
            return parsed
        if not ISO_DATE.fullmatch(value):
            return _FALLBACK
        try:
            parsed = date.fromisoformat(value)  # what DRF's parse_date gives for YYYY-MM-DD
            for validator in validators:
                validator(parsed)
        except Exception:
            return _FALLBACK
        if len(seen) < 4096:
            seen[value] = parsed
        return parsed

    return check


def _choice_check(field):
    if type(field) is not fields.ChoiceField or field.validators:
        return None
    choices = field.choice_strings_to_values

    def check(value):
        if type(value) is not str or value not in choices:
            return _FALLBACK
        return choices[value]

    return check


def _validation_plan(serializer):
    if serializer.validators or getattr(serializer.root, "partial", False):
        return None
    plan = []
    for field in serializer._writable_fields:
        if field.required or field.default is not fields.empty or "." in field.source or field.source == "*":
            return None
        for make in (_integer_check, _char_check, _date_check, _choice_check):
            check = make(field)
            if check is not None:
                break
        else:
            return None
        plan.append((field.field_name, field.source, check, getattr(serializer, f"validate_{field.field_name}", None)))
    return plan


class FastValidationMixin:
    def run_validation(self, data=fields.empty):
        if type(data) is dict:
            plan = self.__dict__.get("_fast_validation_plan", _FALLBACK)
            if plan is _FALLBACK:
                plan = self.__dict__["_fast_validation_plan"] = _validation_plan(self)
            if plan is not None:
                value = self._fast_validate(plan, data)
                if value is not None:
                    return value
        return super().run_validation(data)

    def _fast_validate(self, plan, data: dict) -> dict | None:
        # The steps for the fields that `data` has, in the fields' order: the others are not required and have
        # no default, so DRF leaves them out too. The items of a batch mostly share their keys, so the steps
        # are found once per set of keys.
        by_keys = self.__dict__.setdefault("_fast_steps_by_keys", {})
        keys = tuple(data)
        steps = by_keys.get(keys)
        if steps is None:
            if any(key not in self.fields for key in keys):
                return None  # an unknown field: DRF's path names it (`fields.KnownFieldsMixin`)
            steps = [step for step in plan if step[0] in data]
            if len(by_keys) < 64:
                by_keys[keys] = steps
        ret = {}
        try:
            for name, source, check, validate_method in steps:
                value = check(data[name])
                if value is _FALLBACK:
                    return None
                if validate_method is not None:
                    value = validate_method(value)
                ret[source] = value
            return self.validate(ret)
        except Exception:
            return None  # DRF's path raises the error, worded its way
