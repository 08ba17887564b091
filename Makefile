# Set-up and everyday commands. On a fresh Debian 12 machine `make run` and `make test` are all you need.
#
# Variables from the environment (DATABASE_URL, REDIS_URL, DJANGO_*, PORTAL_*, REQUIRE_SERVICES, ...) pass
# through unchanged to manage.py, pytest and the servers. Extra pytest arguments: make test PYTEST_ARGS='-k uscc'.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Debian packages, kept here only (bin/ensure-debian-packages installs them; .ci/run asks for them with
# `make -s print-debian-packages-ci`):
#   gettext                          compilemessages
#   chromium, fonts-noto-cjk         browser tests and Chinese glyphs
#   libharfbuzz-subset0              fast CJK font subsetting for PDF rendering
#   libpango-1.0-0, libpangoft2-1.0-0  WeasyPrint (official documents as PDF)
#   poppler-utils                    pdffonts and pdftoppm, with which the tests check the PDFs
#   python3-venv                     the .venv
DEBIAN_PACKAGES := gettext chromium fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils python3-venv
# CI only: `docker-compose config` without an engine, psql/createdb, redis-cli.
DEBIAN_PACKAGES_CI := $(DEBIAN_PACKAGES) docker-compose postgresql-client redis-tools

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --require-virtualenv
PYTEST_ARGS ?=

# Stamps: pip runs again only when a requirements file is newer than its stamp.
RUNTIME_STAMP := $(VENV)/.installed-requirements
DEV_STAMP := $(VENV)/.installed-requirements-dev

.PHONY: help run test lint compose-check audit-deps backup restore bench bench-sweep bench-documents bench-imports debian-packages venv venv-dev messages migrate seed \
	print-debian-packages print-debian-packages-ci

help:
	@echo "make run            install what is missing, migrate, load demo data, serve http://127.0.0.1:8000/"
	@echo "                    with a Celery worker + beat (worker log: var/log/celery-worker.log); Ctrl-C stops both"
	@echo "make test           install dev requirements and run pytest (PYTEST_ARGS='...' for extra arguments)"
	@echo "make lint           ruff check, makemigrations --check, manage.py check"
	@echo "make compose-check  docker-compose config -q"
	@echo "make audit-deps     known vulnerabilities of every pinned requirement (pip-audit, OSV database; online only,"
	@echo "                    says so and passes when the database cannot be reached unless AUDIT_REQUIRED=1)"
	@echo "make backup         PostgreSQL (or SQLite) + media into PORTAL_BACKUP_DIR (var/backups), with a manifest"
	@echo "make restore BACKUP=var/backups/<name>  verify and restore one (docs/operations.md); not the keys"
	@echo "make bench          the portal at national scale: seed_scale at BENCH_SCALES='0.1 1', then the public pages under"
	@echo "                    load (gunicorn), search, admin lists, dossier PDF, import and the deadline sweep, each as a"
	@echo "                    ratio to a floor of the same run (PostgreSQL + Redis); results in bench/results/scale.*"
	@echo "make bench-sweep    deadline-sweep benchmark on a throwaway PostgreSQL database (BENCH_SIZES='10000 100000',"
	@echo "                    BENCH_DATABASE_URL=postgres://user@host:5432/postgres); results in bench/results/"
	@echo "make bench-documents  time per official document kind and for dossiers of BENCH_DOCUMENT_PAGES='5 10 20 40' pages"
	@echo "make bench-imports  registry XLSX imports against bulk_create (BENCH_IMPORT_SIZES='1000 5000 10000')"

debian-packages:
	@bin/ensure-debian-packages $(DEBIAN_PACKAGES)

print-debian-packages:
	@echo $(DEBIAN_PACKAGES)

print-debian-packages-ci:
	@echo $(DEBIAN_PACKAGES_CI)

$(PY): | debian-packages
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PIP) install -q -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -q -r requirements-dev.txt
	@touch $@ $(RUNTIME_STAMP)

venv: debian-packages $(RUNTIME_STAMP)

venv-dev: debian-packages $(DEV_STAMP)

var/log:
	@mkdir -p $@

# Django skips catalogues whose .mo is newer than the .po, so this is cheap on the second run.
messages: venv | var/log
	$(PY) manage.py compilemessages --ignore $(VENV) --verbosity 0

migrate: venv | var/log
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: debian-packages venv messages migrate seed
	exec bin/run-dev

test: debian-packages venv-dev messages
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

compose-check:
	@bin/ensure-debian-packages docker-compose
	docker-compose config -q

# Backups (docs/operations.md): the database and the media files, checksummed. The encryption keys are not in
# them and must be kept apart. BACKUP_ARGS passes options (bin/backup --help).
BACKUP ?=
BACKUP_ARGS ?=

backup: venv
	$(PY) bin/backup $(BACKUP_ARGS)

restore: venv
	@test -n "$(BACKUP)" || { echo "make restore BACKUP=<backup directory>"; exit 2; }
	$(PY) bin/restore '$(BACKUP)' $(BACKUP_ARGS)

