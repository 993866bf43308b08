"""What the template's hooks do: ``hooks/pre_gen_project.py`` and ``hooks/post_gen_project.py`` call
``pre_gen`` and ``post_gen`` with cookiecutter's context, and hold nothing else.

The pre-gen hook prints every problem of the answers and how to retry, and fails, so cookiecutter
removes the project folder: nothing is written. The post-gen hook writes the per-environment files
and the platform's rendered files (``multienv synth``, from the checkout), then prints the next
steps; it is offline and deterministic, since a failure there deletes the bake.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from .answers import (
    PlanError,
)
from .plan import (
    Plan,
    answers_of,
    build_plan,
    toml_tables,
    toml_value,
)
from .sizes import size_problems
from .vocabulary import (
    ENV_PLACEHOLDER,
    PER_ENVIRONMENT_TEMPLATES,
    platform_release,
    synth,
)

# --------------------------------------------------------------------------- hooks


def error_lines(answers: Mapping[str, object]) -> list[str]:
    """What the pre-gen hook prints: one ``ERROR:`` line per problem and a summary, or nothing."""
    try:
        build_plan(answers)
        # Only a valid plan renders: the policies that grow with the answers, measured as rendered.
        problems = size_problems(answers_of(answers))
    except PlanError as error:
        problems = error.problems
    if not problems:
        return []
    lines = [f"ERROR: {problem}" for problem in problems]
    return [*lines, f"ERROR: {len(problems)} answer(s) rejected; nothing was generated."]


def retry_lines(answers: Mapping[str, object], template: str, output_dir: str | None = None) -> list[str]:
    """After the ERROR lines: the command that bakes again with these answers, to correct and run."""
    pairs = " ".join(shlex.quote(f"{key}={value}") for key, value in answers_of(answers).items())
    where = f" --output-dir {shlex.quote(output_dir)}" if output_dir else ""
    return [
        "To try again without typing every answer, correct this command and run it:",
        f"  cookiecutter {shlex.quote(template)}{where} --no-input {pairs}",
    ]


def pre_gen(context: Mapping[str, object]) -> int:
    """The pre-gen hook: print the ERROR lines to stderr and return 1, or return 0.

    With ``_template`` in the context (what cookiecutter was asked to bake), the command that bakes
    again with these answers follows the lines."""
    lines = error_lines(context)
    if not lines:
        return 0
    template = context.get("_template")
    if template:
        output_dir = context.get("_output_dir")
        lines += retry_lines(context, str(template), str(output_dir) if output_dir else None)
    print("\n".join(lines), file=sys.stderr)
    return 1


def next_steps(project: Path) -> list[str]:
    """What the post-gen hook prints last: where the project is and the next three commands."""
    return [
        "",
        f"Generated {project}. Next:",
        f"  cd '{project}'",
        "  make install       # the development tools, in .venv",
        "  make check         # everything CI runs, offline; then: make local-deploy",
    ]


def write_per_environment_files(plan: Plan, project: Path) -> list[Path]:
    """Write each per-environment file under ``project``, byte for byte; returns the paths written."""
    written = []
    for name, text in per_environment_contents(plan).items():
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        written.append(target)
    return written


def write_platform_files(project: Path) -> list[Path]:
    """The platform's stacks and requirements-platform.txt, rendered from the project's ``multienv.toml``
    by the platform's own ``multienv synth`` (this checkout's): what the project's ``make synth`` renders."""
    return synth.write(project, platform_release()["version"])


def post_gen(context: Mapping[str, object], project: Path) -> int:
    """The post-gen hook, run in the new ``project``: the per-environment files, the platform's rendered
    files, then the next steps."""
    write_per_environment_files(build_plan(answers_of(context)), project)
    write_platform_files(project)
    print("\n".join(next_steps(project)))
    return 0


def per_environment_files() -> list[str]:
    """Paths of the files written once per environment, with ``__env__`` standing for its name."""
    return sorted(
        path.relative_to(PER_ENVIRONMENT_TEMPLATES).as_posix().removesuffix(".j2")
        for path in PER_ENVIRONMENT_TEMPLATES.rglob("*")
        if path.is_file()
    )


def per_environment_contents(plan: Plan) -> dict[str, str]:
    """``{relative path: text}`` of every file written once per environment, in a stable order."""
    import jinja2  # always there: cookiecutter renders with it

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PER_ENVIRONMENT_TEMPLATES)),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["toml"] = toml_value
    env.filters["toml_tables"] = toml_tables
    contents: dict[str, str] = {}
    for template_name in sorted(env.list_templates()):
        template = env.get_template(template_name)
        for environment in plan.environments:
            target = template_name.replace(ENV_PLACEHOLDER, environment.name).removesuffix(".j2")
            contents[target] = template.render(plan=plan, environment=environment)
    return contents
