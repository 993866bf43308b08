# The install's first step, before the platform is there: uv, then $(VENV) with the development tools
# (requirements-dev.txt, hashed) and the platform at the release [platform] of multienv.toml names;
# the rest (checkov, the simulator) is the platform's `install-tools`. PLATFORM_REQUIREMENTS names a
# file of the two requirements to install instead (the template's tests give wheels with hashes).
PLATFORM_PINS := .make/platform-requirements.txt
PLATFORM_REQUIREMENTS ?= $(PLATFORM_PINS)
UV ?= $(or $(shell command -v uv 2>/dev/null),.make/uv/bin/uv)
.PHONY: install
install: $(VENV)/.installed-dev  ## .venv with the dev tools and the platform, .venv-checkov, the simulator
	@$(MAKE) --no-print-directory install-tools

# The two requirements, from [platform]; rewritten only when they change, checked as multienv synth does.
define PLATFORM_PINS_PY
import pathlib, re, sys, tomllib
try:
    platform = tomllib.loads(pathlib.Path("multienv.toml").read_text())["platform"]
    source, ref = platform["source"], platform.get("ref") or "v" + platform["version"]
except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as error:
    sys.exit(f"multienv.toml: [platform] needs version and source ({error!r}): docs/regenerating.md")
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

# uv from requirements-uv.txt into .make/uv when none is on PATH (pip of the interpreter, else of a throwaway venv).
UV_PIP = --quiet --disable-pip-version-check --require-hashes --no-deps --target .make/uv -r requirements-uv.txt
.make/uv/bin/uv: requirements-uv.txt
	@rm -rf .make/uv .make/pip && PIP_ROOT_USER_ACTION=ignore $(PYTHON3) -m pip install $(UV_PIP) 2>/dev/null \
		|| { rm -rf .make/uv && $(PYTHON3) -m venv .make/pip && .make/pip/bin/python -m pip install $(UV_PIP); }
	@rm -rf .make/pip && touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(PLATFORM_REQUIREMENTS) | $(UV)
	@echo "==> $(VENV): the development tools pinned in requirements-dev.txt, the platform $(PLATFORM_REQUIREMENTS) pins"
	@test -x $(VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON3) $(VENV)
	$(UV) pip sync --python $(VENV)/bin/python --require-hashes requirements-dev.txt
	$(UV) pip install --python $(VENV)/bin/python --no-deps --reinstall -r $(PLATFORM_REQUIREMENTS)
	@$(VENV)/bin/python -c 'import pathlib, sys, sysconfig; pathlib.Path(sysconfig.get_path("purelib"), "_local_code.pth").write_text(sys.argv[1] + "\n")' "$(abspath src)"
	@touch $@
