from django.apps import AppConfig


class SopgateConfig(AppConfig):
    name = "sopgate"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The re-scan triggers, and the receivers that publish the scans and alerts the gate asks for.
        from . import receivers, tasks  # noqa: F401
