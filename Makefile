# The template's two commands: `make bake` and `make test`. Both set up .venv on first use.
# `make help` lists every target.
PYTHON3 ?= python3
# Python writes its bytecode caches (into .venv, ignored by git) even where the shell sets
# PYTHONDONTWRITEBYTECODE: uv installs without them, and every process of the suite (the workers, each
# bake's tools, the platform's tests) would otherwise compile again everything it imports.
unexport PYTHONDONTWRITEBYTECODE
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
# checkov, which the baked projects' `make lint-infra` runs, in one environment of its own for all bakes.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_PIN := {{cookiecutter.project_slug}}/requirements-checkov.txt

.PHONY: help install lock bake test pytest typecheck bench bench-check bench-coldstart bench-access bench-service-check clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# The tests run every bake's checks in this one environment, so it holds the generated project's
# development lock and the template's own (requirements-dev.txt, compiled against it), both hashed.
PROJECT := {{cookiecutter.project_slug}}
DEV_LOCKS := $(PROJECT)/requirements-dev.txt requirements-dev.txt
# uv: the one on PATH, else a copy pip installs once into .make/uv (the generated project's pin).
UV ?= $(or $(shell command -v uv 2>/dev/null),.make/uv/bin/uv)

# The interpreter's own pip where it can install to a folder, else one from a throwaway environment.
UV_PIP = --quiet --disable-pip-version-check --require-hashes --no-deps --target .make/uv -r '$(PROJECT)/requirements-uv.txt'
.make/uv/bin/uv: $(PROJECT)/requirements-uv.txt
	rm -rf .make/uv .make/pip
	PIP_ROOT_USER_ACTION=ignore $(PYTHON3) -m pip install $(UV_PIP) 2>/dev/null \
		|| { rm -rf .make/uv && $(PYTHON3) -m venv .make/pip && .make/pip/bin/python -m pip install $(UV_PIP); }
	rm -rf .make/pip
	touch $@

$(BIN)/cookiecutter: $(DEV_LOCKS) | $(UV)
	test -x $(BIN)/python || $(UV) venv --quiet --allow-existing --python $(PYTHON3) $(VENV)  # .venv/access-node may be there first
	$(UV) pip sync --python $(BIN)/python --require-hashes $(DEV_LOCKS)
	rm -f $(VENV)/.multienv-platform  # the sync removed the platform's wheels: platform/wheels.py installs them again
	touch $@

# The generated projects' access matrix runs iam-simulate (npm); the tests share one copy.
ACCESS_NODE := $(VENV)/access-node
ACCESS_LOCK := platform/tools/src/multienv_tools/access/package-lock.json

$(ACCESS_NODE)/node_modules/.package-lock.json: $(ACCESS_LOCK)
	mkdir -p $(ACCESS_NODE)
	cp platform/tools/src/multienv_tools/access/package.json '$(ACCESS_LOCK)' $(ACCESS_NODE)/
	cd $(ACCESS_NODE) && npm ci --no-audit --no-fund --loglevel=error

$(CHECKOV_VENV)/bin/checkov: $(CHECKOV_PIN) | $(UV)
	test -x $(CHECKOV_VENV)/bin/python || $(UV) venv --quiet --allow-existing --python $(PYTHON3) $(CHECKOV_VENV)
	$(UV) pip sync --python $(CHECKOV_VENV)/bin/python --require-hashes $(CHECKOV_PIN)
	touch $@

# The three installs are independent: side by side (uv's and npm's caches are safe to share).
INSTALLED := $(BIN)/cookiecutter $(CHECKOV_VENV)/bin/checkov $(ACCESS_NODE)/node_modules/.package-lock.json
install:  ## the template's tools, in .venv (checkov in .venv-checkov, iam-simulate in .venv/access-node), the platform's wheels from this tree
	@$(MAKE) --no-print-directory -j2 --output-sync=target $(INSTALLED)
	$(BIN)/python platform/wheels.py --install

# Answers as key=value words, e.g. ARGS='environments=dev,prd account_strategy=hybrid'.
ARGS ?=

