"""Settings refuse to start without a secret unless DEBUG is on (run in a fresh process, as a deploy would)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def _manage_check(**env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(DJANGO_SETTINGS_MODULE="sopgate.settings", **env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(autouse=True)
def no_dotenv_secret():
    dotenv = BASE_DIR / ".env"
    if dotenv.exists() and "SECRET_KEY=" in dotenv.read_text():
        pytest.skip(".env provides a SECRET_KEY here; the refusal cannot be observed")  # pragma: no cover


@pytest.mark.parametrize("secret", [None, ""], ids=["unset", "empty"])
def test_production_settings_refuse_a_missing_secret(secret):
    overrides = {"DEBUG": "0"} if secret is None else {"DEBUG": "0", "SECRET_KEY": secret}
    result = _manage_check(**overrides)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_without_a_secret_starts():
    result = _manage_check(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_with_a_secret_start():
    result = _manage_check(DEBUG="0", SECRET_KEY="a-long-random-test-secret")
    assert result.returncode == 0, result.stderr


def test_a_digest_hour_out_of_range_is_named():
    result = _manage_check(DEBUG="1", DIGEST_HOUR="24")
    assert result.returncode != 0
    assert "DIGEST_HOUR must be an hour from 0 to 23; got 24." in result.stderr


def test_the_filesystem_broker_uses_broker_dir(tmp_path):
    """Without Redis, tasks go to files under BROKER_DIR: `make test` gives its own, so `make run`'s worker never
    picks up what the tests queued."""
    broker_dir = tmp_path / "broker"
    show = "from django.conf import settings; print(settings.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in'])"
    env = {**os.environ, "DEBUG": "1", "REDIS_URL": "", "BROKER_DIR": str(broker_dir)}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", show], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(broker_dir / "in")
    assert {p.name for p in broker_dir.iterdir()} == {"in", "processed", "control"}


def test_make_test_queues_into_a_broker_folder_of_its_own():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry_run = subprocess.run(
        ["make", "-n", "test", "VENV=.venv-dry-run"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    commands = [line for line in dry_run if "manage.py" in line or "bin/pytest" in line]
    assert commands and all("BROKER_DIR=var/test-broker" in line for line in commands), commands
    assert "rm -rf var/test-broker" in dry_run, "the test broker is emptied before the tests run"
