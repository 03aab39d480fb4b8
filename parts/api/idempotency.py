"""`Idempotency-Key` for POSTs: a supplier integration that retries after a timeout gets the first response
back instead of storing its updates twice."""

import hashlib
import json

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from ..models import IdempotencyRecord

HEADER = "Idempotency-Key"


def idempotency_key(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise ValidationError({HEADER: ["Must be 1 to 255 printable characters, e.g. a UUID."]})
    return key


def _request_hash(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def run_once(request, create) -> Response:
    """Run `create()` (which returns a Response) once per user and key, inside one transaction with the record.

    A concurrent request with the same key waits on the unique index until the first commits, then replays.
    Failed requests store nothing, so a corrected retry with the same key is processed normally.
    """
    key = idempotency_key(request)
    if key is None:
        return create()
    digest = _request_hash(request)
    for _ in range(2):
        existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if existing is not None:
            if existing.request_hash != digest:
                raise ValidationError(
                    {HEADER: ["This key was already used for a different request; use a new key for new data."]}
                )
            return Response(
                json.loads(existing.response_body),
                status=existing.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        try:
            with transaction.atomic():
                response = create()
                IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    request_hash=digest,
                    status_code=response.status_code,
                    response_body=json.dumps(response.data, cls=JSONEncoder),
                )
                return response
        except IntegrityError:
            continue  # the same key committed meanwhile: replay it
    raise ValidationError({HEADER: ["This key is being used by another request; retry shortly."]})
