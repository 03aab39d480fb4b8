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
    # The demo's logins have a public password: a database gets them only with SEED_DEMO=1, and seed_demo (DEBUG
    # off) only with --yes-demo-logins.
    assert services["web"]["environment"]["SEED_DEMO"] == "${SEED_DEMO:-0}"
    command = services["web"]["command"]
    assert 'if [ "$${SEED_DEMO:-0}" = 1 ]; then python manage.py seed_demo --yes-demo-logins; fi' in command


def test_compose_refuses_to_start_without_a_secret_key(services):
    # `${VAR:?message}` makes `docker compose up` stop with the message when VAR is unset or empty.
    secret = services["web"]["environment"]["SECRET_KEY"]
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]*SECRET_KEY[^}]*\}", secret), secret


def test_the_image_leaves_local_state_and_secrets_out():
    ignored = (BASE_DIR / ".dockerignore").read_text().split()
    assert {".venv", ".env", "db.sqlite3*", "var/", ".git"} <= set(ignored)


def test_redis_keeps_its_append_only_file_in_a_volume(services):
    assert "redis-data:/data" in services["redis"]["volumes"]


def test_django_services_reach_the_compose_backends(services):
    env = services["web"]["environment"]
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["CACHE_URL"].startswith("redis://redis:6379/") and env["CACHE_URL"] != env["REDIS_URL"]
    assert env["EMAIL_URL"] == "smtp://mailpit:1025"
    assert env["DEBUG"] in ("0", "${DEBUG:-0}")  # off unless the operator turns it on


def test_env_example_lists_every_variable_settings_read():
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (BASE_DIR / ".env.example").read_text(), re.M))
    assert _settings_env_names() - listed == set()


def _locked(lock: str) -> dict[str, tuple[str, list[str]]]:
    """The packages a lock file pins, each with its version and hashes; fails on a line that is neither."""
    packages: dict[str, tuple[str, list[str]]] = {}
    name = None
    for line in (BASE_DIR / lock).read_text().splitlines():
        line = line.strip().removesuffix("\\").strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash=sha256:"):
            packages[name][1].append(line)
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[a-z,\-]+\])?==([0-9][A-Za-z0-9.\-+]*)", line)
        assert match, f"{lock}: {line}"
        name = match.group(1).lower().replace("_", "-")
        packages[name] = (match.group(2), [])
    return packages


def _declared(requirements_in: str) -> set[str]:
    names = set()
    for line in (BASE_DIR / requirements_in).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.match(r"[A-Za-z0-9_.\-]+", line).group(0).lower().replace("_", "-"))
    return names


@pytest.mark.parametrize(
    ("source", "lock"), [("requirements.in", "requirements.txt"), ("requirements-dev.in", "requirements-dev.txt")]
)
def test_locks_pin_every_package_with_hashes(source, lock):
    locked = _locked(lock)
    unhashed = [name for name, (_, hashes) in locked.items() if not hashes]
    assert not unhashed, f"{lock}: no hash for {unhashed}"
    assert _declared(source) <= set(locked), f"{lock} is older than {source}: run `make lock`"


def test_production_lock_holds_what_the_worker_imports_and_no_test_tools():
    production, development = _locked("requirements.txt"), _locked("requirements-dev.txt")
    assert "celery[redis]" in (BASE_DIR / "requirements.in").read_text()
    assert {"packaging", "redis", "kombu", "gunicorn", "psycopg-binary"} <= set(production)  # kombu's Redis transport
    assert not {"pytest", "ruff", "selenium", "aiosmtpd"} & set(production)
    # The development lock is the production one plus tools: the same versions of what both hold.
    differing = {name for name, (version, _) in production.items() if development.get(name, ("",))[0] != version}
    assert not differing, f"requirements-dev.txt lacks or pins other versions of {sorted(differing)}: run `make lock`"


def test_dockerfile_installs_the_production_lock():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert re.search(r"pip install .*--require-hashes -r requirements\.txt", dockerfile)
    assert "collectstatic" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)  # not running as root
    makefile = (BASE_DIR / "Makefile").read_text()
    assert "--require-hashes -r requirements-dev.txt" in makefile


def test_evidence_files_outlive_the_container(services):
    for name in DJANGO_SERVICES:
        assert "evidence:/app/var/media" in services[name]["volumes"], name
