# Two commands for a fresh machine: `make serve` and `make test`. Everything they need is
# installed or started here, so a clean checkout (CI) behaves like a developer's machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/mlflow
MARIADB_URL ?= mysql://root@127.0.0.1:3306/mlflow
# The databases `make test` runs the suite on; a listed one that cannot be reached fails the run.
TEST_DATABASES ?= sqlite postgresql mariadb
PYTEST_ARGS ?=
SYSTEM_PACKAGES := libmariadb-dev pkg-config unixodbc
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test lint types migrations-check services system-deps bench \
	test-sqlite test-postgresql test-mariadb

serve: $(BIN)/.runtime
	$(BIN)/python manage.py db_upgrade
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	exec $(BIN)/gunicorn -c config/gunicorn.py

test: $(BIN)/.test services lint types migrations-check $(addprefix test-,$(TEST_DATABASES))

# mysqlclient compiles against MariaDB's headers; pyodbc (MSSQL) loads unixODBC.
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages: $$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BIN)/.runtime: requirements.txt | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(BIN)/.test: requirements-test.txt $(BIN)/.runtime
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

# PostgreSQL and MariaDB run on this kind of machine; start them if they are down, then insist.
services:
	@if [[ " $(TEST_DATABASES) " == *" postgresql "* ]]; then \
		pg_isready -q -h 127.0.0.1 -p 5432 || \
			{ pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; sleep 2; }; \
		pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL at 127.0.0.1:5432 is unreachable"; exit 1; }; \
	fi
	@if [[ " $(TEST_DATABASES) " == *" mariadb "* ]]; then \
		ping() { mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; }; \
		ping || { start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true; \
			for i in $$(seq 1 30); do ping && break; sleep 1; done; }; \
		ping || { echo "MariaDB at 127.0.0.1:3306 is unreachable"; exit 1; }; \
	fi

# The benchmark against the reference server (bench/README.md); not part of `make test`.
BENCH_ARGS ?=
bench: $(BIN)/.runtime
	$(MAKE) services TEST_DATABASES=postgresql
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(BIN)/.test
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: $(BIN)/.test
	$(BIN)/mypy .

migrations-check: $(BIN)/.test
	$(BIN)/python manage.py makemigrations --check --dry-run

test-sqlite: $(BIN)/.test
	DATABASE_URL=sqlite:// $(BIN)/pytest $(PYTEST_ARGS)

test-postgresql: $(BIN)/.test services
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest $(PYTEST_ARGS)

test-mariadb: $(BIN)/.test services
	DATABASE_URL=$(MARIADB_URL) $(BIN)/pytest $(PYTEST_ARGS)
