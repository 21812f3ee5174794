# The two commands: `make sync` sets everything up and runs the main job; `make test` runs the tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: sync dev test benchmark setup

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## Main job: embedded PostgreSQL + offline sandbox unless configured otherwise.
sync: setup
	$(BIN)/rutter-pipeline sync

## The Dagster UI on http://127.0.0.1:3000 with the same defaults.
dev: setup
	$(BIN)/rutter-pipeline dev

test: setup
	$(BIN)/python -m pytest -n 2 -q

## The benchmarks also need the `bench` extra (dlt, the anchor they are compared with).
$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

benchmark: setup $(VENV)/.bench-installed
	$(BIN)/python -m pytest -q -m benchmark -p no:xdist benchmarks
