"""Production hardening: deploy checks, security headers, slowed logins, token rotation, health report."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import EngineerFactory, UserFactory

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


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_username_for_a_while(client, settings):
    from django.core.cache import cache

    cache.clear()
    settings.LOGIN_FAILURE_LIMIT = 3
    EngineerFactory(username="eng", password="right-password-123")
    login_url = reverse("admin:login")
    for _ in range(3):
        response = client.post(login_url, {"username": "eng", "password": "wrong"})
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    # Locked out: even the right password is refused now.
    client.post(login_url, {"username": "eng", "password": "right-password-123"})
    assert "_auth_user_id" not in client.session
    # Another user is unaffected.
    EngineerFactory(username="other", password="other-password-123")
    client.post(login_url, {"username": "other", "password": "other-password-123"})
    assert "_auth_user_id" in client.session
    cache.clear()


@pytest.mark.django_db
def test_api_token_can_be_rotated_and_the_old_one_stops_working(client, capsys):
    user = UserFactory(username="alice", is_staff=True)
    call_command("create_api_token", "alice")
    old = capsys.readouterr().out.strip().splitlines()[-1]
    assert client.get("/api/parts/", HTTP_AUTHORIZATION=f"Token {old}").status_code == 200
    call_command("create_api_token", "alice", "--rotate")
    new = capsys.readouterr().out.strip().splitlines()[-1]
    assert new != old and Token.objects.get(user=user).key == new
    assert client.get("/api/parts/", HTTP_AUTHORIZATION=f"Token {old}").status_code == 401
    assert client.get("/api/parts/", HTTP_AUTHORIZATION=f"Token {new}").status_code == 200


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


# --- Sessions (`sopgate.sessions`) and the session's user (`ThrottledLoginBackend.get_user`) -------------------


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
def test_the_session_store_answers_like_djangos_own():
    from django.contrib.sessions.backends.db import SessionStore as DjangoStore

    from sopgate.sessions import SessionStore

    ours = SessionStore()
    ours["answer"] = 42
    ours.save()
    assert SessionStore(ours.session_key).load() == DjangoStore(ours.session_key).load() == {"answer": 42}
    missing = SessionStore("x" * 32)
    assert missing.load() == {} and missing.session_key is None  # a key that matches nothing is dropped


@pytest.mark.django_db
def test_the_sessions_user_comes_with_its_supplier_membership_in_one_query(django_assert_num_queries):
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user
    from django.test import RequestFactory

    from parts.selectors import supplier_id_for_user, user_is_engineer
    from sopgate.sessions import SessionStore
    from tests.factories import SupplierUserFactory

    membership = SupplierUserFactory()
    for user, supplier_id in ((membership.user, membership.supplier_id), (EngineerFactory(), None)):
        session = SessionStore()
        session.update(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "sopgate.security.ThrottledLoginBackend",
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
    from sopgate.security import ThrottledLoginBackend

    assert ThrottledLoginBackend().get_user(inactive.pk) is None
    assert ThrottledLoginBackend().get_user(10**9) is None


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
