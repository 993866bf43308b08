"""The generated README is a front page: within its line budget in every bake, the rest in docs/."""

from __future__ import annotations

import re

import pytest
from conftest import DEFAULT_ANSWERS, TEMPLATE
from matrix import SUPPORTED

import multienv_plan

# The README of the defaults fits in this many lines, and grows by at most this much per
# environment added (the environments table); everything longer lives in docs/.
README_LINES_FOR_THE_DEFAULTS = 150
README_LINES_PER_ENVIRONMENT = 2
DEFAULT_ENVIRONMENT_COUNT = len(DEFAULT_ANSWERS["environments"].split(","))


def readme_budget(environment_count: int) -> int:
    extra = environment_count - DEFAULT_ENVIRONMENT_COUNT
    return README_LINES_FOR_THE_DEFAULTS + README_LINES_PER_ENVIRONMENT * max(extra, 0)


# Every supported combination, the twelve environments under a 31-character slug included.
@pytest.mark.parametrize("combination", SUPPORTED, ids=str)
def test_the_readme_stays_within_its_line_budget(bake, combination):
    result = bake(**combination.answers)
    assert result.exit_code == 0, result.exception
    environments = len(multienv_plan.answers_of(result.result.context)["environments"].split(","))
    lines = (result.project / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= readme_budget(environments), f"{lines} lines for {environments} environments"


def test_every_topic_the_readme_links_is_a_rendered_page(bake):
    project = bake().project
    readme = (project / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md)(?:#[\w-]+)?\)", readme))
    pages = {f"docs/{path.name}" for path in (project / "docs").glob("*.md")}
    assert linked == pages, "README links and docs/ pages differ"


def test_the_template_readme_quotes_the_plans_access_case_counts():
    text = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"\((\d+) cases for the defaults, (\d+) for `dev,prd`\)", text)
    assert quoted, "the template README no longer quotes the access-case counts"
    counts = [
        len(multienv_plan.build_plan({**DEFAULT_ANSWERS, "environments": environments}).access_cases())
        for environments in (DEFAULT_ANSWERS["environments"], "dev,prd")
    ]
    assert [int(quoted[1]), int(quoted[2])] == counts


def test_the_template_readme_states_the_slug_limit_the_plan_keeps():
    """The README's project_slug row quotes the longest slug with any environments and with a
    twelve-character one, as Naming.slug_limit computes them for a plan."""
    row = next(
        line
        for line in (TEMPLATE / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `project_slug` |")
    )
    limits = []
    for environments in ("dev,prd", "dev,integration1:testing,prd"):
        plan = multienv_plan.build_plan({**DEFAULT_ANSWERS, "environments": environments, "project_slug": "a"})
        accounts = {e.name: e.account.id for e in plan.environments}
        limits.append(plan.naming.slug_limit(list(accounts), plan.devops.id, accounts))
    found = re.search(
        r"at most (\d+) characters \(the artifact.*?, and (\d+) when an environment name has the full 12", row
    )
    assert found and [int(n) for n in found.groups()] == limits, row
