"""Every API error is JSON that names the field and the reason; nothing unexpected becomes a bare 500."""

import logging
from collections import Counter

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from ..roles import NotPermitted

logger = logging.getLogger(__name__)


class _Conflict(exceptions.APIException):
    status_code = 409
    default_code = "conflict"


def _still_referenced(exc: ProtectedError | RestrictedError) -> str:
    """ "Cannot delete this: 3 supplier updates refer to it.", counted per kind of referring object."""
    objects = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    counts = Counter(obj._meta for obj in objects)
    kinds = ", ".join(f"{n} {meta.verbose_name if n == 1 else meta.verbose_name_plural}" for meta, n in counts.items())
    one = sum(counts.values()) == 1
    return f"Cannot delete this: {kinds} refer{'s' if one else ''} to it, and {'it is' if one else 'they are'} kept."


def exception_handler(exc, context):
    if isinstance(exc, NotPermitted):  # who may act, named: DRF's own answer to PermissionDenied would drop it
        exc = exceptions.PermissionDenied(exc.message_dict)
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = _Conflict({"non_field_errors": [_still_referenced(exc)]})
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


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    """Django's 400 answer (a request it refused before any view ran): JSON under /api/. A body over
    DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 that says the limit."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2**20
        return JsonResponse(
            {
                "non_field_errors": [
                    f"The request body is over {limit} MB; send less per request (e.g. fewer updates in a batch)."
                ]
            },
            status=413,
        )
    return JsonResponse({"non_field_errors": ["Bad request."]}, status=400)


def page_not_found(request, exception):
    """Django's 404 answer for a path no URL matches: JSON under /api/, as every other API answer."""
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"detail": f"No API resource at {request.path}. See /api/docs/."}, status=404)
