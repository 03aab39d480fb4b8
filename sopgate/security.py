"""Production hardening that Django 5.2 does not ship: a Content Security Policy header, slowed logins, no NUL
in a page's query or in the session and CSRF cookies."""

import functools

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import connections, router
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.crypto import salted_hmac

from .rows import columns_of, instance_from_row

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


class ThrottledLoginBackend(ModelBackend):
    """Refuses a username after repeated failed logins for a while, so password guessing is slowed.

    Counts failures per username in the cache (a local-memory cache works without Redis); a correct password
    during the lock-out is refused too, and a success otherwise clears the count.
    """

    def _key(self, username: str) -> str:
        digest = salted_hmac("sopgate-login", (username or "").lower()).hexdigest()[:32]
        return f"login-failures:{digest}"

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        key = self._key(username)
        limit = settings.LOGIN_FAILURE_LIMIT
        if cache.get(key, 0) >= limit:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, settings.LOGIN_LOCKOUT_SECONDS)
        else:
            cache.delete(key)
        return user

    def get_user(self, user_id):
        """The session's user, with its supplier membership (or the lack of one) read in the same statement:
        every dashboard and admin request asks `parts.selectors.user_is_engineer`, which looks at it. Written
        out (`_user_statement`): `select_related("supplier_membership").get(pk=...)` took ~0.45 ms more of
        the process's time, a tenth of a small page's. A user model spread over several tables, or kept in a
        database of its own, is read the ORM's way."""
        from django.contrib.auth import get_user_model

        from parts.models import SupplierUser

        user_model = get_user_model()
        using = router.db_for_read(user_model)
        if user_model._meta.parents or using != router.db_for_read(SupplierUser):
            return super().get_user(user_id)
        with connections[using].cursor() as cursor:
            cursor.execute(_user_statement(user_model, using), [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user, membership_row = instance_from_row(user_model, row, using)
        # Cache the membership, or its absence, on the user as select_related does, so asking costs no query.
        if membership_row[0] is None:  # its primary key, the user: NULL without a membership
            SupplierUser._meta.get_field("user").remote_field.set_cached_value(user, None)
        else:
            user.supplier_membership = instance_from_row(SupplierUser, membership_row, using)[0]
        return user if self.user_can_authenticate(user) else None

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


@functools.cache
def _user_statement(user_model, using: str) -> str:
    """The user with the id `%s`: its columns, then its supplier membership's (NULLs without one), each in
    `concrete_fields` order."""
    from parts.models import SupplierUser

    quote = connections[using].ops.quote_name
    user, membership = user_model._meta, SupplierUser._meta
    return (
        f"SELECT {columns_of(user_model, 'u', using)}, {columns_of(SupplierUser, 'm', using)} "
        f"FROM {quote(user.db_table)} u LEFT JOIN {quote(membership.db_table)} m "
        f"ON m.{quote(membership.get_field('user').column)} = u.{quote(user.pk.column)} "
        f"WHERE u.{quote(user.pk.column)} = %s"
    )


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
