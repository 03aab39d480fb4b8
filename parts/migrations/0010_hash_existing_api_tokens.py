"""API tokens move from rest_framework.authtoken (stored as issued) to django-rest-knox (stored as SHA-512 digests,
expiring). Tokens already handed out keep working: each is stored again as knox stores it, expiring after
API_TOKEN_TTL_DAYS from now, and the table of plain tokens is dropped."""

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from knox.crypto import hash_token
from knox.settings import CONSTANTS

PLAIN_TOKENS = "authtoken_token"


def store_plain_tokens_hashed(apps, schema_editor):
    connection = schema_editor.connection
    if PLAIN_TOKENS not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name('key')}, user_id FROM {PLAIN_TOKENS}")
        rows = cursor.fetchall()
    ttl = settings.REST_KNOX.get("TOKEN_TTL")
    expiry = timezone.now() + ttl if ttl else None
    AuthToken = apps.get_model("knox", "AuthToken")
    AuthToken.objects.bulk_create(
        AuthToken(digest=hash_token(key), token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id, expiry=expiry)
        for key, user_id in rows
    )
    schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(PLAIN_TOKENS)}")


class Migration(migrations.Migration):
    dependencies = [
        ("parts", "0009_supplier_update_owner_and_reporter"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [migrations.RunPython(store_plain_tokens_hashed, migrations.RunPython.noop)]
