from django.apps import AppConfig
from django.db.backends.signals import connection_created


class SopgateConfig(AppConfig):
    name = "sopgate"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the re-scan triggers)

        connection_created.connect(_register_sqlite_functions)


def _register_sqlite_functions(sender, connection, **kwargs) -> None:
    """SQLite has no row hash of its own: the gate's statements call ours (see `sopgate.rules.sql._row_hash`)."""
    if connection.vendor == "sqlite":
        from .rules.sql import SQLITE_ROW_HASH, sqlite_row_hash

        connection.connection.create_function(SQLITE_ROW_HASH, -1, sqlite_row_hash, deterministic=True)
