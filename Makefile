# The template's two commands: `make bake` and `make test`. Both set up .venv on first use.
PYTHON3 ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out

.PHONY: install bake test lint bench bench-coldstart clean

$(BIN)/cookiecutter: requirements-dev.txt
	$(PYTHON3) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/cookiecutter  ## the template's tools, in .venv

bake: install  ## generate a project with the defaults into out/
	$(BIN)/cookiecutter . --no-input --overwrite-if-exists --output-dir $(OUT)

test: install  ## lint the template, then bake the option matrix and run each bake's own checks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n auto

bench: install  ## bake-time benchmark
	$(BIN)/python benchmarks/bench_bake.py

bench-coldstart: install  ## cold start of a baked project: resolve + config load vs bare python and dynaconf
	$(BIN)/python benchmarks/bench_coldstart.py

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache
