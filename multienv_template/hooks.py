"""The bodies of the template's shell hooks, computed where the plan is already loaded.

The pre-gen hook prints every problem of the answers and how to retry; the post-gen hook writes
the per-environment files and prints the next steps. A shell starts in about a millisecond, a
Python hook in tens: the hooks are shell scripts whose text ``local_extensions`` renders from here.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Mapping

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


def pre_gen_shell(answers: Mapping[str, object], template: str | None = None, output_dir: str | None = None) -> str:
    """The body of the pre-gen hook: print the ERROR lines to stderr and fail, or succeed.

    With ``template`` (what cookiecutter was asked to bake), a retry command follows the lines."""
    lines = error_lines(answers)
    if not lines:
        return "exit 0"
    if template:
        lines += retry_lines(answers, template, output_dir)
    return "printf '%s\\n' " + " ".join(shlex.quote(line) for line in lines) + " >&2\nexit 1"


def next_steps_shell() -> str:
    """What the post-gen hook prints last: where the project is and the next three commands."""
    return "\n".join(
        [
            "here=$(pwd)",
            "printf '%s\\n' '' \"Generated $here. Next:\" \"  cd '$here'\" "
            "'  make install       # the development tools, in .venv' "
            "'  make check         # everything CI runs, offline; then: make local-deploy'",
        ]
    )


def post_gen_shell(plan: Plan) -> str:
    """The body of the post-gen hook: write each per-environment file, byte for byte."""
    commands = ["set -eu"]
    for name, text in per_environment_contents(plan).items():
        folder = posixpath.dirname(name)
        if folder:
            commands.append(f"mkdir -p {shlex.quote(folder)}")
        commands.append(f"printf '%s' {shlex.quote(text)} > {shlex.quote(name)}")
    commands.append(next_steps_shell())
    return "\n".join(commands)


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
