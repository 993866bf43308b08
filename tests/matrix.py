"""The option matrix, written once: the answer sets the tests bake, and which of them run end to end.

Every test file that bakes imports its cases from here. Three tiers use it:

- unit tests (the plan, the rejections) bake nothing;
- in-process bakes (pytest-cookies, about 0.05 s each) take every ``SUPPORTED`` combination or a
  named few;
- the slow end-to-end test runs, once per ``END_TO_END`` combination, the baked project's own
  ``make check`` and ``make local-deploy``: the only place a bake's full checks run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import multienv_plan

STRATEGIES = tuple(s.value for s in multienv_plan.AccountStrategy)
ENV_SETS = {
    "smallest": "dev,prd",
    "default": "sbx,dev,tst,prd",
    "six-custom": "sbx,dev,qa,uat:staging,perf:testing,prd",
}
# Account IDs of a hybrid bake that names its accounts: sandbox-tier environments share nonprod.
CUSTOM_IDS = "devops=111111111111,nonprod=222222222222,prod=333333333333"


@dataclass(frozen=True)
class Combination:
    """One answer set, named; ``answers`` overrides cookiecutter.json's defaults."""

    id: str
    answers: dict[str, str] = field(default_factory=dict)
    # For end-to-end runs: who signs in to the persona roles ([personas] of multienv.toml).
    sign_in: str = 'source = "account"'

    @property
    def strategy(self) -> str:
        return self.answers.get("account_strategy", "full_isolation")

    def __str__(self) -> str:
        return self.id


def _grid() -> list[Combination]:
    grid = [
        Combination(f"{strategy}-{name}", {"account_strategy": strategy, "environments": environments})
        for strategy in STRATEGIES
        for name, environments in ENV_SETS.items()
    ]
    return [Combination("defaults"), *(c for c in grid if c.id != "full_isolation-default")]


# Every supported combination: each strategy with each environment set, plus the unusual answers.
SUPPORTED = [
    *_grid(),
    Combination(
        "hybrid-named-accounts",
        {
            "environments": "sbx,play:sandbox,dev,uat:staging,qa,prd",
            "account_strategy": "hybrid",
            "account_ids": CUSTOM_IDS,
        },
    ),
    Combination(
        "tiny-single-account",
        {
            "environments": "development,production",
            "account_strategy": "single_account",
            "project_name": "Tiny",
            "project_slug": "tiny",
            "package_name": "tiny",
            "aws_region": "eu-central-1",
            "github_repository": "acme/tiny",
        },
    ),
]
BY_ID = {c.id: c for c in SUPPORTED}


def pick(*ids: str) -> list[Combination]:
    """The named combinations, for a test that needs a few rather than all."""
    return [BY_ID[i] for i in ids]


# One per strategy, each with a different sign-in source, so every strategy's IaC, personas, access
# matrix, workflows and local deploy run for real; custom tiers and named account IDs are among them.
END_TO_END = [
    Combination("defaults", sign_in='source = "account"'),
    Combination(
        "hybrid-named-accounts",
        BY_ID["hybrid-named-accounts"].answers,
        sign_in='source = "identity-center"\npermission_set_prefix = "app-"',
    ),
    Combination(
        "consolidated_nonprod-default",
        BY_ID["consolidated_nonprod-default"].answers,
        sign_in='source = "account"\nidentity_account = "workloads"',
    ),
    Combination(
        "single_account-six-custom",
        BY_ID["single_account-six-custom"].answers,
        sign_in='source = "saml"\nsaml_provider = "corp"',
    ),
]