# The project goes to $(OUT)/<slug>, a git repository linked to this checkout's commit (multienv_template/bake.py);
# one holding work (commits, edits) is refused and kept: FORCE=1 replaces it, OUT=<folder> bakes elsewhere.
FORCE ?=
bake: $(BIN)/cookiecutter  ## generate a project into out/<slug>, linked for make regenerate: make bake ARGS='environments=dev,prd account_strategy=hybrid'
	$(BIN)/python platform/wheels.py --install
	$(BIN)/python -m multienv_template.bake --out '$(OUT)' $(if $(FORCE),--force) $(ARGS)

test: install  ## lint and type-check the template, bake the option matrix and run each bake's own checks, the platform's tests against bakes
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory -j2 --output-sync=target typecheck pytest

# The suite; mypy runs beside it (make test), in the time the workers take to start.
pytest: install
	CHECKOV_VENV=$(abspath $(CHECKOV_VENV)) $(BIN)/python -m pytest -n auto --dist loadgroup

typecheck: install  ## mypy over the template's Python (multienv_template/, hooks/, local_extensions.py, migrations.py) and the platform's packages, the runtime strict
	$(BIN)/mypy

# BENCH_ARGS=--check makes a benchmark exit 1 when it misses its target.
bench: install  ## bake-time benchmark against a one-file template, with its target and verdict
	$(BIN)/python benchmarks/bench_bake.py $(BENCH_ARGS)

bench-coldstart: install  ## cold start of a baked project's artifact and workstation vs bare python, dynaconf, pydantic-settings
	$(BIN)/python benchmarks/bench_coldstart.py $(BENCH_ARGS)

# The default bake as a git repository (as a team's would be), its checks on this repository's environments.
bench-check: install  ## a baked project's make check, cold, unchanged and after one edit (BENCH_ARGS=--check fails on a miss)
	rm -rf .make/bench && $(BIN)/cookiecutter . --no-input --output-dir .make/bench
	cd .make/bench/* && git init -q && git add -A && git -c user.name=bench -c user.email=bench@localhost commit -qm bake \
		&& $(MAKE) bench-check VENV=$(abspath $(VENV)) CHECKOV_VENV=$(abspath $(CHECKOV_VENV)) \
			NODE_MODULES=$(abspath $(ACCESS_NODE))/node_modules BENCH_ARGS='$(BENCH_ARGS)'

# Each bake on an environment of its own with its own platform; checkov and the simulator are this checkout's.
bench-service-check: install  ## a default bake's make check, cold and after one service edit, beside the last release's (BENCH_ARGS=--check)
	CHECKOV_VENV=$(abspath $(CHECKOV_VENV)) NODE_MODULES=$(abspath $(ACCESS_NODE))/node_modules \
		$(BIN)/python benchmarks/bench_service_check.py $(BENCH_ARGS)

bench-access: install  ## how long a baked project's make check-access takes; one simulator process vs one per case
	$(BIN)/python benchmarks/bench_access.py $(BENCH_ARGS)

# The generated project's locks first, then the template's, against them. The project's are made
# in a bake (uv reads the project's pyproject.toml, which here is a Jinja file) and copied back:
# they do not depend on the answers.
LOCKED := requirements-dev.txt requirements-checkov.txt requirements-uv.txt
lock: $(BIN)/cookiecutter | $(UV)  ## recompile every lock file from its requirements-*.in (needs the package index)
	rm -rf .make/lock
	$(BIN)/cookiecutter . --no-input --output-dir .make/lock
	cd .make/lock/* && $(MAKE) lock UV=$(abspath $(UV)) $(if $(UPGRADE),UPGRADE=1) && cp $(LOCKED) '$(CURDIR)/$(PROJECT)/'
	$(UV) pip compile --quiet --no-config --generate-hashes --universal --python-version 3.11 $(if $(UPGRADE),--upgrade) \
		-c '$(PROJECT)/requirements-dev.txt' requirements-dev.in -o requirements-dev.txt
	rm -rf .make/lock

clean:  ## remove out/ and caches
	rm -rf $(OUT) .pytest_cache .ruff_cache
