# The platform's make rules, included by a repository's Makefile from the installed platform (or from
# PLATFORM_SRC): the checks with their inputs and stamps, and every target that runs `multienv <verb>`.
# The repository's Makefile sets PYTHON3, VENV, PLATFORM_SRC and PACKAGE, and includes make/install.mk
# (uv, the development environment with this platform) first. Checks keep a stamp in .make/ and rerun
# only when one of their inputs changed.
PLATFORM_MK := $(lastword $(MAKEFILE_LIST))
# Python writes its bytecode caches (in .venv and __pycache__/, both ignored by git) even where the
# shell sets PYTHONDONTWRITEBYTECODE: uv installs without them, and every start of a tool would
# compile all it imports again (cfn-lint on infra/: 2.8 s of CPU become 6.4 s).
unexport PYTHONDONTWRITEBYTECODE
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
RUN := PYTHONPATH=src$(if $(PLATFORM_SRC),:$(PLATFORM_SRC)) $(PYTHON)
MULTIENV := PYTHONPATH=src$(if $(PLATFORM_SRC),:$(PLATFORM_SRC)) $(BIN)/multienv
# Where npm installed the access matrix's simulator (its lock ships in the platform): next to $(VENV).
NODE_MODULES ?= $(VENV)/access-node/node_modules
# checkov pins old libraries, so it lives in a virtual environment of its own.
CHECKOV_VENV ?= .venv-checkov
# What ran, and on which inputs: `rm -rf .make/check` (or `make clean`) makes `make check` redo all.
STAMPS := .make/check
# Independent checks run side by side; make's own -j overrides.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# With VENV (or CHECKOV_VENV) pointing at an environment made elsewhere, nothing is installed into
# it on first use: a missing tool is reported instead.
ifeq ($(origin VENV),file)
DEV_TOOLS := $(VENV)/.installed-dev
ACCESS_TOOLS := $(VENV)/access-node/node_modules/.package-lock.json
else
DEV_TOOLS := need-dev-tools
ACCESS_TOOLS := need-simulator
endif
ifeq ($(origin CHECKOV_VENV),file)
CHECKOV_TOOLS := $(CHECKOV_VENV)/.installed
else
CHECKOV_TOOLS := need-checkov
endif

.PHONY: help install lint format test check build regenerate link clean env config config-diff bench-coldstart
.PHONY: secrets secret-set data-seed data-subset
.PHONY: bench bench-check
.PHONY: check-workflows synth check-synth FORCE
.PHONY: lint-infra local-deploy bench-local-deploy
.PHONY: check-access policy-sizes org-perimeter who-can-assume

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-19s %s\n", $$1, $$2}'

