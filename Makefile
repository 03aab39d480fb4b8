# SOPGate. The two front-door commands: `make run` (demo) and `make test` (lint + every test).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# The web server's port for `make run` (`make run PORT=8001`).
PORT ?= 8000

# Tests run with production-like settings (DEBUG off) on whatever DATABASE_URL / REDIS_URL say. Without Redis, the
# tasks they queue go to a filesystem broker of their own, emptied at the start of `make test`: `make run`'s worker
# reads var/broker and would otherwise run them.
TEST_BROKER_DIR := var/test-broker
TEST_ENV := DEBUG=0 SECRET_KEY=test-only-secret-key-not-for-production SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0 \
	ALLOWED_HOSTS=localhost,127.0.0.1,testserver EMAIL_URL=memorymail:// SCAN_DEBOUNCE_SECONDS=1 \
	BROKER_DIR=$(TEST_BROKER_DIR)

.PHONY: help venv run test lint format check bench bench-oem clean lock

help:
	@echo "make run        start SOPGate (web, worker, beat) with the SU7 demo program (PORT=$(PORT))"
	@echo "make test       lint and run the whole test suite"
	@echo "make bench      benchmarks at program size (PostgreSQL: DATABASE_URL, else the local server)"
	@echo "make bench-oem  benchmarks at OEM size"

# The locks (requirements.txt for production, requirements-dev.txt = production + tools) pin every package with
# its hashes; `make lock` makes them again from requirements.in and requirements-dev.in.
$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet --require-hashes -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	@DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput -v0
	@DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	@DEBUG=$${DEBUG:-1} VENV=$(VENV) PORT=$(PORT) scripts/run-all.sh

# lint-imports: the one-way layers and the other import contracts of pyproject.toml ([tool.importlinter]).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

check: $(STAMP)
	$(TEST_ENV) $(PY) manage.py check
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run

test: lint check
	rm -rf $(TEST_BROKER_DIR)
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

# Add or upgrade a package: edit requirements.in (or requirements-dev.in), then `make lock`; `make lock
# LOCK_ARGS=--upgrade` moves every package to its newest allowed release.
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 --custom-compile-command "make lock"

lock: $(STAMP)
	$(UV_COMPILE) $(LOCK_ARGS) requirements.in -o requirements.txt
	$(UV_COMPILE) $(LOCK_ARGS) requirements-dev.in -o requirements-dev.txt

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The benchmarks make their own database on the PostgreSQL server that DATABASE_URL names (else the local one).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres

bench: $(STAMP)
	$(TEST_ENV) DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} $(PY) -m bench --size program

bench-oem: $(STAMP)
	$(TEST_ENV) DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} $(PY) -m bench --size oem

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3*
