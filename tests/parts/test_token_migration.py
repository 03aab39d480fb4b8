"""parts 0010: API tokens handed out before django-rest-knox keep working, stored hashed from then on."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from tests.factories import SupplierUserFactory

migration = importlib.import_module("parts.migrations.0010_hash_existing_api_tokens")
pytestmark = pytest.mark.django_db


def test_a_plain_token_is_stored_as_its_digest_and_still_works(client):
    user = SupplierUserFactory().user
    plain = "0123456789abcdef0123456789abcdef01234567"  # a rest_framework.authtoken key: 40 hex digits
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id integer NOT NULL, created timestamp)"
        )
        cursor.execute("INSERT INTO authtoken_token (key, user_id) VALUES (%s, %s)", [plain, user.pk])
    assert client.get("/api/parts/", HTTP_AUTHORIZATION=f"Token {plain}").status_code == 401

    with connection.schema_editor() as schema_editor:
        migration.store_plain_tokens_hashed(apps, schema_editor)

    assert "authtoken_token" not in connection.introspection.table_names()  # the plain copies are gone
    token = apps.get_model("knox", "AuthToken").objects.get()
    assert plain not in (token.digest, token.token_key) and token.expiry is not None
    response = client.get("/api/parts/", HTTP_AUTHORIZATION=f"Token {plain}")
    assert response.status_code == 200 and response.wsgi_request.user == user


def test_nothing_to_do_without_the_old_table():
    with connection.schema_editor() as schema_editor:
        migration.store_plain_tokens_hashed(apps, schema_editor)
    assert not apps.get_model("knox", "AuthToken").objects.exists()
