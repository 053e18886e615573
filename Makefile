# Envoxy workspace. The two commands a newcomer needs:
#   make run    serve the reference service under envoxyd on 127.0.0.1:8080
#   make test   install everything, start the local servers, run every check
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: help run test dev bootstrap services services-stop test-all test-unit test-integration \
        test-cov lint lint-ruff lint-deps format type-check wheels check-dists bench clean

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

run: bootstrap  ## serve the reference service (SQLite) on 127.0.0.1:8080
	tools/run-service

test: bootstrap services  ## everything CI runs: lint, types, all tests, wheels and clean-venv checks
	$(MAKE) --no-print-directory lint-ruff lint-deps type-check
	$(BIN)/pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory check-dists

bootstrap:  ## create .venv (Python 3.12+) with every package editable and the dev tools
	@tools/bootstrap

dev: bootstrap  ## development environment plus the pre-commit hook
	$(BIN)/pre-commit install

services:  ## install (if missing) and start PostgreSQL, Redis, Mosquitto and the CouchDB-API server
	tools/services start

services-stop:  ## stop the local servers
	tools/services stop

test-unit: bootstrap  ## tests that need no server
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

test-integration: bootstrap services  ## tests that talk to real servers
	$(BIN)/pytest -m "not unit" $(PYTEST_ARGS)

test-cov: bootstrap services  ## all tests with coverage; HTML report in htmlcov/index.html
	$(BIN)/pytest --cov --cov-report=term --cov-report=html $(PYTEST_ARGS)

lint: lint-ruff lint-deps  ## ruff (lint and format check) and the dependency rules

lint-ruff: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint-deps: bootstrap  ## dependency rules: import-linter contracts, deptry per distribution
	$(BIN)/python tools/lint_imports.py --no-logo
	for folder in $$($(BIN)/python tools/workspace.py folders); do \
	    (cd $$folder && $(CURDIR)/$(BIN)/deptry src); \
	done

format: bootstrap  ## format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

type-check: bootstrap  ## mypy over every package
	$(BIN)/mypy packages/*/src services/template_service/template_service tools/*.py tools/bench/*.py testing/envoxy_testing

wheels: bootstrap  ## build every wheel and sdist into dist/
	$(BIN)/python tools/release.py build-all

check-dists: bootstrap  ## build the wheels, check their contents, prove the clean-venv installs
	$(BIN)/python tools/release.py build-all
	$(BIN)/python tools/release.py check-all
	$(BIN)/python tools/release.py clean-venv-checks

bench: bootstrap  ## side-by-side benchmarks (see tools/bench/README.md)
	$(BIN)/python tools/bench/run.py

clean:  ## remove build output and caches (keeps .venv)
	rm -rf dist build htmlcov .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache \
	    .import_linter_cache
