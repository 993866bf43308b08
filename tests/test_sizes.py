"""The bake's size rule: a bake whose rendered DevOps policies pass their headroom is refused, and
the DevOps stack is the only one whose policies grow with the number of environments; in the
longer partitions every stack is rendered, and the permissions boundary can refuse the slug."""

from __future__ import annotations

import re

import pytest
from conftest import DEFAULT_ANSWERS
from matrix import LONGEST_SLUG, STRATEGIES, TWELVE_ENVIRONMENTS

import multienv_plan
import multienv_sizes
import multienv_vocabulary

policy_sizes = multienv_vocabulary.generated_module("multienv_tools.policy_sizes")
settings_module = multienv_vocabulary.generated_module("multienv.settings")


def environments(count: int) -> str:
    """``count`` environments whose names all have the same length: sizes differ by the count alone."""
    return ",".join([*(f"sbx{i:02d}:sandbox" for i in range(count - 2)), "dev", "prd"])


TOO_MANY = environments(30)


def test_a_bake_whose_devops_policies_pass_their_headroom_is_refused_and_writes_nothing(bake, capfd):
    result = bake(environments=TOO_MANY)
    err = capfd.readouterr().err
    assert result.exit_code != 0
    assert list(result.output_dir.iterdir()) == [], "a refused bake left files behind"
    lines = [line for line in err.splitlines() if line.startswith(f"ERROR: environments: {TOO_MANY!r} renders ")]
    bucket = multienv_vocabulary.naming.Naming(
        slug=DEFAULT_ANSWERS["project_slug"], region=DEFAULT_ANSWERS["aws_region"]
    ).artifact_bucket("000000000001")
    limit = policy_sizes.LIMITS["bucket"]
    [line] = [line for line in lines if f"bucket policy {bucket} " in line]
    size = int(re.search(r" at (\d+) characters", line).group(1))
    assert size > policy_sizes.HEADROOM * limit and f"limit of {limit}" in line, line
    assert f"ERROR: {len(lines)} answer(s) rejected" in err


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_size_rule_measures_the_rendered_devops_stack(strategy):
    """Every policy the DevOps stack renders is measured, and only those past the headroom are problems."""
    answers = multienv_plan.answers_of({**DEFAULT_ANSWERS, "environments": TOO_MANY, "account_strategy": strategy})
    measured = multienv_sizes.devops_measures(answers)
    assert {m.kind for m in measured} >= {"bucket", "key", "repository", "trust", "inline"}
    over = [m for m in measured if m.share > policy_sizes.HEADROOM]
    problems = multienv_sizes.size_problems(answers)
    assert over, "nothing passes the headroom: the answers no longer test the refusal"
    # One problem per policy past the headroom, each naming its policy, the answer and its size.
    assert sorted(m.name for m in over) == sorted(
        next(m.name for m in over if f" policy {m.name} " in p.message) for p in problems
    )
    assert all(p.field == "environments" and p.value == TOO_MANY for p in problems)
    fitting = multienv_plan.answers_of(
        {**DEFAULT_ANSWERS, "environments": environments(4), "account_strategy": strategy}
    )
    assert multienv_sizes.size_problems(fitting) == []


# The longest region name of the aws partition the answers accept (every region name of the
# pattern has at most this many characters); the other partitions' ARNs are longer, and there a
# bake renders every stack (below).
LONGEST_REGION = "ap-southeast-4"


# The longest owner GitHub allows, and a name that makes owner/name PROVEN_REPOSITORY long; GitHub's
# IDs are 64-bit integers, 19 digits at most.
LONGEST_PROVEN_REPOSITORY = "o" * 39 + "/" + "r" * (multienv_sizes.PROVEN_REPOSITORY - 40)
LONGEST_GITHUB_ID = "9" * 19


def worst(strategy: str, region: str = LONGEST_REGION) -> dict[str, str]:
    """The longest answers the rules allow at the proven count: 31-character slug, twelve-character names."""
    names = TWELVE_ENVIRONMENTS.split(",")
    assert len(names) == multienv_sizes.PROVEN_ENVIRONMENTS
    answers = multienv_plan.answers_of(
        {
            **DEFAULT_ANSWERS,
            "project_slug": LONGEST_SLUG,
            "package_name": "app",
            "environments": TWELVE_ENVIRONMENTS,
            "account_strategy": strategy,
            "aws_region": region,
            "github_repository": LONGEST_PROVEN_REPOSITORY,
            "github_owner_id": LONGEST_GITHUB_ID,
            "github_repository_id": LONGEST_GITHUB_ID,
        }
    )
    multienv_plan.build_plan(answers)  # answers the bake accepts
    assert multienv_plan.REGION_PATTERN.match(region)
    return answers


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_up_to_the_proven_count_the_longest_answers_fit(strategy):
    """Below ``PROVEN_ENVIRONMENTS`` an aws-partition bake skips the rendering: the worst answers there must fit."""
    measured = multienv_sizes.all_measures(worst(strategy))
    assert {m.kind for m in measured} >= {"managed", "bucket", "key", "repository", "trust", "inline", "scp", "rcp"}
    largest = max(measured, key=lambda m: m.share)
    assert largest.share <= policy_sizes.HEADROOM, largest


