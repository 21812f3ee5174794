# The two commands: `make sync` sets everything up and runs the main job; `make test` runs the tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: sync dev test lint benchmark setup

setup: $(VENV)/.installed

# pip is quiet but slow the first time: say so before each step instead of printing nothing for minutes.
$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || { echo "==> Creating the virtualenv $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> Upgrading pip in $(VENV)"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> Installing rutter-pipeline and its dependencies (Dagster, dbt, ...) into $(VENV): a few minutes the first time"
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@
	@echo "==> $(VENV) is ready"

## Main job: embedded PostgreSQL + offline sandbox unless configured otherwise.
sync: setup
	@echo "==> rutter-pipeline sync: sandbox → embedded PostgreSQL → dbt marts (a line per run follows)"
	@$(BIN)/rutter-pipeline sync

## The Dagster UI on http://127.0.0.1:3000 with the same defaults.
dev: setup
	$(BIN)/rutter-pipeline dev

## Lint, format check and type check first: a finding stops the run before the slower tests.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n 2 -q

## The benchmarks also need the `bench` extra (dlt, the anchor they are compared with).
$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

benchmark: setup $(VENV)/.bench-installed
	$(BIN)/python -m pytest -q -m benchmark -p no:xdist benchmarks
