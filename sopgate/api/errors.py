"""Every API error is JSON that names the field and the reason; nothing unexpected becomes a bare 500."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, IntegrityError | DataError):
        # Validation catches these first; this is the net for a race (two requests creating the same code) or
        # a value the serializers let through. The write was rolled back with its transaction.
        logger.warning("database refused an API write: %s", exc)
        exc = exceptions.ValidationError(
            {"non_field_errors": ["The database refused this change (a unique value is taken or a value is invalid)."]}
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(int(exc.wait) + 1)
    return response
