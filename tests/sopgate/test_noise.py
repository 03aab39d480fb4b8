"""Wording and noise: a program named after its code is not named twice, console emails are not warnings, and
the SQLite-only W040 warning is silenced on SQLite only."""

import subprocess
import sys

from django.conf import settings

from sopgate.programs import Program


def test_a_program_named_after_its_code_is_named_once():
    assert Program(code="SU7", name="SU7 electric sedan").title == "SU7 electric sedan"
    assert Program(code="P1", name="Compact SUV").title == "P1 Compact SUV"
    assert str(Program(code="SU7", name="SU7 electric sedan")) == "SU7 electric sedan"


def test_worker_logs_printed_output_at_info():
    assert settings.CELERY_WORKER_REDIRECT_STDOUTS_LEVEL == "INFO"


def _silenced(database_url: str) -> list[str]:
    code = "import django; django.setup(); from django.conf import settings; print(settings.SILENCED_SYSTEM_CHECKS)"
    env = {"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "sopgate.settings"}
    import os

    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True)
    return out.stdout.strip()


def test_w040_is_silenced_on_sqlite_only(tmp_path):
    assert _silenced(f"sqlite:///{tmp_path / 'db.sqlite3'}") == "['models.W040']"
    assert _silenced("postgres://postgres@127.0.0.1:5432/hviews") == "[]"
