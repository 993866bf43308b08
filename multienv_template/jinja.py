"""Jinja extension that hands the plan to the template files and hooks.

Templates call ``multienv_plan(cookiecutter)`` for the validated plan and hold layout
only; every decision is made in ``multienv_template.plan``. Cookiecutter loads this class
through ``local_extensions.py`` at the template root (``_extensions`` in cookiecutter.json).
"""

from __future__ import annotations

from jinja2.ext import Extension

from . import preflight

preflight.require()  # before the plan imports what an old Python lacks

from . import hooks as multienv_hooks  # noqa: E402
from . import plan as multienv_plan  # noqa: E402
from .vocabulary import TEMPLATE_ROOT, platform_release, synth  # noqa: E402

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


class MultienvExtension(Extension):
    def preprocess(self, source, name, filename=None):
        if name is None and source == PROJECT_DIR_SOURCE:
            return SAFE_PROJECT_DIR_SOURCE
        return source

    def __init__(self, environment):
        super().__init__(environment)
        environment.globals["multienv_plan"] = plan_of
        environment.globals["multienv_per_environment_files"] = multienv_hooks.per_environment_files
        environment.globals["multienv_platform"] = platform_release
        environment.globals["multienv_synth_files"] = synth.files
        environment.filters["multienv_answers"] = multienv_plan.answers_of
        # The hooks (hooks/*.py) import this package from the checkout being rendered.
        environment.globals["multienv_template_root"] = str(TEMPLATE_ROOT)
        environment.filters["toml"] = multienv_plan.toml_value
