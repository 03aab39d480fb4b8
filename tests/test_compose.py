"""docker-compose.yml, Dockerfile and requirements: the full stack is described, and described right."""

import re
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
DJANGO_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose_text():
    return (BASE_DIR / "docker-compose.yml").read_text()


@pytest.fixture(scope="module")
def services(compose_text):
    return yaml.safe_load(compose_text)["services"]


def _command(service) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def _settings_env_names() -> set[str]:
    source = (BASE_DIR / "sopgate" / "settings.py").read_text()
    names = set(re.findall(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))
    assert {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= names  # the parser still works
    return names


def test_all_services_present(services):
    assert set(services) == {"db", "redis", "web", "worker", "beat", "mailpit"}


def test_exactly_one_beat(services):
    beats = [name for name, service in services.items() if re.search(r"\bcelery\b.*\bbeat\b", _command(service))]
    assert beats == ["beat"]
    assert "replicas" not in str(services["beat"].get("deploy", {}))


def test_web_worker_and_beat_share_one_definition(compose_text, services):
    assert re.search(r"^x-django: &django$", compose_text, re.M)
    for name in DJANGO_SERVICES:
        assert re.search(rf"^  {name}:\n    <<: \*django$", compose_text, re.M), name
    images = {services[name]["image"] for name in DJANGO_SERVICES}
    environments = [services[name]["environment"] for name in DJANGO_SERVICES]
    assert len(images) == 1
    assert environments[0] == environments[1] == environments[2]
    assert all(services[name]["build"] == "." for name in DJANGO_SERVICES)


def test_commands(services):
    assert "gunicorn sopgate.wsgi:application" in _command(services["web"])
    assert "manage.py migrate" in _command(services["web"])
    assert re.search(r"^celery -A sopgate worker\b", _command(services["worker"]))
    assert re.search(r"^celery -A sopgate beat\b", _command(services["beat"]))


@pytest.mark.parametrize("name", ["db", "redis", "web"])
def test_healthchecks(services, name):
    healthcheck = services[name]["healthcheck"]
    assert healthcheck["test"]
    assert healthcheck.get("retries", 0) >= 1


def test_start_order_waits_for_healthy_dependencies(services):
    web = services["web"]["depends_on"]
    assert web["db"]["condition"] == "service_healthy"
    assert web["redis"]["condition"] == "service_healthy"
    for name in ("worker", "beat"):
        depends = services[name]["depends_on"]
        healthy = {dep for dep, spec in depends.items() if spec["condition"] == "service_healthy"}
        # Directly on db and redis, or on web, which waits for both and has run the migrations.
        assert healthy >= {"db", "redis"} or "web" in healthy, name


def test_every_variable_the_django_services_get_is_read_by_settings(services):
    read = _settings_env_names()
    # The services share one environment; a variable may be read by one of their commands instead (SEED_DEMO).
    commands = " ".join(str(services[name].get("command", "")) for name in DJANGO_SERVICES)
    for name in DJANGO_SERVICES:
        unknown = {var for var in set(services[name]["environment"]) - read if f"${{{var}" not in commands}
        assert not unknown, f"{name} sets {sorted(unknown)}, which neither settings.py nor a command reads"


def test_web_seeds_the_demo_only_when_asked(services):
    # SEED_DEMO=0 keeps the demo (and its public demo logins) out of a real database.
    assert services["web"]["environment"]["SEED_DEMO"] == "${SEED_DEMO:-1}"
    assert "if [ $${SEED_DEMO:-1} = 1 ]; then python manage.py seed_demo; fi" in services["web"]["command"]


def test_the_image_leaves_local_state_and_secrets_out():
    ignored = (BASE_DIR / ".dockerignore").read_text().split()
    assert {".venv", ".env", "db.sqlite3*", "var/", ".git"} <= set(ignored)


def test_redis_keeps_its_append_only_file_in_a_volume(services):
    assert "redis-data:/data" in services["redis"]["volumes"]


def test_django_services_reach_the_compose_backends(services):
    env = services["web"]["environment"]
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["EMAIL_URL"] == "smtp://mailpit:1025"
    assert env["DEBUG"] in ("0", "${DEBUG:-0}")  # off unless the operator turns it on


def test_env_example_lists_every_variable_settings_read():
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (BASE_DIR / ".env.example").read_text(), re.M))
    assert _settings_env_names() - listed == set()


def test_dockerfile_and_pinned_requirements():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert "requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)  # not running as root
    for requirements in ("requirements.txt", "requirements-dev.txt"):
        for line in (BASE_DIR / requirements).read_text().splitlines():
            line = line.strip()
            if not line or line.startswith(("#", "-r ")):
                continue
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][A-Za-z0-9.\-]*", line), f"{requirements}: {line}"
