"""The plan module: what answers mean, read like the design text's four strategies."""

from __future__ import annotations

import re

import pytest
from conftest import DEFAULT_ANSWERS

from multienv_template import hooks as multienv_hooks
from multienv_template import plan as multienv_plan
from multienv_template.plan import PlanError, build_plan
from multienv_template.vocabulary import AccountStrategy, Tier

BASE = DEFAULT_ANSWERS


def plan(**overrides):
    return build_plan({**BASE, **overrides})


def accounts_by_env(p) -> dict[str, str]:
    return {"devops": p.devops.key, **{e.name: e.account.key for e in p.environments}}


@pytest.mark.parametrize(
    "strategy,expected",
    [
        ("full_isolation", {"devops": "devops", "sbx": "sbx", "dev": "dev", "tst": "tst", "prd": "prd"}),
        ("hybrid", {"devops": "devops", "sbx": "nonprod", "dev": "nonprod", "tst": "nonprod", "prd": "prod"}),
        (
            "consolidated_nonprod",
            {"devops": "devops", "sbx": "workloads", "dev": "workloads", "tst": "workloads", "prd": "workloads"},
        ),
        ("single_account", {"devops": "main", "sbx": "main", "dev": "main", "tst": "main", "prd": "main"}),
    ],
)
def test_each_strategy_places_environments_in_its_accounts(strategy, expected):
    p = plan(account_strategy=strategy)
    assert accounts_by_env(p) == expected
    # Placeholders: one per named account, never shared between two named accounts.
    assert len({a.id for a in p.accounts}) == len(set(expected.values()))
    assert all(a.placeholder for a in p.accounts)


@pytest.mark.parametrize(
    "strategy,ids",
    [
        ("full_isolation", "devops=111111111111,dev=222222222222,prd=333333333333"),
        ("hybrid", "devops=111111111111,dev=222222222222,prd=333333333333"),
        ("consolidated_nonprod", "devops=111111111111,dev=222222222222,prd=222222222222"),
        ("single_account", "devops=111111111111,dev=111111111111,prd=111111111111"),
    ],
)
def test_given_account_ids_consistent_with_the_strategy_are_kept(strategy, ids):
    p = plan(account_strategy=strategy, environments="dev,prd", account_ids=ids)
    given = dict(pair.split("=") for pair in ids.split(","))
    assert p.account_ids_given
    assert p.devops.id == given["devops"]
    assert {e.name: e.account.id for e in p.environments} == {"dev": given["dev"], "prd": given["prd"]}
    assert not any(a.placeholder for a in p.accounts)


def test_hybrid_shares_one_account_among_non_production_environments():
    p = plan(
        account_strategy="hybrid",
        environments="dev,tst,prd",
        account_ids="devops=111111111111,dev=222222222222,tst=222222222222,prd=333333333333",
    )
    assert p.environment("dev").account == p.environment("tst").account != p.production.account


@pytest.mark.parametrize(
    "name,tier",
    [
        ("sbx", Tier.SANDBOX),
        ("sandbox", Tier.SANDBOX),
        ("dev", Tier.DEVELOPMENT),
        ("development", Tier.DEVELOPMENT),
        ("tst", Tier.TESTING),
        ("test", Tier.TESTING),
        ("testing", Tier.TESTING),
        ("qa", Tier.QA),
        ("stg", Tier.STAGING),
        ("staging", Tier.STAGING),
    ],
)
def test_known_names_map_to_their_tier(name, tier):
    assert plan(environments=f"{name},dev2:development,prd").environment(name).tier is tier


@pytest.mark.parametrize("name", ["prd", "prod", "production"])
def test_production_names(name):
    assert plan(environments=f"dev,{name}").production.name == name


def test_custom_names_take_the_tier_given():
    p = plan(environments="dev,uat:staging,perf:testing,prd")
    assert [(e.name, e.tier) for e in p.environments] == [
        ("dev", Tier.DEVELOPMENT),
        ("uat", Tier.STAGING),
        ("perf", Tier.TESTING),
        ("prd", Tier.PRODUCTION),
    ]


