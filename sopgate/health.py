"""Health endpoint: reports each backing service; answers 200 while the database works."""

import socket
from urllib.parse import urlparse

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"


def _check_broker() -> str:
    if not settings.REDIS_URL:
        return "ok (embedded filesystem broker)"
    url = urlparse(settings.REDIS_URL)
    try:
        with socket.create_connection((url.hostname or "localhost", url.port or 6379), timeout=1) as sock:
            sock.settimeout(1)
            sock.sendall(b"PING\r\n")
            reply = sock.recv(16)
        return "ok" if reply.startswith(b"+PONG") else f"error: unexpected reply {reply!r}"
    except OSError as exc:
        return f"error: {type(exc).__name__}"


def health(request):
    services = {"database": _check_database(), "broker": _check_broker()}
    status = 200 if services["database"] == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "degraded", "services": services}, status=status)
