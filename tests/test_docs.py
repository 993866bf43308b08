"""The generated README is a front page: within its line budget in every bake, the rest in docs/."""

from __future__ import annotations

import re

import pytest
from conftest import DEFAULT_ANSWERS, TEMPLATE
from matrix import SUPPORTED, Combination

import multienv_plan

# The README of the defaults fits in this many lines, and grows by at most this much per
# environment added (the environments table); everything longer lives in docs/.
README_LINES_FOR_THE_DEFAULTS = 150
README_LINES_PER_ENVIRONMENT = 2
DEFAULT_ENVIRONMENT_COUNT = len(DEFAULT_ANSWERS["environments"].split(","))


def most_environments(up_to: int = 12) -> Combination:
    """The most environments (up to twelve) the plan accepts with a one-letter slug: the boundary names
    every environment, so its size budget, not this test, sets the limit."""
    for count in range(up_to, 2, -1):
        names = ["sbx", "dev", *(f"t{i}:testing" for i in range(count - 3)), "prd"]
        answers = {"project_name": "A", "project_slug": "a", "package_name": "a", "environments": ",".join(names)}
        try:
            multienv_plan.build_plan({**DEFAULT_ANSWERS, **answers})
        except multienv_plan.PlanError:
            continue
        return Combination(f"{count}-environments", answers)
    raise AssertionError(f"no environment count between 3 and {up_to} is accepted")


# Every supported combination, and the longest READMEs the answers allow.
BAKES = [
    *SUPPORTED,
    most_environments(),
    Combination("long-slug", {"project_name": "Payments Ledger", "project_slug": "payments-ledger-service-eu"}),
]


def readme_budget(environment_count: int) -> int:
    extra = environment_count - DEFAULT_ENVIRONMENT_COUNT
    return README_LINES_FOR_THE_DEFAULTS + README_LINES_PER_ENVIRONMENT * max(extra, 0)


@pytest.mark.parametrize("combination", BAKES, ids=str)
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
