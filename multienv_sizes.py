"""The bake's size rule: the policies that grow with the answers keep their headroom.

AWS refuses a policy over its size limit only at deploy time, and the DevOps stack's resource
policies (bucket, key, repository) name every environment: each one adds some 750 characters.
So an otherwise valid plan's DevOps stack is rendered here as the generated repository will
render it: ``multienv.toml`` and ``infra/devops.yaml`` through cookiecutter's own Jinja
environment, into a temporary folder outside the output, then the stack through the generated
``stacks.py``, ``cfn.py`` and ``policy_sizes.py`` (loaded by path, as ``multienv_vocabulary``
does). Every policy it renders over ``policy_sizes.HEADROOM`` of its AWS limit is a problem
naming the field, its value, the policy, its size and the limit.

Only past ``PROVEN_ENVIRONMENTS``: up to that many, ``tests/test_sizes.py`` renders the DevOps
stack at the longest slug, environment names and region the answers allow, in every strategy,
and holds that it keeps its headroom; the policies only lengthen with each name and grow with
each environment, so no smaller answer renders larger. A bake renders it (some 60 ms, more than
a third of a bake) only where that proof does not reach.

Only the DevOps stack: every other stack's policies keep their size whatever the number of
environments (``tests/test_sizes.py`` holds that, and fails the day one grows), and the
template's tests render all of them at the longest names the naming rules allow
(``tests/matrix.py`` LARGEST). Rendering the rest at every bake would cost more than the bake.

The rule is the headroom, not AWS's hard limit: the generated repository's ``make policy-sizes``
and policy contract tests fail past it, so a bake accepted between the two would be a repository
that fails its own checks before anyone has changed a line.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path

from multienv_answers import Problem
from multienv_vocabulary import PROJECT_TEMPLATE, TEMPLATE_ROOT, generated_module

SETTINGS_FILE = "multienv.toml"
# Up to this many environments the DevOps stack fits in any answers (tests/test_sizes.py renders the worst).
PROVEN_ENVIRONMENTS = 12
# What the DevOps stack is rendered from (both are Jinja in the template).
SOURCES = (SETTINGS_FILE, "infra/devops.yaml")


def render_sources(answers: Mapping[str, str], into: Path, sources=SOURCES) -> Path:
    """Write ``sources`` as a bake of ``answers`` would, under ``into``; returns the settings file.

    A source cookiecutter copies without Jinja (``_copy_without_render``) is copied as it is."""
    from cookiecutter.environment import StrictEnvironment

    context = {"cookiecutter": {**answers, "_extensions": ["local_extensions.MultienvExtension"]}}
    env = StrictEnvironment(context=context, keep_trailing_newline=True)
    with (TEMPLATE_ROOT / "cookiecutter.json").open(encoding="utf-8") as handle:
        verbatim = set(json.load(handle).get("_copy_without_render", []))
    for relative in sources:
        text = (PROJECT_TEMPLATE / relative).read_text(encoding="utf-8")
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text if relative in verbatim else env.from_string(text).render(**context), encoding="utf-8")
    return into / SETTINGS_FILE


def devops_measures(answers: Mapping[str, str]) -> list:
    """``policy_sizes.Measure`` of every policy of the DevOps stack these answers render."""
    settings_module = generated_module("multienv.settings")
    policy_sizes = generated_module("multienv_tools.policy_sizes")
    stacks = generated_module("multienv_tools.stacks")
    cfn = generated_module("multienv_tools.cfn")
    with tempfile.TemporaryDirectory(prefix="multienv-sizes-") as folder:
        settings = settings_module.load_settings(render_sources(answers, Path(folder)))
        spec = stacks.devops_spec(settings)
        return policy_sizes.measures([(spec.name, cfn.render(spec))])


def size_problems(answers: Mapping[str, str]) -> list[Problem]:
    """One problem per policy over its headroom, for answers that are otherwise a valid plan.

    The DevOps stack's policies name every environment: the ``environments`` answer makes them large.
    """
    count = len([e for e in answers["environments"].split(",") if e.strip()])
    if count <= PROVEN_ENVIRONMENTS:
        return []
    policy_sizes = generated_module("multienv_tools.policy_sizes")
    problems = []
    for measure in devops_measures(answers):
        if measure.share <= policy_sizes.HEADROOM:
            continue
        problems.append(
            Problem(
                "environments",
                answers["environments"],
                f"renders the {measure.kind} policy {measure.name} (stack {measure.where}, {count} environments) at "
                f"{measure.size} characters, {measure.share:.0%} of AWS's limit of {measure.limit}; every policy "
                f"must stay under {policy_sizes.HEADROOM:.0%} of its limit (room for the team's own statements, "
                "and `make policy-sizes` fails past it): use fewer environments, or shorter names and slug",
            )
        )
    return problems