def test_the_local_default_is_the_first_development_environment():
    assert plan(environments="sbx,feature:development,dev,prd").default_environment.name == "feature"


def test_twelve_character_names_are_allowed_and_thirteen_are_not():
    assert plan(environments="dev,abcdefghijkl:testing,prd").environment("abcdefghijkl")
    with pytest.raises(PlanError, match="abcdefghijklm"):
        plan(environments="dev,abcdefghijklm:testing,prd")


def test_partition_follows_the_region():
    assert plan(aws_region="cn-north-1").naming.partition == "aws-cn"
    assert plan(aws_region="us-gov-west-1").naming.partition == "aws-us-gov"
    assert plan(aws_region="eu-central-2").naming.partition == "aws"


def test_the_longest_legal_slug_is_accepted_and_one_more_character_is_not():
    # The artifact bucket "<slug>--devops-artifacts-<12 digits>" is the tightest limit: 63 - 31 = 32.
    assert plan(project_slug="a" * 32, package_name="app")
    with pytest.raises(PlanError) as error:
        plan(project_slug="a" * 33, package_name="app")
    assert [p.field for p in error.value.problems] == ["project_slug"]
    assert "64 characters long; AWS allows 63" in str(error.value)


TWELVE = "dev,integration1:testing,prd"  # an environment name of the full twelve characters


@pytest.mark.parametrize(
    ("environments", "limit", "says"),
    [("dev,prd", 32, "whatever the environments"), (TWELVE, 31, "with these environment names")],
)
def test_the_slug_limit_is_said_and_is_the_one_the_plan_keeps(environments, limit, says):
    accepted = plan(project_slug="a" * limit, package_name="app", environments=environments)
    scheme = accepted.naming
    envs = [e.name for e in accepted.environments]
    assert scheme.slug_limit(envs, accepted.devops.id, {e.name: e.account.id for e in accepted.environments}) == limit
    with pytest.raises(PlanError) as error:
        plan(project_slug="a" * (limit + 1), package_name="app", environments=environments)
    assert {p.field for p in error.value.problems} == {"project_slug"}
    assert f"{says}, the slug may have at most {limit} characters ({limit + 1} now)" in str(error.value)
    assert ("environment names" in str(error.value)) == (environments == TWELVE)  # blamed only where they count


@pytest.mark.parametrize(
    ("answers", "starts"),
    [
        (
            {"project_name": "123 Numbers"},
            "makes the slug '123-numbers' (project_slug), which is not kebab-case: a lowercase letter first",
        ),
        ({"project_name": "A" * 40}, f"makes the slug '{'a' * 40}' (project_slug), which makes the s3 bucket name"),
        ({"project_name": "Json"}, "makes the package name 'json' (package_name), which would shadow"),
    ],
)
def test_a_derived_answer_problem_names_the_answer_typed(answers, starts):
    """project_slug and package_name follow project_name unless typed: the error names what was typed."""
    derived = {
        key: value
        for key, value in BASE.items()
        if key not in ("project_slug", "package_name", "github_repository", "code_owners")
    }
    from conftest import TEMPLATE
    from cookiecutter.generate import generate_context
    from cookiecutter.main import _patch_import_path_for_repo
    from cookiecutter.prompt import prompt_for_config

    with _patch_import_path_for_repo(str(TEMPLATE)):
        context = generate_context(str(TEMPLATE / "cookiecutter.json"), extra_context={**derived, **answers})
        rendered = prompt_for_config(context, no_input=True)
    with pytest.raises(PlanError) as error:
        build_plan(rendered)
    assert [(p.field, p.value) for p in error.value.problems] == [("project_name", answers["project_name"])]
    assert error.value.problems[0].message.startswith(starts)
    assert "change the name, or give" in error.value.problems[0].message