# Dependency vulnerability check (issue 8): pip-audit looks every pinned requirement up in the OSV database: the
# runtime, development and audit files, each named (with --no-deps pip-audit does not follow a file's `-r`). That
# database is online only, and no maintained copy of it comes from a package registry. So:
#   - database reachable: any known vulnerability, or any requirement that could not be checked, fails;
#   - database unreachable: the check says loudly that it did NOT run and passes, or fails with AUDIT_REQUIRED=1
#     (set it wherever the database is meant to be reachable, e.g. before a release).
# AUDIT_OSV_URL points at another OSV API (a mirror inside the bureau's network). AUDIT_ARGS passes more pip-audit
# options: an `--ignore-vuln ID` needs a comment here saying why the finding does not apply.
# pip-audit lives in its own virtualenv under var/, apart from the portal's packages.
AUDIT_VENV := var/audit-venv
AUDIT_STAMP := $(AUDIT_VENV)/.installed-requirements-audit
AUDIT_OSV_URL ?= https://api.osv.dev/v1/query
AUDIT_REQUIRED ?= 0
AUDIT_ARGS ?=
AUDIT_REQUIREMENTS := requirements.txt requirements-dev.txt requirements-audit.txt

# The database answers, and knows the advisories of an old Django: it is real and filled, not a login page or an
# empty mirror.
define AUDIT_PROBE
import json, sys, urllib.request
query = json.dumps({"package": {"name": "django", "ecosystem": "PyPI"}, "version": "3.0"}).encode()
request = urllib.request.Request(sys.argv[1], data=query, headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=20) as response:
        assert json.load(response).get("vulns"), "no advisory for Django 3.0: not a usable OSV database"
except Exception as error:
    print(f"audit-deps: {error}", file=sys.stderr)
    sys.exit(1)
endef
export AUDIT_PROBE

$(AUDIT_STAMP): requirements-audit.txt | debian-packages
	@mkdir -p $(dir $(AUDIT_VENV))
	$(PYTHON) -m venv $(AUDIT_VENV) || { rm -rf $(AUDIT_VENV); exit 1; }
	$(AUDIT_VENV)/bin/python -m pip --disable-pip-version-check install -q -r requirements-audit.txt
	@touch $@

audit-deps: $(AUDIT_STAMP)
	@if ! $(AUDIT_VENV)/bin/python -c "$$AUDIT_PROBE" '$(AUDIT_OSV_URL)'; then \
		echo "audit-deps: *** NOT RUN: the vulnerability database $(AUDIT_OSV_URL) cannot be reached from here. ***"; \
		echo "audit-deps: no requirement was checked. Run 'make audit-deps' where it can be reached, or set AUDIT_OSV_URL."; \
		if [ "$(AUDIT_REQUIRED)" = 1 ]; then echo "audit-deps: AUDIT_REQUIRED=1: failing."; exit 1; fi; \
		exit 0; \
	fi; \
	echo "audit-deps: checking $(AUDIT_REQUIREMENTS) against $(AUDIT_OSV_URL)"; \
	$(AUDIT_VENV)/bin/pip-audit --no-deps --disable-pip --strict --progress-spinner off --desc on \
		--vulnerability-service osv --osv-url '$(AUDIT_OSV_URL)' $(addprefix -r ,$(AUDIT_REQUIREMENTS)) $(AUDIT_ARGS)

# The server comes from BENCH_DATABASE_URL, else from DATABASE_URL when it is PostgreSQL, else
# postgres://postgres@127.0.0.1:5432/. bench/sweep.py creates its own database there (portal_sweep_bench), never
# touches the one the URL names, and drops it at the end. The 1,000,000 size takes about half an hour.
BENCH_SIZES ?= 10000 100000 1000000
BENCH_DATABASE_URL ?=

bench-sweep: venv
	$(PY) bench/sweep.py --sizes $(BENCH_SIZES) $(if $(BENCH_DATABASE_URL),--database-url '$(BENCH_DATABASE_URL)')

# The whole portal at two data sizes (issue 9; bench/scale.py, bench/README.md): its own throwaway database
# portal_scale_bench on the BENCH_DATABASE_URL/DATABASE_URL server (else 127.0.0.1), Redis database 10 of
# BENCH_REDIS_URL (flushed). PostgreSQL and Redis must be running. About a quarter of an hour on 2 CPUs.
BENCH_SCALES ?= 0.1 1
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/10
BENCH_ARGS ?=

bench: venv-dev
	$(PY) bench/scale.py --scales $(BENCH_SCALES) --redis-url '$(BENCH_REDIS_URL)' \
		$(if $(BENCH_DATABASE_URL),--database-url '$(BENCH_DATABASE_URL)') $(BENCH_ARGS)

# Time per official document kind (issued from the demo data) and for enterprise dossiers of about these many
# pages, as ratios to a one-line WeasyPrint page in the same run. Its own throwaway SQLite database (rendering
# dominates; the database part is reported). About three minutes.
BENCH_DOCUMENT_PAGES ?= 5 10 20 40

bench-documents: venv
	$(PY) bench/documents.py --pages $(BENCH_DOCUMENT_PAGES)

# Registry imports (providers, enterprises) as ratios to a bulk_create of the same rows, at growing sizes; its own
# throwaway database portal_imports_bench. About seven minutes for the default sizes.
BENCH_IMPORT_SIZES ?= 1000 5000 10000

bench-imports: venv
	$(PY) bench/imports.py --sizes $(BENCH_IMPORT_SIZES) $(if $(BENCH_DATABASE_URL),--database-url '$(BENCH_DATABASE_URL)')