# Inputs of each check. A change to any of them reruns that check, and only that check.
PY_FILES := $(shell find src tests -name '*.py' -not -path '*/__pycache__/*' 2>/dev/null)
INFRA := $(wildcard infra/*.yaml infra/stacksets/*.yaml org/*.yaml)
WORKFLOWS := $(wildcard .github/workflows/*.yml)
ACCESS_FILES := $(wildcard access/*.csv access/*.toml)
SETTINGS_FILES := multienv.toml $(wildcard config/*.toml)
# The tests read files of every kind (README, workflows, locks, CODEOWNERS...): any file of the
# repository but the installed environments and caches is an input. The Makefile is an input of
# every check: it says how each one runs.
REPO_FILES := $(patsubst ./%,%,$(shell find . -type f -not -path './.git/*' -not -path './.venv*' -not -path './.make/*' \
	-not -path '*/node_modules/*' -not -path '*/__pycache__/*' -not -path './.pytest_cache/*' -not -path './.ruff_cache/*' \
	-not -path './.hypothesis/*' -not -path './build/*' -not -path './dist/*' -not -name '*.rej' -not -name '*.orig' 2>/dev/null))
CHECK_RULES := Makefile make/install.mk $(PLATFORM_MK)
# What `multienv synth` renders from multienv.toml: the platform's files, each marked generated: its
# sources under rendered/ (at their paths, .j2 dropped) and the cases persona_cases writes.
RENDERED := $(dir $(PLATFORM_MK))../rendered
RENDERED_ALL := $(wildcard $(addprefix $(RENDERED)/,* */* */*/* */*/*/* .[a-z]*/* .[a-z]*/*/*))
RENDERED_DIRS := $(patsubst %/.,%,$(wildcard $(addsuffix /.,$(RENDERED_ALL))))
SYNTH_FILES := $(patsubst $(RENDERED)/%,%,$(patsubst %.j2,%,$(filter-out $(RENDERED_DIRS),$(RENDERED_ALL)))) \
	access/generated-cases.csv
# The access matrix does not read the service's code (it reads the installed platform: the persona
# table, the policies and the stacks it renders), so the platform's pin is its input instead.
FRAMEWORK_PY := multienv.toml

lint: $(STAMPS)/lint  ## ruff: lint and formatting
$(STAMPS)/lint: $(PY_FILES) pyproject.toml $(CHECK_RULES) | $(DEV_TOOLS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@mkdir -p $(@D) && touch $@

format: | $(DEV_TOOLS)  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The platform's own tests run once per platform release, in the template's suite; these are the service's.
test: $(STAMPS)/test  ## the service's tests (tests/): yours, the artifact, its snapshot, the imports
$(STAMPS)/test: $(REPO_FILES) $(CHECK_RULES) | $(DEV_TOOLS)
	$(PYTHON) -m pytest tests
	@mkdir -p $(@D) && touch $@

# The checks run side by side (-j), each one's output printed whole when it ends.
check:  ## everything CI runs, offline; again only what changed since the last green run
	@$(MAKE) --no-print-directory -j$(JOBS) --output-sync=target check-all
	@echo "make check: all green (each check reran only if its inputs changed; make clean redoes all)"
# Longest first, so that the short ones fill in beside them.
.PHONY: check-all
check-all: $(STAMPS)/checkov $(STAMPS)/check-access $(STAMPS)/cfn-lint $(STAMPS)/test check-workflows lint check-synth

synth: | $(DEV_TOOLS)  ## render the platform's stacks and requirements-platform.txt from multienv.toml (then commit them)
	$(MULTIENV) synth

# Its inputs: multienv.toml (the settings and the platform version), the rendered files themselves
# (an edit by hand), the installed platform; a rendered file that is missing always reruns it.
check-synth: $(STAMPS)/synth  ## fail naming each platform file that is not what the pinned platform renders from multienv.toml
$(STAMPS)/synth: multienv.toml $(wildcard $(SYNTH_FILES) $(VENV)/.installed-dev) $(if $(filter-out $(wildcard $(SYNTH_FILES)),$(SYNTH_FILES)),FORCE) $(CHECK_RULES) | $(DEV_TOOLS)
	$(MULTIENV) synth --check
	@mkdir -p $(@D) && touch $@
FORCE:

build:  ## dist/app.zip, what AWS runs: the runtime, the service, multienv.toml, config/ and their snapshot (prints its sha256)
	$(MULTIENV) build

check-workflows: $(STAMPS)/check-workflows  ## GitHub Actions workflows: zizmor (security), the workflow, Dependabot and Renovate JSON schemas
$(STAMPS)/check-workflows: $(WORKFLOWS) .github/dependabot.yml renovate.json $(CHECK_RULES) | $(DEV_TOOLS)
	$(BIN)/zizmor --offline --strict-collection --no-progress .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.renovate renovate.json
	@mkdir -p $(@D) && touch $@

# The other targets run tools from the development environment: installed on first use.
build regenerate link env config config-diff bench-check bench-coldstart local-deploy bench-local-deploy secrets secret-set data-seed data-subset: | $(DEV_TOOLS)

# Answers `make regenerate` can change; each is passed on only when set.
REGENERATE_ARGS = $(if $(ENVIRONMENTS),--set 'environments=$(ENVIRONMENTS)') \
	$(if $(ACCOUNT_STRATEGY),--set 'account_strategy=$(ACCOUNT_STRATEGY)') \
	$(if $(AWS_REGION),--set 'aws_region=$(AWS_REGION)') \
	$(if $(ACCOUNT_IDS),--set 'account_ids=$(ACCOUNT_IDS)') \
	$(if $(GITHUB_REPOSITORY),--set 'github_repository=$(GITHUB_REPOSITORY)') \
	$(if $(GITHUB_OWNER_ID),--set 'github_owner_id=$(GITHUB_OWNER_ID)') \
	$(if $(GITHUB_REPOSITORY_ID),--set 'github_repository_id=$(GITHUB_REPOSITORY_ID)') \
	$(if $(CODE_OWNERS),--set 'code_owners=$(CODE_OWNERS)') \
	$(if $(TEMPLATE_REF),--checkout '$(TEMPLATE_REF)') \
	$(if $(PREVIEW),--preview)

regenerate:  ## re-render from the template, keeping edits: make regenerate ENVIRONMENTS=sbx,dev,stg,prd [PREVIEW=1]
	$(MULTIENV) regenerate $(REGENERATE_ARGS)

link:  ## once, for a repo made with plain cookiecutter: make link TEMPLATE=<template git URL> TEMPLATE_REF=<its tag or commit>
	@test -n '$(TEMPLATE)' || { echo 'make link: set TEMPLATE=<template git URL>' >&2; exit 2; }
	@test -n '$(TEMPLATE_REF)' || { echo 'make link: set TEMPLATE_REF=<the template version this repository was made from: a release tag such as v1.0.0, or a commit (the template'"'"'s releases.toml gives each release'"'"'s)>; without it the link would record whatever the template is today' >&2; exit 2; }
	$(MULTIENV) regenerate --link '$(TEMPLATE)' --checkout '$(TEMPLATE_REF)'

env:  ## print the environment this shell resolves to, as JSON
	$(RUN) -m $(PACKAGE).env --json

# CONFIG_ENV, not ENV: many shells set ENV to their start-up file.
config:  ## print the configuration of the resolved environment (CONFIG_ENV=name for another), secrets as references
	$(RUN) -m $(PACKAGE).config $(if $(CONFIG_ENV),--env '$(CONFIG_ENV)')

# The application's secrets live in each environment's own account; an administrator there sets them.
secrets:  ## each environment's secret references (CHECK=1: and which exist, asking AWS with your credentials)
	$(MULTIENV) secrets list $(if $(CHECK),--check)

# The value comes on standard input, never as an argument. ENV only from the command line: many
# shells set ENV to their start-up file.
secret-set:  ## set one secret from standard input, as an administrator of its account: make secret-set ENV=dev KEY=app < file
	@test '$(origin ENV)' = 'command line' || { echo 'make secret-set: give ENV=<environment> on the command line' >&2; exit 2; }
	@test -n '$(KEY)' || { echo 'make secret-set: give KEY=<key of [secrets] in config/$(ENV).toml>' >&2; exit 2; }
	$(MULTIENV) secrets set --env '$(ENV)' --key '$(KEY)'

# Each environment's own data (docs/test-data.md): dummy records below testing, a masked sample of
# production in testing, QA and staging; data/masking.toml says what a copy does with each attribute.
data-seed:  ## dummy data into a sandbox or development table: make data-seed ENV=sbx [FIXTURE=data/fixture.jsonl | COUNT=20 SEED=1]
	@test '$(origin ENV)' = 'command line' || { echo 'make data-seed: give ENV=<sandbox or development environment> on the command line' >&2; exit 2; }
	$(MULTIENV) data-seed --env '$(ENV)' $(if $(FIXTURE),--fixture '$(FIXTURE)') $(if $(COUNT),--count '$(COUNT)') $(if $(SEED),--seed '$(SEED)') $(if $(TO_PROFILE),--to-profile '$(TO_PROFILE)')

data-subset:  ## a masked sample of production into testing, QA or staging: make data-subset FROM=prd TO=tst FRACTION=0.1 [SEED=1] (or COUNT=N) [TO_PROFILE=<the target's profile>]
	@test -n '$(FROM)' -a -n '$(TO)' || { echo 'make data-subset: give FROM=<production environment> TO=<testing, QA or staging environment>' >&2; exit 2; }
	$(MULTIENV) data-subset --from '$(FROM)' --to '$(TO)' $(if $(FRACTION),--fraction '$(FRACTION)') $(if $(COUNT),--count '$(COUNT)') $(if $(SEED),--seed '$(SEED)') $(if $(TO_PROFILE),--to-profile '$(TO_PROFILE)')

config-diff:  ## every configuration key that differs between two environments, with its file: make config-diff A=dev B=prd
	$(MULTIENV) config-diff '$(A)' '$(B)'

bench: bench-check bench-coldstart  ## bench-check and bench-coldstart, each with its targets and verdicts
bench-check:  ## make check cold, with nothing changed and after one edit (BENCH_ARGS=--check: exit 1 on a missed target)
	VENV=$(abspath $(VENV)) CHECKOV_VENV=$(abspath $(CHECKOV_VENV)) NODE_MODULES=$(abspath $(NODE_MODULES)) \
		$(MULTIENV) bench-check $(BENCH_ARGS)

bench-coldstart:  ## cold start of the built artifact and a workstation vs bare python, dynaconf, pydantic-settings (BENCH_ARGS=--check)
	$(MULTIENV) bench-coldstart $(BENCH_ARGS)

# `make check-access ONLY=<principal>[,...]` simulates those principals' cases alone and leaves the
# stamp as it was; only an ONLY on the command line counts (one left in the shell does not), and
# make check always runs the whole check.
PARTIAL := $(if $(filter command line,$(origin ONLY)),$(ONLY))
check-access: $(if $(PARTIAL),| $(DEV_TOOLS) $(ACCESS_TOOLS),$(STAMPS)/check-access)  ## simulate every access case (access/*.csv, config/ secrets) against the rendered policies; parliament on each (ONLY=project-admin: those cases alone)
	$(if $(PARTIAL),$(MULTIENV) check-access --node-modules $(NODE_MODULES) --only '$(PARTIAL)')
$(STAMPS)/check-access: $(INFRA) $(ACCESS_FILES) $(SETTINGS_FILES) $(FRAMEWORK_PY) $(CHECK_RULES) | $(DEV_TOOLS) $(ACCESS_TOOLS)
	$(MULTIENV) check-access --node-modules $(NODE_MODULES)
	@mkdir -p $(@D) && touch $@

who-can-assume: | $(DEV_TOOLS) $(ACCESS_TOOLS)  ## the roles a GitHub OIDC token may assume, one a line: make who-can-assume CLAIMS=token-claims.json
	@test -n '$(CLAIMS)' || { echo 'make who-can-assume: set CLAIMS=<JSON file of a GitHub OIDC token'"'"'s claims>' >&2; exit 2; }
	@$(MULTIENV) who-can-assume --node-modules $(NODE_MODULES) '$(CLAIMS)'

policy-sizes: | $(DEV_TOOLS)  ## the largest rendered policy of each kind as a share of its AWS limit (fails past 60%)
	$(MULTIENV) policy-sizes

lint-infra: $(STAMPS)/checkov $(STAMPS)/cfn-lint  ## cfn-lint and checkov on infra/ and org/ (no errors, no warnings, no failed checks)
# One start of each tool for all templates: their start-up (schemas, checks) is most of the cost.
$(STAMPS)/cfn-lint: $(INFRA) $(CHECK_RULES) | $(DEV_TOOLS)
	$(BIN)/cfn-lint $(INFRA)
	@mkdir -p $(@D) && touch $@
# `multienv checkov` is checkov with two of its caches fixed (same checks, a third of the time).
$(STAMPS)/checkov: $(INFRA) multienv.toml $(CHECK_RULES) | $(DEV_TOOLS) $(CHECKOV_TOOLS)
	$(MULTIENV) checkov $(CHECKOV_VENV)/bin/python --skip-download --quiet --compact --framework cloudformation -d infra -d org
	@mkdir -p $(@D) && touch $@

org-perimeter: | $(DEV_TOOLS)  ## print the command that deploys org/perimeter.yaml: make org-perimeter ORG_ID=o-... TARGETS=ou-...
	$(MULTIENV) org-perimeter --org-id '$(ORG_ID)' --targets '$(TARGETS)'

local-deploy:  ## every stack into a local AWS (moto on 127.0.0.1), then checks; nothing leaves this machine
	$(MULTIENV) local-deploy

bench-local-deploy:  ## median time of make local-deploy against starting the local AWS alone (BENCH_ARGS=--check: fail on a missed target)
	$(MULTIENV) bench-local-deploy $(BENCH_ARGS)

clean:  ## remove caches and the checks' stamps (keeps .venv)
	rm -rf .pytest_cache .ruff_cache build dist src/*.egg-info $(STAMPS)

# The rest of `make install` (make/install.mk made $(VENV) with this platform): checkov, the simulator.
.PHONY: install-tools lock need-dev-tools need-checkov need-simulator
install-tools: $(VENV)/.installed-dev $(CHECKOV_VENV)/.installed $(VENV)/access-node/node_modules/.package-lock.json

$(CHECKOV_VENV)/.installed: requirements-checkov.txt | $(UV)
	@echo "==> $(CHECKOV_VENV): checkov, in an environment of its own (requirements-checkov.txt)"
	@test -x $(CHECKOV_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON3) $(CHECKOV_VENV)
	$(UV) pip sync --python $(CHECKOV_VENV)/bin/python --require-hashes requirements-checkov.txt
	@touch $@

# The simulator the platform's access matrix drives, from the npm lock that ships in the platform.
$(VENV)/access-node/node_modules/.package-lock.json: $(VENV)/.installed-dev
	@echo "==> $(VENV)/access-node: the IAM policy simulator, from the platform's npm lock"
	$(MULTIENV) install-simulator $(VENV)/access-node
	@touch $@

need-dev-tools:
	@test -x $(BIN)/ruff || { echo "no development tools in $(VENV): run make install first" >&2; exit 1; }
need-checkov:
	@test -x $(CHECKOV_VENV)/bin/python || { echo "no checkov in $(CHECKOV_VENV): run make install first" >&2; exit 1; }
need-simulator:
	@test -d $(NODE_MODULES)/@cloud-copilot || { echo "no simulator in $(NODE_MODULES): run make install first" >&2; exit 1; }

# The lock files, recompiled from requirements-*.in: the one step that needs the package index.
# Pins already in a lock are kept unless an .in file asks for another version (uv's preference);
# `make lock UPGRADE=1` moves every transitive pin to the newest allowed. checkov's lock starts
# at Python 3.11.5: one of its dependencies (soupsieve) needs it.
LOCK = $(UV) pip compile --quiet --no-config --generate-hashes --universal $(if $(UPGRADE),--upgrade)
lock: | $(UV)  ## recompile requirements-*.txt from requirements-*.in (needs the package index)
	$(LOCK) --python-version 3.11 requirements-dev.in -o requirements-dev.txt
	$(LOCK) --python-version 3.11.5 requirements-checkov.in -o requirements-checkov.txt
	$(LOCK) --python-version 3.11 requirements-uv.in -o requirements-uv.txt
	$(LOCK) --python-version 3.11 requirements-template-update.in -c requirements-dev.txt -o requirements-template-update.txt