@pytest.mark.parametrize("region", ["us-gov-northwest-1", "cn-northwest-1"])
def test_in_a_longer_partition_the_rendered_boundary_refuses_the_longest_names(region, bake, capfd):
    """aws-us-gov and aws-cn ARNs are longer: there every stack is rendered, and the boundary decides."""
    answers = worst("single_account", region)
    over = [m for m in multienv_sizes.all_measures(answers) if m.share > policy_sizes.HEADROOM]
    assert over and {m.kind for m in over} == {"managed"}, over
    [problem] = multienv_sizes.size_problems(answers)
    assert (problem.field, problem.value) == ("project_slug", LONGEST_SLUG)
    assert f"in {region} (partition " in problem.message and "-boundary (stack " in problem.message
    assert f"and {len(over) - 1} more of its kind past it" in problem.message
    result = bake(**{key: answers[key] for key in ("project_slug", "package_name", "environments", "aws_region")})
    assert result.exit_code != 0
    assert list(result.output_dir.iterdir()) == [], "a refused bake left files behind"
    assert f"ERROR: project_slug: {LONGEST_SLUG!r} with these environment names, in {region}" in capfd.readouterr().err
    # The same partition with the default slug and names renders and fits.
    assert multienv_sizes.size_problems(multienv_plan.answers_of({**DEFAULT_ANSWERS, "aws_region": region})) == []


PERIMETER = "org/perimeter.yaml"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_organization_perimeter_keeps_its_headroom_at_the_largest_shape(strategy):
    """Three SCPs and two RCPs, each under 60% of AWS Organizations' 5,120 characters (whitespace
    counted) with twelve twelve-character environments under a 32-character slug, the longest
    repository and GitHub IDs; past one document each, AWS allows five of a kind per target."""
    measured = [m for m in multienv_sizes.all_measures(worst(strategy)) if m.where == PERIMETER]
    assert sorted(m.kind for m in measured) == ["rcp", "rcp", "scp", "scp", "scp"], measured
    assert all(m.limit == 5120 for m in measured)
    largest = max(measured, key=lambda m: m.share)
    assert largest.share <= policy_sizes.HEADROOM, largest


def measures_by_policy(answers: dict[str, str]) -> dict[tuple[str, str, str], int]:
    return {(m.where, m.kind, m.name): m.size for m in multienv_sizes.all_measures(answers)}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_only_the_devops_stack_grows_with_the_environments(strategy):
    """The bake renders the DevOps stack alone: no other stack's policy may grow with the environments."""
    few, many = (
        measures_by_policy(
            multienv_plan.answers_of({**DEFAULT_ANSWERS, "environments": environments(n), "account_strategy": strategy})
        )
        for n in (4, 30)
    )
    devops = multienv_vocabulary.naming.Naming(
        slug=DEFAULT_ANSWERS["project_slug"], region=DEFAULT_ANSWERS["aws_region"]
    ).stack(multienv_vocabulary.naming.DEVOPS, multienv_vocabulary.naming.DEVOPS_STACK)
    grown = {key for key in few.keys() & many.keys() if many[key] != few[key]}
    assert grown, "nothing grew: the comparison no longer sees the DevOps policies"
    # The organization perimeter names every environment's role prefix and account too; it is
    # held to its headroom at the largest shape below.
    assert {where for where, _, _ in grown} == {devops, PERIMETER}, sorted(k for k in grown if k[0] != devops)


def test_past_the_proven_repository_length_the_rendered_trust_decides(bake, capfd):
    """A repository name longer than PROVEN_REPOSITORY renders the DevOps stack: with twelve long
    environment names the CI trust passes its headroom (refused, naming github_repository), with
    short ones it fits."""
    longest = "o" * 39 + "/" + "r" * 100  # the longest owner/name GitHub allows
    answers = {**worst("full_isolation"), "github_repository": longest}
    problems = multienv_sizes.size_problems(answers)
    assert problems and {(p.field, p.value) for p in problems} == {("github_repository", longest)}
    assert all("trust policy of " in p.message for p in problems)
    # GitHub's IDs are 10 digits or fewer today.
    short = {**answers, "environments": "dev,prd", "github_owner_id": "9" * 10, "github_repository_id": "9" * 10}
    assert multienv_sizes.size_problems(short) == []
    assert len(LONGEST_PROVEN_REPOSITORY) == multienv_sizes.PROVEN_REPOSITORY
    keys = (
        "project_slug",
        "package_name",
        "environments",
        "github_repository",
        "github_owner_id",
        "github_repository_id",
    )
    result = bake(**{k: answers[k] for k in keys})
    assert result.exit_code != 0
    assert f"ERROR: github_repository: {longest!r} renders the trust policy of " in capfd.readouterr().err
