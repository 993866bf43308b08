# The install: uv, from the committed lock files, each part stamped so that nothing is redone
# when its lock did not change. requirements-dev.txt pins the development tools and the
# dependencies of the platform's tooling, every version with its hashes (compiled from
# requirements-dev.in by `make lock`); requirements-checkov.txt does the same for checkov.
# The platform (the runtime multienv and the tooling multienv-tools) is the release [platform] of
# multienv.toml names, the one place its version is written: both from `source` at the tag
# v<version> (or `ref`), built from that ref. The simulator's npm lock ships inside it. The service
# is not installed: a .pth file puts src/ on the environment's path, so it needs no build.
# PLATFORM_REQUIREMENTS names a file of the two requirements to install instead (the template's
# tests give wheels built from its working tree, as file:// URLs with their hashes).
PLATFORM_PINS := .make/platform-requirements.txt
PLATFORM_REQUIREMENTS ?= $(PLATFORM_PINS)

# uv: the one on PATH, else a copy pip installs once into .make/uv from requirements-uv.txt.
UV ?= $(or $(shell command -v uv 2>/dev/null),.make/uv/bin/uv)

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

.PHONY: install lock need-dev-tools need-checkov need-simulator

# The two requirements, from [platform] of multienv.toml (Python's tomllib); the file is rewritten
# only when they change, so that an edit elsewhere in multienv.toml reinstalls nothing.
define PLATFORM_PINS_PY
import pathlib, re, sys, tomllib
try:
    platform = tomllib.loads(pathlib.Path("multienv.toml").read_text())["platform"]
    source, ref = platform["source"], platform.get("ref") or "v" + platform["version"]
except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as error:
    sys.exit(f"multienv.toml: [platform] needs version and source ({error!r}): docs/regenerating.md")
# One requirement line each, nothing more (no option, no second requirement): as multienv synth checks.
if not re.fullmatch(r"git\+(https|ssh|file)://[^@\s#]+", source) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", ref):
    sys.exit(f"multienv.toml: [platform] source {source!r} or ref {ref!r} is not a git URL without a ref, and a tag or commit")
text = "".join(f"{name} @ {source}@{ref}#subdirectory=platform/{part}\n" for name, part in (("multienv", "runtime"), ("multienv-tools", "tools")))
target = pathlib.Path(sys.argv[1])
if not target.is_file() or target.read_text() != text:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
endef
export PLATFORM_PINS_PY
$(PLATFORM_PINS): multienv.toml
	@$(PYTHON3) -c "$$PLATFORM_PINS_PY" $@

install: $(VENV)/.installed-dev $(CHECKOV_VENV)/.installed $(VENV)/access-node/node_modules/.package-lock.json  ## .venv with the dev tools and the platform, .venv-checkov, the simulator in .venv/access-node (from the lock files)

# pip: the interpreter's own where it can install to a folder, else one from a throwaway
# environment (creating it costs seconds), so that no pip is left in .venv either way.
UV_PIP = --quiet --disable-pip-version-check --require-hashes --no-deps --target .make/uv -r requirements-uv.txt
.make/uv/bin/uv: requirements-uv.txt
	@echo "==> no uv on PATH: pip installs uv into .make/uv (once)"
	@rm -rf .make/uv .make/pip
	@PIP_ROOT_USER_ACTION=ignore $(PYTHON3) -m pip install $(UV_PIP) 2>/dev/null \
		|| { rm -rf .make/uv && $(PYTHON3) -m venv .make/pip && .make/pip/bin/python -m pip install $(UV_PIP); }
	@rm -rf .make/pip
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(PLATFORM_REQUIREMENTS) | $(UV)
	@echo "==> $(VENV): the development tools pinned in requirements-dev.txt, the platform $(PLATFORM_REQUIREMENTS) pins"
	@test -x $(PYTHON) || $(UV) venv --quiet --python $(PYTHON3) $(VENV)
	$(UV) pip sync --python $(PYTHON) --require-hashes requirements-dev.txt
	$(UV) pip install --python $(PYTHON) --no-deps --reinstall -r $(PLATFORM_REQUIREMENTS)
	$(PYTHON) -c 'import pathlib, sys, sysconfig; pathlib.Path(sysconfig.get_path("purelib"), "_local_code.pth").write_text("\n".join(sys.argv[1:]) + "\n")' "$(abspath src)"
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt | $(UV)
	@echo "==> $(CHECKOV_VENV): checkov, in an environment of its own (requirements-checkov.txt)"
	@test -x $(CHECKOV_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON3) $(CHECKOV_VENV)
	$(UV) pip sync --python $(CHECKOV_VENV)/bin/python --require-hashes requirements-checkov.txt
	@touch $@

# The simulator the platform's access matrix drives, from the npm lock that ships in the platform.
$(VENV)/access-node/node_modules/.package-lock.json: $(VENV)/.installed-dev
	@echo "==> $(VENV)/access-node: the IAM policy simulator, from the platform's npm lock"
	$(BIN)/multienv install-simulator $(VENV)/access-node
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
