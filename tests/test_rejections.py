"""Rejected answers: a non-zero exit, one ERROR line per problem naming field and value, and no folder left."""

from __future__ import annotations

import pytest

# (answers, [(field, value)] every one of which must appear in an ERROR line)
REJECTED = {
    "env-uppercase": ({"environments": "dev,PRD"}, [("environments", "PRD")]),
    "env-starts-with-digit": ({"environments": "1dev,prd"}, [("environments", "1dev")]),
    "env-hyphen": ({"environments": "dev-1,prd"}, [("environments", "dev-1")]),
    "env-too-long": ({"environments": "dev,integration01:testing,prd"}, [("environments", "integration01")]),
    "env-duplicate": ({"environments": "dev,dev,prd"}, [("environments", "dev")]),
    "env-reserved-devops": ({"environments": "devops,dev,prd"}, [("environments", "devops")]),
    "env-reserved-identity": ({"environments": "dev,identity:staging,prd"}, [("environments", "identity")]),
    "env-reserved-shared": ({"environments": "shared:sandbox,dev,prd"}, [("environments", "shared")]),
    "env-unknown-without-tier": ({"environments": "dev,uat,prd"}, [("environments", "uat")]),
    "env-unknown-tier": ({"environments": "dev,uat:preprod,prd"}, [("environments", "uat:preprod")]),
    "env-empty": ({"environments": ""}, [("environments", "")]),
    "env-empty-entry": ({"environments": "dev,,prd"}, [("environments", "dev,,prd")]),
    "env-known-name-other-tier": ({"environments": "dev,prd:sandbox,prod"}, [("environments", "prd:sandbox")]),
    "env-no-production": ({"environments": "dev,tst"}, [("environments", "dev,tst")]),
    "env-two-productions": ({"environments": "dev,prd,prod"}, [("environments", "dev,prd,prod")]),
    "env-production-not-last": ({"environments": "dev,prd,tst"}, [("environments", "dev,prd,tst")]),
    "env-no-development": ({"environments": "sbx,tst,prd"}, [("environments", "sbx,tst,prd")]),
    "strategy-unknown": ({"account_strategy": "multi_account"}, [("account_strategy", "multi_account")]),
    "data-stores-unknown": ({"data_stores": "dynamodb"}, [("data_stores", "dynamodb")]),
    "data-stores-empty": ({"data_stores": ""}, [("data_stores", "")]),
    "region-bad": ({"aws_region": "us-east"}, [("aws_region", "us-east")]),
    "region-uppercase": ({"aws_region": "US-EAST-1"}, [("aws_region", "US-EAST-1")]),
    "slug-not-kebab": ({"project_slug": "My_App"}, [("project_slug", "My_App")]),
    "slug-with-slash": ({"project_slug": "my-org/app", "package_name": "app"}, [("project_slug", "my-org/app")]),
    "slug-parent-folder": ({"project_slug": "../app", "package_name": "app"}, [("project_slug", "../app")]),
    "slug-double-hyphen": ({"project_slug": "my--app", "package_name": "my_app"}, [("project_slug", "my--app")]),
    "slug-reserved-prefix": ({"project_slug": "sthree-app", "package_name": "app"}, [("project_slug", "sthree-app")]),
    "slug-too-long-for-role-names": (
        {"project_slug": "a" * 50, "package_name": "app"},
        [("project_slug", "a" * 50)],
    ),
    "slug-too-long-for-bucket-names": (
        {"project_slug": "b" * 34, "package_name": "app", "environments": "dev,prd"},
        [("project_slug", "b" * 34)],
    ),
    "package-not-identifier": ({"package_name": "my-app"}, [("package_name", "my-app")]),
    "package-keyword": ({"package_name": "class"}, [("package_name", "class")]),
    "package-shadows-stdlib": ({"package_name": "json"}, [("package_name", "json")]),
    "github-no-owner": ({"github_repository": "my-app"}, [("github_repository", "my-app")]),
    "github-owner-too-long": ({"github_repository": f"{'o' * 40}/app"}, [("github_repository", f"{'o' * 40}/app")]),
    "github-name-dotdot": ({"github_repository": "my-org/.."}, [("github_repository", "my-org/..")]),
    "github-subject-form": (
        {"github_repository": "my-org@1001/my-app@2002"},
        [("github_repository", "my-org@1001/my-app@2002")],
    ),
    "github-owner-id-not-digits": (
        {"github_owner_id": "my-org", "github_repository_id": "2002"},
        [("github_owner_id", "my-org")],
    ),
    "github-repository-id-negative": (
        {"github_owner_id": "1001", "github_repository_id": "-2002"},
        [("github_repository_id", "-2002")],
    ),
    "github-repository-id-leading-zero": (
        {"github_owner_id": "1001", "github_repository_id": "02002"},
        [("github_repository_id", "02002")],
    ),
    "github-repository-id-missing": ({"github_owner_id": "1001"}, [("github_repository_id", "")]),
    "github-owner-id-missing": ({"github_repository_id": "2002"}, [("github_owner_id", "")]),
    "project-name-blank": (
        {"project_name": "   ", "project_slug": "app", "package_name": "app"},
        [("project_name", "   ")],
    ),
    "project-name-quote": (
        {"project_name": 'A "quoted" app', "project_slug": "app", "package_name": "app"},
        [("project_name", 'A "quoted" app')],
    ),
    "project-name-backslash": (
        {"project_name": "A \\ app", "project_slug": "app", "package_name": "app"},
        [("project_name", "A \\ app")],
    ),
    "account-id-short": (
        {"environments": "dev,prd", "account_ids": "devops=111111111111,dev=2222,prd=333333333333"},
        [("account_ids", "dev=2222")],
    ),
    "account-id-unknown-name": (
        {"environments": "dev,prd", "account_ids": "devops=111111111111,dev=222222222222,stg=333333333333"},
        [("account_ids", "stg")],
    ),
    "account-ids-partial": (
        {"environments": "dev,prd", "account_ids": "devops=111111111111,dev=222222222222"},
        [("account_ids", "devops=111111111111,dev=222222222222")],
    ),
    "account-id-placeholder": (
        {"environments": "dev,prd", "account_ids": "devops=000000000001,dev=222222222222,prd=333333333333"},
        [("account_ids", "devops=000000000001")],
    ),
    "account-ids-full-isolation-shared": (
        {"environments": "dev,prd", "account_ids": "devops=111111111111,dev=222222222222,prd=222222222222"},
        [("account_ids", "222222222222")],
    ),
    "account-ids-hybrid-nonprod-split": (
        {
            "environments": "dev,tst,prd",
            "account_strategy": "hybrid",
            "account_ids": "devops=111111111111,dev=222222222222,tst=333333333333,prd=444444444444",
        },
        [("account_ids", "dev=222222222222, tst=333333333333")],
    ),
    "account-ids-consolidated-devops-shared": (
        {
            "environments": "dev,prd",
            "account_strategy": "consolidated_nonprod",
            "account_ids": "devops=111111111111,dev=111111111111,prd=111111111111",
        },
        [("account_ids", "111111111111")],
    ),
    "account-ids-single-split": (
        {
            "environments": "dev,prd",
            "account_strategy": "single_account",
            "account_ids": "devops=111111111111,dev=111111111111,prd=222222222222",
        },
        [("account_ids", "devops=111111111111, dev=111111111111, prd=222222222222")],
    ),
    "strategy-typo": ({"account_strategy": "hybird"}, [("account_strategy", "hybird")]),
    "account-ids-not-an-account-of-the-strategy": (
        {"environments": "dev,prd", "account_ids": "devops=111111111111,nonprod=222222222222,prod=333333333333"},
        [("account_ids", "nonprod"), ("account_ids", "prod")],
    ),
    "account-ids-account-and-environment-disagree": (
        {
            "environments": "dev,prd",
            "account_strategy": "hybrid",
            "account_ids": "devops=111111111111,nonprod=222222222222,dev=444444444444,prod=333333333333",
        },
        [("account_ids", "nonprod=222222222222, dev=444444444444")],
    ),
    "code-owners-empty": ({"code_owners": " "}, [("code_owners", " ")]),
    "code-owners-not-an-owner": ({"code_owners": "@my-org/platform my-org"}, [("code_owners", "my-org")]),
}


