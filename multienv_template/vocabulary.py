"""The template's vocabulary, loaded from the generated repository it renders.

Tiers, strategies, the naming scheme, the settings, the promotion rules and the persona table live in the
generated repository's ``multienv`` runtime and ``multienv_tools`` packages; this module
imports them from the template tree by path, so one copy serves the template and every
generated repository.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
PROJECT_TEMPLATE = TEMPLATE_ROOT / "{{cookiecutter.project_slug}}"
RUNTIME_TEMPLATE = TEMPLATE_ROOT / "platform" / "runtime" / "src" / "multienv"
TOOLS_TEMPLATE = TEMPLATE_ROOT / "platform" / "tools" / "src" / "multienv_tools"
PER_ENVIRONMENT_TEMPLATES = TEMPLATE_ROOT / "per_environment"
ENV_PLACEHOLDER = "__env__"
# The generated repository's two stdlib-importable packages, by import name.
_PACKAGES = {"multienv": RUNTIME_TEMPLATE, "multienv_tools": TOOLS_TEMPLATE}


def generated_module(qualified: str) -> ModuleType:
    """A module of the generated repository (``multienv.model``, ``multienv_tools.personas``), imported
    from the template tree. Its package is registered from the template's folder first, so the module's
    own imports (``from multienv.naming import ...``) resolve to the same files: one copy of each rule."""
    package_name = qualified.partition(".")[0]
    if package_name not in sys.modules:
        folder = _PACKAGES[package_name]
        spec = importlib.util.spec_from_file_location(
            package_name, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        assert spec and spec.loader
        package = importlib.util.module_from_spec(spec)
        sys.modules[package_name] = package
        spec.loader.exec_module(package)
    return importlib.import_module(qualified)


if TYPE_CHECKING:  # mypy reads the same files through mypy_path (pyproject.toml)
    from multienv import model, naming, settings
    from multienv_tools import persona_cases, personas, pipeline, synth
else:
    model = generated_module("multienv.model")
    naming = generated_module("multienv.naming")
    settings = generated_module("multienv.settings")
    personas = generated_module("multienv_tools.personas")
    persona_cases = generated_module("multienv_tools.persona_cases")
    pipeline = generated_module("multienv_tools.pipeline")
    synth = generated_module("multienv_tools.synth")
Tier = model.Tier
AccountStrategy = model.AccountStrategy
Account = model.Account


def platform_release() -> dict[str, str]:
    """The platform release a bake runs: its version and git ref (``platform/releases.py``)."""
    spec = importlib.util.spec_from_file_location(
        "multienv_platform_releases", TEMPLATE_ROOT / "platform" / "releases.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {"version": module.platform_version(), "ref": module.platform_ref()}
