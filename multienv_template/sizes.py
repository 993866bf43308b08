"""The bake's size rule: the policies that grow with the answers keep their headroom.

AWS refuses a policy over its size limit only at deploy time, and the DevOps stack's resource
policies (bucket, key, repository) name every environment: each one adds some 750 characters.
So an otherwise valid plan's DevOps stack is rendered here as the generated repository will
render it: ``multienv.toml`` through cookiecutter's own Jinja environment and the platform's
stacks through ``multienv synth`` (``synth.write``, as the post-gen hook does), into a temporary
folder outside the output, then the stack through the platform's
``stacks.py``, ``cfn.py`` and ``policy_sizes.py`` (loaded by path, as ``vocabulary``
does). Every policy it renders over ``policy_sizes.HEADROOM`` of its AWS limit is a problem
naming the field, its value, the policy, its size and the limit.

Only where the tests' proof does not reach. Up to ``PROVEN_ENVIRONMENTS`` environments and a
repository of up to ``PROVEN_REPOSITORY`` characters in the ``aws`` partition, ``tests/test_sizes.py``
renders every stack at the longest slug, environment names, repository, GitHub IDs and region the
answers allow, in every strategy, and holds that each policy keeps its headroom; the policies only lengthen with each name and grow with each environment, so no
smaller answer renders larger. Past that count the DevOps stack is rendered (some 60 ms, more
than a third of a bake): the other stacks' policies keep their size whatever the number of
environments (``tests/test_sizes.py`` holds that, and fails the day one grows). In the
``aws-cn`` and ``aws-us-gov`` partitions every ARN is longer, and the permissions boundary of the
longest names passes its headroom there: those bakes render every stack.

The rule is the headroom, not AWS's hard limit: the generated repository's ``make policy-sizes``
and policy contract tests fail past it, so a bake accepted between the two would be a repository
that fails its own checks before anyone has changed a line.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from .answers import Problem
from .vocabulary import PROJECT_TEMPLATE, generated_module, platform_release, synth

SETTINGS_FILE = "multienv.toml"
# Up to this many environments the DevOps stack fits in any answers (tests/test_sizes.py renders the worst).
PROVEN_ENVIRONMENTS = 12
# The same for the GitHub repository, whose owner/name each CI role's trust names three times (the
# two subject forms and the workflow file): GitHub allows up to 140 characters, and past this many
# the DevOps stack is rendered (the trust of a 12-character environment name can pass its headroom).
PROVEN_REPOSITORY = 120


# What a bake of the answers renders with cookiecutter, before its post-gen hook: the settings and the
# team's own stack (``infra/app.yaml``, deployed and measured with the platform's).
SOURCES = (SETTINGS_FILE, "infra/app.yaml")


def render_sources(answers: Mapping[str, str], into: Path) -> Path:
    """Write ``SOURCES`` as a bake of ``answers`` would, and the platform's stacks as its post-gen hook
    does (``multienv synth`` of this checkout), under ``into``; returns the settings file."""
    from cookiecutter.environment import StrictEnvironment

    context = {"cookiecutter": {**answers, "_extensions": ["local_extensions.MultienvExtension"]}}
    env = StrictEnvironment(context=context, keep_trailing_newline=True)
    for relative in SOURCES:
        text = (PROJECT_TEMPLATE / relative).read_text(encoding="utf-8")
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(env.from_string(text).render(**context), encoding="utf-8")
    synth.write(into, platform_release()["version"])
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


def all_measures(answers: Mapping[str, str]) -> list:
    """``policy_sizes.Measure`` of every policy of every stack these answers render."""
    settings_module = generated_module("multienv.settings")
    policy_sizes = generated_module("multienv_tools.policy_sizes")
    with tempfile.TemporaryDirectory(prefix="multienv-sizes-") as folder:
        return policy_sizes.measure_settings(settings_module.load_settings(render_sources(answers, Path(folder))))


def size_problems(answers: Mapping[str, str]) -> list[Problem]:
    """One problem per policy over its headroom, for answers that are otherwise a valid plan.

    The DevOps stack's policies name every environment: the ``environments`` answer makes them
    large. Every other policy is as long as the slug and the environment names make its ARNs.
    """
    count = len([e for e in answers["environments"].split(",") if e.strip()])
    naming = generated_module("multienv.naming")
    partition = naming.partition(answers["aws_region"])
    if partition != "aws":
        measured = all_measures(answers)
    elif count > PROVEN_ENVIRONMENTS or len(answers.get("github_repository", "")) > PROVEN_REPOSITORY:
        measured = devops_measures(answers)
    else:
        return []
    policy_sizes = generated_module("multienv_tools.policy_sizes")
    devops = naming.Naming(answers["project_slug"], answers["aws_region"]).stack(naming.DEVOPS, naming.DEVOPS_STACK)
    headroom = (
        f"every policy must stay under {policy_sizes.HEADROOM:.0%} of its limit (room for the team's own"
        " statements, and `make policy-sizes` fails past it)"
    )
    over = [m for m in measured if m.share > policy_sizes.HEADROOM]
    # Outside the DevOps stack each environment has its own copy of a policy: the largest of a kind says it.
    largest: dict[str, list] = {}
    for measure in over:
        if measure.where != devops:
            largest.setdefault(measure.kind, []).append(measure)
    same_kind = {kind: sorted(found, key=lambda m: -m.size) for kind, found in largest.items()}
    problems = []
    for measure in over:
        others = same_kind.get(measure.kind, [measure]) if measure.where != devops else [measure]
        if measure is not others[0]:
            continue
        rendered = f"{measure.size} characters, {measure.share:.0%} of AWS's limit of {measure.limit}"
        if measure.where == devops and measure.kind == "trust":
            field, value = "github_repository", answers["github_repository"]
            text = (
                f"renders the trust policy of {measure.name} (stack {measure.where}) at {rendered}; {headroom}:"
                " each CI role's trust names the repository three times, with the environment's name:"
                " shorten the longest environment names (or raise the role trust policy quota and the headroom)"
            )
        elif measure.where == devops:
            field, value = "environments", answers["environments"]
            text = (
                f"renders the {measure.kind} policy {measure.name} (stack {measure.where}, {count} environments) at "
                f"{rendered}; {headroom}: use fewer environments, or shorter names and slug"
            )
        else:
            field, value = "project_slug", answers["project_slug"]
            text = (
                f"with these environment names, in {answers['aws_region']} (partition {partition}), renders the"
                f" {measure.kind} policy {measure.name} (stack {measure.where}) at {rendered}"
                + (f", and {len(others) - 1} more of its kind past it" if len(others) > 1 else "")
                + f"; {headroom}: shorten the slug or the longest environment names"
            )
        problems.append(Problem(field, value, text))
    return problems