def test_every_kind_of_name_over_its_limit_is_reported_with_the_longest_name():
    with pytest.raises(PlanError) as error:
        plan(project_slug="a" * 50, package_name="app")
    text = str(error.value)
    assert re.search(
        rf"iam role name '{'a' * 50}--[a-z]{{3}}-software-developer' 74 characters long; AWS allows 64", text
    )
    assert "s3 bucket name" in text and "AWS allows 63" in text


def test_a_known_name_keeps_its_tier():
    assert plan(environments="dev:development,prd").environment("dev").tier is Tier.DEVELOPMENT
    with pytest.raises(PlanError, match="gives prd another tier than its own"):
        plan(environments="dev,prd:sandbox,prod")


def test_errors_name_field_and_value_and_the_allowed_values():
    with pytest.raises(PlanError) as error:
        plan(account_strategy="multi", environments="dev,uat,prd")
    text = str(error.value)
    for strategy in AccountStrategy:
        assert strategy.value in text
    for tier in Tier:
        assert tier.value in text
    assert {p.field for p in error.value.problems} == {"account_strategy", "environments"}


def test_pre_gen_hook_prints_every_problem():
    lines = multienv_hooks.error_lines({**BASE, "environments": "dev", "aws_region": "x"})
    assert lines[0].startswith("ERROR: aws_region: 'x'")
    assert lines[1].startswith("ERROR: environments: 'dev' needs exactly one production-tier environment")
    assert lines[-1] == "ERROR: 2 answer(s) rejected; nothing was generated."


def test_pre_gen_hook_accepts_the_defaults():
    assert multienv_hooks.error_lines(BASE) == []


def test_per_environment_files_are_written_for_every_environment(tmp_path):
    multienv_hooks.write_per_environment_files(plan(environments="dev,uat:staging,prd"), tmp_path)
    assert sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file()) == [
        "config/dev.toml",
        "config/prd.toml",
        "config/uat.toml",
    ]
    assert "staging" in (tmp_path / "config" / "uat.toml").read_text()


@pytest.mark.parametrize(
    "value,literal",
    [('a"b\\c', '"a\\"b\\\\c"'), (True, "true"), (3, "3"), (["x", "y"], '["x", "y"]'), ("é", '"é"')],
)
def test_toml_values_round_trip(value, literal):
    import tomllib

    assert multienv_plan.toml_value(value) == literal
    assert tomllib.loads(f"v = {literal}")["v"] == value


def test_the_post_gen_hook_writes_any_text_byte_for_byte(tmp_path, monkeypatch, capsys):
    """Quotes, $, backticks, CR and newlines survive; the next steps name the project."""
    tricky = {"config/a.toml": 'it\'s $HOME `id` \\ "x"\r\n\nno newline at the end', "b/c/d.txt": "-n\n"}
    monkeypatch.setattr(multienv_hooks, "per_environment_contents", lambda plan: tricky)
    # No multienv.toml here (cookiecutter writes it before the hook): the rendered files are test_synth's.
    monkeypatch.setattr(multienv_hooks, "write_platform_files", lambda project: [])
    assert multienv_hooks.post_gen(BASE, tmp_path) == 0
    assert {name: (tmp_path / name).read_bytes().decode() for name in tricky} == tricky
    assert capsys.readouterr().out.splitlines()[1:3] == [f"Generated {tmp_path}. Next:", f"  cd '{tmp_path}'"]


def test_the_pre_gen_hook_prints_every_error_line_and_fails(capsys):
    answers = {**BASE, "project_name": "it's", "environments": "dev"}
    assert multienv_hooks.pre_gen(answers) == 1
    assert capsys.readouterr().err.splitlines() == multienv_hooks.error_lines(answers)
    retried = {**answers, "_template": "gh:org/multienv-template", "_output_dir": "/tmp/out"}
    assert multienv_hooks.pre_gen(retried) == 1
    assert capsys.readouterr().err.splitlines() == [
        *multienv_hooks.error_lines(answers),
        *multienv_hooks.retry_lines(answers, "gh:org/multienv-template", "/tmp/out"),
    ]
    assert multienv_hooks.pre_gen({**BASE, "_template": "."}) == 0
    assert capsys.readouterr().err == ""


