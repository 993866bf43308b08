"""Jinja extension that hands the plan to the template files and hooks.

Templates call ``multienv_plan(cookiecutter)`` for the validated plan and hold layout
only; every decision is made in ``multienv_plan``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from jinja2.ext import Extension

_ROOT = str(Path(__file__).resolve().parent)
if _ROOT not in sys.path:  # cruft renders without cookiecutter's import patch
    sys.path.insert(0, _ROOT)

import multienv_preflight  # noqa: E402

multienv_preflight.require()  # before the plan imports what an old Python lacks

import multienv_hooks  # noqa: E402
import multienv_plan  # noqa: E402

_cache: dict[tuple, multienv_plan.Plan] = {}


def plan_of(cookiecutter) -> multienv_plan.Plan:
    answers = multienv_plan.answers_of(cookiecutter)
    key = tuple(sorted(answers.items()))
    if key not in _cache:
        _cache[key] = multienv_plan.build_plan(answers)
    return _cache[key]


# The project folder's own name, as cookiecutter renders it before the pre-gen hook can refuse
# a bad slug. A slug with "/" would make nested folders that cookiecutter's clean-up leaves behind.
PROJECT_DIR_SOURCE = "{{cookiecutter.project_slug}}"
SAFE_PROJECT_DIR_SOURCE = '{{ cookiecutter.project_slug | replace("/", "_") | replace("\\\\", "_") }}'


def _platform() -> dict[str, str]:
    """The platform release a generated repository pins: its version and git ref (platform/releases.py)."""
    spec = importlib.util.spec_from_file_location(
        "multienv_platform_releases", Path(_ROOT) / "platform" / "releases.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {"version": module.platform_version(), "ref": module.platform_ref()}


class MultienvExtension(Extension):
    def preprocess(self, source, name, filename=None):
        if name is None and source == PROJECT_DIR_SOURCE:
            return SAFE_PROJECT_DIR_SOURCE
        return source

    def __init__(self, environment):
        super().__init__(environment)
        environment.globals["multienv_plan"] = plan_of
        environment.globals["multienv_per_environment_files"] = multienv_hooks.per_environment_files
        environment.globals["multienv_platform"] = _platform
        environment.filters["multienv_answers"] = multienv_plan.answers_of
        # The hooks are shell scripts whose bodies are computed here, where the plan is already
        # loaded: a shell starts in about a millisecond, a Python hook in tens (a bake's cost).
        environment.filters["multienv_pre_gen_shell"] = lambda c: multienv_hooks.pre_gen_shell(
            multienv_plan.answers_of(c), c.get("_template"), c.get("_output_dir")
        )
        environment.filters["multienv_post_gen_shell"] = lambda c: multienv_hooks.post_gen_shell(plan_of(c))
        environment.filters["toml"] = multienv_plan.toml_value
