"""The option matrix, written once: the answer sets the tests bake, and which of them run end to end.

Every test file that bakes imports its cases from here. Three tiers use it:

- unit tests (the plan, the rejections) bake nothing;
- in-process bakes (pytest-cookies, about 0.05 s each) take every ``SUPPORTED`` combination or a
  named few;
- the slow end-to-end test runs, once per ``END_TO_END`` combination, the baked project's own
  ``make check`` and ``make local-deploy``; with the newcomer's run of the defaults
  (test_install.py) the only places a bake's full checks run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from multienv_template import vocabulary as multienv_vocabulary

STRATEGIES = tuple(s.value for s in multienv_vocabulary.AccountStrategy)
ENV_SETS = {
    "smallest": "dev,prd",
    "default": "sbx,dev,tst,prd",
    "six-custom": "sbx,dev,qa,uat:staging,perf:testing,prd",
}
# Account IDs of a hybrid bake that names its accounts: sandbox-tier environments share nonprod.
CUSTOM_IDS = "devops=111111111111,nonprod=222222222222,prod=333333333333"
# GitHub's IDs of the owner and the repository, as `gh api repos/OWNER/REPO --jq '.owner.id, .id'` prints them.
GITHUB_IDS = {"github_owner_id": "1001", "github_repository_id": "2002"}
# Twelve environments with names of twelve characters under a 31-character slug: the largest
# shape the naming limits allow, which every policy must fit with 40% of its AWS limit to spare.
LONGEST_SLUG = "abcdefghij-klmnopqrst-uvwxyz-ab"
TWELVE_ENVIRONMENTS = ",".join(
    f"{name}:{tier}"
    for name, tier in [
        ("sandbox00001", "sandbox"),
        ("develop00001", "development"),
        ("develop00002", "development"),
        ("testing00001", "testing"),
        ("testing00002", "testing"),
        ("qaqaqa000001", "qa"),
        ("qaqaqa000002", "qa"),
        ("staging00001", "staging"),
        ("staging00002", "staging"),
        ("staging00003", "staging"),
        ("testing00003", "testing"),
        ("producti0001", "production"),
    ]
)


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


def _twelve(strategy: str) -> Combination:
    answers = {
        "project_slug": LONGEST_SLUG,
        "package_name": "app",
        "environments": TWELVE_ENVIRONMENTS,
        "account_strategy": strategy,
    }
    return Combination(f"twelve-long-{strategy}", answers)


# Every supported combination: each strategy with each environment set, plus the unusual answers.
SUPPORTED = [
    *_grid(),
    *(_twelve(strategy) for strategy in STRATEGIES),
    # The design text's six environments, with the default slug.
    Combination("design-six", {"environments": "sandbox,development,testing,qa,staging,production"}),
    Combination(
        "hybrid-named-accounts",
        {
            "environments": "sbx,play:sandbox,dev,uat:staging,qa,prd",
            "account_strategy": "hybrid",
            "account_ids": CUSTOM_IDS,
            # A repository whose GitHub IDs are known: everything the CI roles need is filled in.
            **GITHUB_IDS,
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


# The largest shapes: every rendered policy must keep its headroom in them.
LARGEST = [*pick(*(f"twelve-long-{strategy}" for strategy in STRATEGIES)), BY_ID["design-six"]]


# With the newcomer's run of the defaults (full_isolation, sign-in by account; test_install.py), one
# per strategy, each with a different sign-in source, so every strategy's IaC, personas, access
# matrix, workflows and local deploy run for real; custom tiers and named account IDs are among them.
END_TO_END = [
    # Hybrid's point, two sandbox-tier environments in the shared nonprod account beside the others in
    # accounts of their own; the custom tiers (staging, qa) deploy in the two bakes below.
    Combination(
        "hybrid-named-accounts",
        {**BY_ID["hybrid-named-accounts"].answers, "environments": "sbx,play:sandbox,dev,prd"},
        sign_in='source = "identity-center"\npermission_set_prefix = "app-"',
    ),
    # The largest shape deploys too: twelve environments in one shared account, a 31-character slug.
    Combination(
        "twelve-long-consolidated_nonprod",
        BY_ID["twelve-long-consolidated_nonprod"].answers,
        sign_in='source = "account"\nidentity_account = "workloads"',
    ),
    # Another identity too: project name, slug, package, region and repository all differ; each
    # environment has a table and a bucket, production in the same account as the rest.
    Combination(
        "single_account-six-custom-renamed",
        {**BY_ID["tiny-single-account"].answers, "environments": ENV_SETS["six-custom"], "data_stores": "both"},
        sign_in='source = "saml"\nsaml_provider = "corp"',
    ),
]


# The platform's own tests (platform/tests/) run once per platform release against a bake of each
# account layout at its extremes: the defaults (full_isolation: every environment in an account of
# its own, sign-in by account) and six custom environments in one account with everything else
# (single_account, SAML, both data stores). The strategies between them (hybrid, consolidated_nonprod)
# share accounts as these do; their rendered stacks deploy end to end (below), and the attacker's
# matrix and every policy's size are checked in each of them.
PLATFORM = [Combination("defaults"), *(c for c in END_TO_END if c.strategy == "single_account")]
