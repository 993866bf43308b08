# The template's two commands: `make bake` and `make test`. Both set up .venv on first use.
# `make help` lists every target.
PYTHON3 ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
# checkov, which the baked projects' `make lint-infra` runs, in one environment of its own for all bakes.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_PIN := {{cookiecutter.project_slug}}/requirements-checkov.txt

.PHONY: help install bake test lint bench bench-coldstart bench-access clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(BIN)/cookiecutter: requirements-dev.txt
	$(PYTHON3) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# The generated projects' access matrix runs iam-simulate (npm); the tests share one copy.
ACCESS_NODE := $(VENV)/access-node
ACCESS_LOCK := {{cookiecutter.project_slug}}/access/package-lock.json

$(ACCESS_NODE)/node_modules/.package-lock.json: $(ACCESS_LOCK)
	mkdir -p $(ACCESS_NODE)
	cp '{{cookiecutter.project_slug}}/access/package.json' '$(ACCESS_LOCK)' $(ACCESS_NODE)/
	cd $(ACCESS_NODE) && npm ci --no-audit --no-fund --loglevel=error

$(CHECKOV_VENV)/bin/checkov: $(CHECKOV_PIN)
	$(PYTHON3) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r $(CHECKOV_PIN)
	touch $@

install: $(BIN)/cookiecutter $(CHECKOV_VENV)/bin/checkov $(ACCESS_NODE)/node_modules/.package-lock.json  ## the template's tools, in .venv (checkov in .venv-checkov, iam-simulate in .venv/access-node)

# Answers as key=value words, e.g. ARGS='environments=dev,prd account_strategy=hybrid'.
ARGS ?=

bake: $(BIN)/cookiecutter  ## generate a project into out/ (emptied first): make bake ARGS='environments=dev,prd account_strategy=hybrid'
	rm -rf '$(OUT)'
	$(BIN)/cookiecutter . --no-input --output-dir '$(OUT)' $(ARGS)

test: install  ## lint the template, then bake the option matrix and run each bake's own checks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	CHECKOV_VENV=$(abspath $(CHECKOV_VENV)) $(BIN)/python -m pytest -n auto

# BENCH_ARGS=--check makes a benchmark exit 1 when it misses its target.
bench: install  ## bake-time benchmark against a one-file template, with its target and verdict
	$(BIN)/python benchmarks/bench_bake.py $(BENCH_ARGS)

bench-coldstart: install  ## cold start of a baked project's artifact and workstation vs bare python, dynaconf, pydantic-settings
	$(BIN)/python benchmarks/bench_coldstart.py

bench-access: install  ## how long a baked project's make check-access takes; one simulator process vs one per case
	$(BIN)/python benchmarks/bench_access.py $(BENCH_ARGS)

clean:  ## remove out/ and caches
	rm -rf $(OUT) .pytest_cache .ruff_cache
