# tierwise developer tasks. `make help` lists them.
VENV ?= /tmp/venv
PY := $(VENV)/bin/python

.PHONY: help install test test-sync contract lint typecheck check demo ci lock bench namespace

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: ## editable install with the test extras (sandbox included) into $(VENV)
	$(PY) -m pip install -e '.[test]'

test: ## the whole test suite (what CI runs)
	$(PY) -m pytest

test-sync: ## only the sync worker's tests
	$(PY) -m pytest tests/sync

contract: ## the connector contract: both connectors on the sandbox and the engine's double
	$(PY) -m pytest tests/contract

lint: ## ruff check and ruff format --check (as CI)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: ## mypy --strict on every package (pyproject's list)
	$(VENV)/bin/mypy

check: lint typecheck test ## lint, types and tests

demo: ## the sandbox demo: two runs against emulated Salesforce + HubSpot
	$(VENV)/bin/tierwise demo

ci: ## the CI script: fresh virtualenv, install, README test command
	bash .ci/run

lock: ## regenerate the container's pinned versions
	{ head -2 deploy/requirements.lock; $(VENV)/bin/pip freeze --exclude-editable | grep -v '^tierwise'; } > deploy/requirements.lock.new
	mv deploy/requirements.lock.new deploy/requirements.lock

namespace: ## install names under tierwise.* (tools/namespace.py; idempotent)
	PATH=$(VENV)/bin:$$PATH $(PY) tools/namespace.py

bench: ## the benchmarks (not part of the test run)
	for f in bench/bench_*.py; do $(PY) "$$f" || exit 1; done
