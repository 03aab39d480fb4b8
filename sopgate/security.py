"""Production hardening that Django 5.2 does not ship: a Content Security Policy header, no NUL in a page's
query or in the session and CSRF cookies, and a login that refuses inactive accounts."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpResponseBadRequest, JsonResponse

from .roles import user_may_sign_in

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """Adds a strict Content-Security-Policy to every HTML page (no third-party origins, no framing)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CSP)

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and response.get("Content-Type", "").startswith("text/html"):
            response.setdefault("Content-Security-Policy", self.policy)
        return response


class NulInQueryMiddleware:
    """Answers 400 to a page whose address or query string holds a NUL character (%00), which PostgreSQL cannot
    compare with text: Django's admin autocomplete passed `?term=a%00b` to the database, and the program page
    `/programs/SU7%00/` its code, and both failed with a 500. The API refuses such input itself, naming it.

    The session and CSRF cookies are looked at on every path, the API's too: the session store looks its key up
    in the database before any view runs, so a NUL in the cookie was a 500 on every page (and an API 400 that
    blamed a refused change)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.cookie_names = (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)

    def __call__(self, request):
        api = request.path.startswith("/api/")
        for name in self.cookie_names:
            if "\x00" in request.COOKIES.get(name, ""):
                message = f"The {name} cookie holds a NUL character; clear this site's cookies and log in again."
                if api:
                    return JsonResponse({"detail": message}, status=400)
                return HttpResponseBadRequest(message, content_type="text/plain")
        if api:
            return self.get_response(request)
        if "\x00" in request.path:
            return HttpResponseBadRequest("The address holds a NUL character (%00).", content_type="text/plain")
        if "%00" in request.META.get("QUERY_STRING", ""):
            return HttpResponseBadRequest("A query parameter holds a NUL character (%00).", content_type="text/plain")
        return self.get_response(request)


class AccountBackend(ModelBackend):
    """Django's username-and-password backend, refusing inactive users and the users of an inactive supplier
    (`sopgate.roles.user_may_sign_in`) at login and on every request of a session. Repeated failures are
    counted by django-axes, the backend before this one."""

    def user_can_authenticate(self, user) -> bool:
        return user_may_sign_in(user)

    def get_user(self, user_id):
        """The session's user, with its supplier membership (or the lack of one) in the same query: every page
        asks `user_is_engineer`, which looks at it."""
        user = (
            get_user_model()._default_manager.select_related("supplier_membership__supplier").filter(pk=user_id).first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None


class DatabaseUnavailableMiddleware:
    """While the database is unreachable (restart, failover), answer 503 with Retry-After instead of a bare 500.

    Connections are health-checked at the start of each request (CONN_HEALTH_CHECKS), so the app recovers by
    itself once the database is back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import InterfaceError, OperationalError, connections
        from django.http import JsonResponse

        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        for conn in connections.all(initialized_only=True):
            conn.close_if_unusable_or_obsolete()
        response = JsonResponse(
            {"detail": "The database is unavailable; try again shortly."}, status=503, headers={"Retry-After": "5"}
        )
        return response