@pytest.mark.parametrize("answers,expected", REJECTED.values(), ids=REJECTED.keys())
def test_rejected_answers_leave_nothing_behind(bake, capfd, answers, expected):
    result = bake(**answers)
    err = capfd.readouterr().err
    assert result.exit_code != 0
    assert result.output_dir.is_dir(), "the bake did not run where expected"
    assert list(result.output_dir.iterdir()) == [], "a rejected bake left files behind"
    error_lines = [line for line in err.splitlines() if line.startswith("ERROR: ")]
    for field, value in expected:
        assert any(line.startswith(f"ERROR: {field}: {value!r}") for line in error_lines), (field, value, err)


def test_every_problem_is_reported_at_once(bake, capfd, tmp_path):
    result = bake(
        environments="dev,PRD,dev",
        aws_region="mars",
        account_strategy="x",
        github_repository="nope",
        github_owner_id="x",
    )
    err = capfd.readouterr().err
    assert result.exit_code != 0
    fields = [line.split(":")[1].strip() for line in err.splitlines() if line.startswith("ERROR: ") and ": '" in line]
    expected = {"environments", "aws_region", "account_strategy", "github_repository", "github_owner_id"}
    assert expected | {"github_repository_id"} <= set(fields)
    assert fields.count("environments") == 2  # PRD and the second dev


# (answers, the start of each ERROR line expected, in order): every rule in one run.
AT_ONCE = {
    "bad-name-order-and-partial-ids": (
        {"environments": "dev,PRD,tst", "account_ids": "devops=111111111111,dev=222222222222"},
        [
            "ERROR: environments: 'PRD' is not a valid environment name: did you mean prd?",
            "ERROR: environments: 'dev,PRD,tst' must end with the production environment (prd)",
            "ERROR: account_ids: 'devops=111111111111,dev=222222222222' is partial: missing prd, tst;",
        ],
    ),
    "typo-strategy-still-checks-the-ids": (
        {"environments": "dev,prd", "account_strategy": "Hybrid", "account_ids": "devops=111111111111,nonprod=22"},
        [
            "ERROR: account_strategy: 'Hybrid' is not an account strategy: did you mean hybrid?",
            "ERROR: account_ids: 'nonprod=22' is not an AWS account ID",
            "ERROR: account_ids: 'devops=111111111111,nonprod=22' is partial: missing prod;",
        ],
    ),
    "unknown-name-and-tier-suggestions": (
        {"environments": "dve,uat:Staging,prd"},
        [
            "ERROR: environments: 'dve' has no known tier: did you mean dev?",
            "ERROR: environments: 'uat:Staging' has an unknown tier: did you mean staging?",
        ],
    ),
}


@pytest.mark.parametrize("answers,expected", AT_ONCE.values(), ids=AT_ONCE.keys())
def test_every_rule_is_checked_in_the_same_run(bake, capfd, answers, expected):
    result = bake(**answers)
    err = capfd.readouterr().err
    assert result.exit_code != 0
    lines = [line for line in err.splitlines() if line.startswith("ERROR: ")]
    assert len(lines) == len(expected) + 1, err  # and the summary line
    for line, start in zip(lines, expected, strict=False):
        assert line.startswith(start), (line, start)
