from django.apps import AppConfig


class SopgateConfig(AppConfig):
    name = "sopgate"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the re-scan triggers)
