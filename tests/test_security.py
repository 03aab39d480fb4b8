"""Production hardening: deploy checks, security headers, login lock-out, inactive accounts, tokens, proxies,
health report."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import EngineerFactory, SupplierUserFactory, UserFactory, api_token

ROOT = Path(__file__).resolve().parents[1]


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "sopgate.example.com",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_COOKIES": "1",
    }
    env.pop("SECURE_HSTS_SECONDS", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_pages_carry_csp_and_refuse_framing(client):
    client.force_login(EngineerFactory(username="eng"))
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] in ("'self'", "'none'")
    assert directives["script-src"] == "'self'", "no inline or third-party scripts"
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def lockout(settings):
    """django-axes counting failures with a limit of 3, from a clean count: in the Redis cache when the run has one
    (cleared around the test), else in the database (rolled back with the test)."""
    from django.core.cache import cache

    settings.AXES_FAILURE_LIMIT = 3
    cache.clear()
    yield
    cache.clear()


def _login(client, username, password, address="127.0.0.1"):
    client.logout()
    response = client.post(reverse("admin:login"), {"username": username, "password": password}, REMOTE_ADDR=address)
    return response, "_auth_user_id" in client.session


@pytest.mark.django_db
def test_repeated_failed_logins_lock_that_username_from_that_address_for_a_while(client, lockout):
    EngineerFactory(username="eng", password="right-password-123")
    for _ in range(2):
        response, logged_in = _login(client, "eng", "wrong")
        assert response.status_code == 200 and not logged_in
    # The third failure locks the pair; now even the right password is refused, with a page that says so.
    assert _login(client, "eng", "wrong")[0].status_code == 429
    response, logged_in = _login(client, "eng", "right-password-123")
    assert response.status_code == 429 and not logged_in
    assert "Login refused for now" in response.content.decode()
    # Nobody can lock an engineer out from elsewhere: the same username from another address still logs in.
    response, logged_in = _login(client, "eng", "right-password-123", address="10.1.2.3")
    assert logged_in
    # Another user from the first address is unaffected.
    EngineerFactory(username="other", password="other-password-123")
    assert _login(client, "other", "other-password-123")[1]


@pytest.mark.django_db
def test_a_success_before_the_limit_clears_the_count(client, lockout):
    EngineerFactory(username="eng", password="right-password-123")
    for _ in range(2):
        assert not _login(client, "eng", "wrong")[1]
    assert _login(client, "eng", "right-password-123")[1]
    for _ in range(2):
        assert not _login(client, "eng", "wrong")[1]
    assert _login(client, "eng", "right-password-123")[1]


@pytest.mark.django_db
def test_forwarded_headers_are_believed_only_behind_a_configured_proxy(client, settings, lockout):
    from django.test import Client, override_settings

    EngineerFactory(username="eng", password="right-password-123")
    # No proxy configured: X-Forwarded-For is anyone's to send, so failures count against the real address.
    for n in range(3):
        client.post(
            reverse("admin:login"),
            {"username": "eng", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    assert _login(client, "eng", "right-password-123")[0].status_code == 429
    # The HTTPS header likewise: without a proxy a forged X-Forwarded-Proto does not make a request secure.
    assert settings.SECURE_PROXY_SSL_HEADER is None
    # (A new Client for each: the security middleware reads its settings when the client first loads it.)
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), SECURE_SSL_REDIRECT=True):
        assert Client().get("/admin/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert Client().get("/admin/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 301


def test_the_proxy_setting_decides_whether_forwarded_headers_are_trusted():
    """settings.py as a deployment reads it: X-Forwarded-Proto and -For only with TRUSTED_PROXY_COUNT set."""
    code = (
        "from django.conf import settings as s; "
        "print(getattr(s, 'SECURE_PROXY_SSL_HEADER', None), s.AXES_IPWARE_PROXY_COUNT, "
        "s.AXES_IPWARE_META_PRECEDENCE_ORDER[0], s.REST_FRAMEWORK['NUM_PROXIES'])"
    )
    outputs = []
    for count in ("0", "1"):
        env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "x" * 50, "TRUSTED_PROXY_COUNT": count}
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
                f"'sopgate.settings'); django.setup(); {code}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        outputs.append(result.stdout.strip())
    assert outputs == ["None None REMOTE_ADDR None", "('HTTP_X_FORWARDED_PROTO', 'https') 1 HTTP_X_FORWARDED_FOR 1"]


# --- API tokens (django-rest-knox) -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_token_can_be_rotated_and_the_old_one_stops_working(client, capsys):
    UserFactory(username="alice", is_staff=True)
    call_command("create_api_token", "alice")
    old = capsys.readouterr().out.strip().splitlines()[-1]
    assert client.get("/api/parts/", HTTP_AUTHORIZATION=f"Token {old}").status_code == 200
    call_command("create_api_token", "alice", "--rotate")
    new = capsys.readouterr().out.strip().splitlines()[-1]
    assert new != old
    assert client.get("/api/parts/", HTTP_AUTHORIZATION=f"Token {old}").status_code == 401
    assert client.get("/api/parts/", HTTP_AUTHORIZATION=f"Token {new}").status_code == 200


@pytest.mark.django_db
def test_api_tokens_are_stored_hashed_and_expire(client):
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone
    from knox.models import AuthToken

    token = api_token(EngineerFactory())
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM knox_authtoken")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert token not in stored and token[:15] in stored  # the digest and the look-up prefix, not the token
    assert client.get("/api/parts/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/parts/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 401 and not AuthToken.objects.exists()  # knox deletes an expired token


# --- Inactive users and the users of an inactive supplier are refused everywhere -----------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("what", ["user", "supplier"])
def test_an_inactive_supplier_user_or_supplier_is_refused_by_the_api(client, what):
    membership = SupplierUserFactory()
    token = api_token(membership.user)
    assert client.get("/api/parts/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    if what == "user":
        type(membership.user).objects.filter(pk=membership.user.pk).update(is_active=False)
        reason = "This account is inactive."
    else:
        type(membership.supplier).objects.filter(pk=membership.supplier.pk).update(is_active=False)
        reason = f"Supplier {membership.supplier.code} is inactive."
    for method, path in (("get", "/api/parts/"), ("get", "/api/supplier-updates/"), ("post", "/api/supplier-updates/")):
        response = getattr(client, method)(path, HTTP_AUTHORIZATION=f"Token {token}", content_type="application/json")
        assert response.status_code == 401, (method, path, response.content)
        assert response.json() == {"detail": reason}


@pytest.mark.django_db
def test_an_inactive_suppliers_user_has_no_session_and_cannot_log_in(client, lockout):
    from sopgate.security import AccountBackend

    membership = SupplierUserFactory(user=UserFactory(username="sam", password="sam-password-123"))
    backend = AccountBackend()
    assert backend.get_user(membership.user.pk) == membership.user
    type(membership.supplier).objects.filter(pk=membership.supplier.pk).update(is_active=False)
    assert backend.get_user(membership.user.pk) is None
    assert backend.authenticate(None, username="sam", password="sam-password-123") is None
    client.force_login(membership.user)
    assert client.get("/api/parts/").status_code in (401, 403)


@pytest.mark.django_db
def test_health_reports_each_backing_service(client, settings):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["services"]["database"] == "ok"
    assert body["services"]["broker"].startswith("ok")
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    body = client.get("/health/").json()
    assert body["services"]["broker"].startswith("error")
    assert body["status"] == "ok", "a dead broker degrades alerts, not the API: the app stays up"


# --- Sessions (Django's database store) and the session's user (`AccountBackend.get_user`) -------------------


@pytest.mark.django_db
def test_a_logged_in_session_is_read_back_and_an_expired_or_unknown_one_is_anonymous(client):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    engineer = EngineerFactory()
    client.force_login(engineer)
    assert client.get(reverse("dashboard:index")).status_code == 200

    key = client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 302 and "/login/" in response["Location"]  # expired: logged out

    client.cookies["sessionid"] = "no-such-session-key-000000000000"
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_the_sessions_user_comes_with_its_supplier_membership_in_one_query(django_assert_num_queries):
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from sopgate.roles import supplier_id_for_user, user_is_engineer
    from tests.factories import SupplierUserFactory

    membership = SupplierUserFactory()
    for user, supplier_id in ((membership.user, membership.supplier_id), (EngineerFactory(), None)):
        session = SessionStore()
        session.update(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "sopgate.security.AccountBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
        )
        session.save()
        request = RequestFactory().get("/")
        request.session = SessionStore(session.session_key)
        with django_assert_num_queries(2):  # the session, then the user joined to its membership
            loaded = get_user(request)
            assert loaded.pk == user.pk
            assert supplier_id_for_user(loaded) == supplier_id
            assert user_is_engineer(loaded) is (supplier_id is None)
        fields = type(user)._meta.concrete_fields
        from_orm = type(user).objects.get(pk=user.pk)
        ours, theirs = ([f.value_from_object(u) for f in fields] for u in (loaded, from_orm))
        assert ours == theirs and list(map(type, ours)) == list(map(type, theirs))  # True is not 1, aware stays aware
        assert loaded.is_authenticated and not loaded._state.adding

    inactive = EngineerFactory(is_active=False)
    from sopgate.security import AccountBackend

    assert AccountBackend().get_user(inactive.pk) is None
    assert AccountBackend().get_user(10**9) is None


@pytest.mark.django_db
def test_a_changed_password_or_a_deactivated_user_ends_the_session(client):
    engineer = EngineerFactory()
    page = reverse("dashboard:index")
    client.force_login(engineer)
    assert client.get(page).status_code == 200
    engineer.set_password("a-new-password-1234")
    engineer.save()  # the session's hash no longer matches
    assert client.get(page).status_code == 302

    client.force_login(engineer)
    assert client.get(page).status_code == 200
    engineer.is_active = False
    engineer.save()
    assert client.get(page).status_code == 302


@pytest.mark.django_db
def test_the_health_check_answers_over_plain_http_when_https_is_enforced(settings):
    # Compose's healthcheck (and a load balancer's) asks over HTTP; everything else is redirected to HTTPS.
    from django.test import Client

    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/health/").status_code in (200, 503)
    redirected = client.get("/admin/login/")
    assert redirected.status_code == 301 and redirected["Location"].startswith("https://")


@pytest.mark.django_db
@pytest.mark.parametrize("cookie", ["sessionid", "csrftoken"])
@pytest.mark.parametrize("path", ["/", "/admin/", "/admin/login/"])
def test_a_nul_in_the_session_or_csrf_cookie_is_a_400_not_a_500(cookie, path):
    from django.db import connection

    assert connection.vendor == "postgresql"  # which cannot compare a NUL with text: the 500 came from there
    client = Client(raise_request_exception=False)
    client.cookies[cookie] = "abcdefgh\x00ijklmnopqrstuvwxyz0123456789"
    for response in (client.get(path), client.post(path, {})):
        assert response.status_code == 400
        assert f"The {cookie} cookie holds a NUL character".encode() in response.content


@pytest.mark.django_db
def test_a_nul_in_the_session_cookie_is_a_json_400_on_the_api():
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnopqrstuvwxyz0123456789"
    response = client.get("/api/programs/")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The sessionid cookie holds a NUL character; clear this site's cookies and log in again."
    }