# (strategy, account_ids as given, {account name: id} expected in the plan)
ACCOUNT_NAMES = [
    ("hybrid", "devops=111111111111,nonprod=222222222222,prod=333333333333", {"nonprod": "2", "prod": "3"}),
    ("hybrid", "devops=111111111111,dev=222222222222,prd=333333333333", {"nonprod": "2", "prod": "3"}),
    ("hybrid", "devops=111111111111,nonprod=222222222222,dev=222222222222,prd=333333333333", {"nonprod": "2"}),
    ("consolidated_nonprod", "devops=111111111111,workloads=222222222222", {"workloads": "2"}),
    ("single_account", "main=111111111111", {"main": "1"}),
    ("single_account", "devops=111111111111", {"main": "1"}),
    ("full_isolation", "devops=111111111111,dev=222222222222,prd=333333333333", {"dev": "2", "prd": "3"}),
]


@pytest.mark.parametrize("strategy,ids,expected", ACCOUNT_NAMES)
def test_account_ids_are_given_by_the_account_names_of_multienv_toml(strategy, ids, expected):
    p = plan(account_strategy=strategy, environments="dev,prd", account_ids=ids)
    accounts = {a.key: a.id for a in p.accounts}
    assert {key: accounts[key] for key in expected} == {key: digit * 12 for key, digit in expected.items()}
    assert not any(a.placeholder for a in p.accounts)


@pytest.mark.parametrize(
    "field_name,value,suggestion",
    [
        ("account_strategy", "hybird", "hybrid"),
        ("account_strategy", "Hybrid", "hybrid"),
        ("account_strategy", "SINGLE_ACCOUNT", "single_account"),
        ("environments", "dev,Prd", "prd"),
        ("environments", "dve,prd", "dev"),
        ("environments", "dev,uat:stagin,prd", "staging"),
    ],
)
def test_a_mistyped_value_gets_the_closest_valid_one(field_name, value, suggestion):
    with pytest.raises(PlanError) as error:
        plan(**{field_name: value})
    assert f"did you mean {suggestion}?" in str(error.value)
    # What is allowed still follows the suggestion, which may not be what was meant.
    assert f"did you mean {suggestion}? Otherwise " in str(error.value)


def test_a_value_far_from_every_option_lists_the_options_instead():
    with pytest.raises(PlanError) as error:
        plan(account_strategy="x")
    assert "did you mean" not in str(error.value)
    assert "full_isolation, hybrid, consolidated_nonprod or single_account" in str(error.value)


def test_error_lines_stay_short():
    """The issue's 400-character strategy line: every message of a broad refusal fits a wide terminal."""
    answers = {
        **BASE,
        "environments": "dev,PRD,uat,x-y,prd:sandbox",
        "account_strategy": "hybird",
        "account_ids": "devops=1,nonprd=222222222222",
        "code_owners": "nobody",
    }
    lines = multienv_hooks.error_lines(answers)
    assert len(lines) >= 8
    assert max(len(line) for line in lines) <= 180, max(lines, key=len)


def test_the_retry_command_holds_every_answer():
    import shlex

    answers = {**BASE, "project_name": "It's $HOME", "environments": "dev,PRD"}
    command = multienv_hooks.retry_lines(answers, "gh:org/multienv-template", "/tmp/out dir")[-1]
    words = shlex.split(command)
    assert words[:5] == ["cookiecutter", "gh:org/multienv-template", "--output-dir", "/tmp/out dir", "--no-input"]
    assert dict(word.split("=", 1) for word in words[5:]) == multienv_plan.answers_of(answers)


def test_code_owners_are_users_teams_or_emails():
    assert plan(code_owners="@alice @my-org/platform-team ops@example.com").code_owners == (
        "@alice",
        "@my-org/platform-team",
        "ops@example.com",
    )
    for bad in ("alice", "@", "@-alice", "@org/", "a@b"):
        with pytest.raises(PlanError, match="code_owners"):
            plan(code_owners=bad)
