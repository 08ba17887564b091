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

.PHONY: help run test lint compose-check bench-sweep bench-public bench-documents bench-imports debian-packages venv venv-dev messages migrate seed \
	print-debian-packages print-debian-packages-ci

help:
	@echo "make run            install what is missing, migrate, load demo data, serve http://127.0.0.1:8000/"
	@echo "                    with a Celery worker + beat (worker log: var/log/celery-worker.log); Ctrl-C stops both"
	@echo "make test           install dev requirements and run pytest (PYTEST_ARGS='...' for extra arguments)"
	@echo "make lint           ruff check, makemigrations --check, manage.py check"
	@echo "make compose-check  docker-compose config -q"
	@echo "make bench-sweep    deadline-sweep benchmark on a throwaway PostgreSQL database (BENCH_SIZES='10000 100000',"
	@echo "                    BENCH_DATABASE_URL=postgres://user@host:5432/postgres); results in bench/results/"
	@echo "make bench-public   the public blacklist page and API under load with gunicorn (BENCH_PUBLIC_SIZES='1000 10000')"
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

# The server comes from BENCH_DATABASE_URL, else from DATABASE_URL when it is PostgreSQL, else
# postgres://postgres@127.0.0.1:5432/. bench/sweep.py creates its own database there (portal_sweep_bench), never
# touches the one the URL names, and drops it at the end. The 1,000,000 size takes about half an hour.
BENCH_SIZES ?= 10000 100000 1000000
BENCH_DATABASE_URL ?=

bench-sweep: venv
	$(PY) bench/sweep.py --sizes $(BENCH_SIZES) $(if $(BENCH_DATABASE_URL),--database-url '$(BENCH_DATABASE_URL)')

# The public blacklist page and API under load (gunicorn, Redis cache), as ratios to a bare Django view on the
# same server; its own throwaway database portal_public_bench. About five minutes.
BENCH_PUBLIC_SIZES ?= 1000 10000

bench-public: venv
	$(PY) bench/public_load.py --sizes $(BENCH_PUBLIC_SIZES) $(if $(BENCH_DATABASE_URL),--database-url '$(BENCH_DATABASE_URL)')

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
