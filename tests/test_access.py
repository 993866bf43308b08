"""Persona policies and the access matrix: the table, the cases, and ``make check-access``.

The slow tests bake a project and run its own ``make check-access`` (that every strategy
passes is checked end to end, in test_infra.py): each deliberate break of the policies (a deployer reaching another
environment's artifacts, a dropped cross-environment Deny, a trust widened to an account
root) makes it fail on the case that guards it.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import DEFAULT_ANSWERS, SHARED_VENV, TEMPLATE, platform_copy, run_project

from multienv_template import plan as multienv_plan
from multienv_template import vocabulary as multienv_vocabulary

personas = multienv_vocabulary.personas
persona_cases = multienv_vocabulary.persona_cases
persona_trust = multienv_vocabulary.generated_module("multienv_tools.persona_trust")
# make check-access ONLY=...: every persona's cases.
PERSONA_KINDS = ",".join(personas.PERSONAS)


def answers(**overrides):
    return {**DEFAULT_ANSWERS, **overrides}


# --------------------------------------------------------------------------- the table, fast


def test_every_tier_has_a_grant_for_every_persona():
    tiers = {t.value for t in multienv_vocabulary.Tier}
    assert set(personas.TABLE) == tiers
    for row in personas.TABLE.values():
        assert set(row) == set(personas.PERSONAS)


@pytest.mark.parametrize(
    ("tier", "persona", "expected"),
    [
        ("sandbox", "software-developer", "full-environment"),
        ("development", "qa-engineer", "read-only"),
        ("testing", "software-developer", "read-logs"),
        ("qa", "qa-engineer", "read-execute"),
        ("staging", "software-developer", "read-only"),
        ("staging", "devops-engineer", "full-environment"),
        ("production", "devops-engineer", "view-only"),
        ("production", "software-developer", "view-only"),
        ("production", "qa-engineer", "none"),
        ("production", "project-admin", "full"),
    ],
)
def test_access_follows_the_design(tier, persona, expected):
    assert personas.grant(tier, persona).access.key == expected


def test_production_admin_needs_mfa_and_short_sessions():
    admin = personas.grant("production", "project-admin")
    assert admin.mfa
    assert admin.max_session_seconds == 3600
    assert not personas.grant("staging", "project-admin").mfa


def test_no_data_means_no_data_capability():
    for row in personas.TABLE.values():
        for grant in row.values():
            if grant.access.no_data:
                assert not grant.access.capabilities & {
                    personas.Capability.READ_DATA,
                    personas.Capability.READ_LOGS,
                    personas.Capability.READ_SECRETS,
                }


def test_unknown_tier_or_persona_is_named():
    with pytest.raises(ValueError, match=r"'nope'.*the tiers are"):
        personas.grant("nope", "qa-engineer")
    with pytest.raises(ValueError, match="'tester' is not one of"):
        personas.grant("staging", "tester")


def test_custom_environment_gets_its_tiers_access():
    plan = multienv_plan.build_plan(answers(environments="dev,uat:staging,prd"))
    rows = dict(plan.persona_rows())
    assert rows["Software Developer"] == [
        personas.grant("development", "software-developer").summary,
        personas.grant("staging", "software-developer").summary,
        personas.grant("production", "software-developer").summary,
    ]


def test_default_plan_has_at_least_150_cases():
    plan = multienv_plan.build_plan(answers())
    cases = plan.access_cases()
    assert len(cases) >= 150
    # every persona x environment x probe, and every deployer x every environment
    for env in plan.env_names:
        for persona in personas.PERSONAS:
            assert sum(1 for c in cases if c.principal == persona and c.principal_env == env) >= len(
                persona_cases.PROBES
            )
        assert {c.resource_env for c in cases if c.principal == "deployer" and c.principal_env == env} == set(
            plan.env_names
        )


def test_the_generated_cases_read_back_as_the_plans_and_the_team_file_holds_only_examples(tmp_path):
    read_cases = multienv_vocabulary.generated_module("multienv_tools.access_cases").read_cases
    plan = multienv_plan.build_plan(answers())
    generated = tmp_path / "generated-cases.csv"
    generated.write_text(persona_cases.render_cases(plan.access_cases()))
    assert [case for _, case in read_cases(generated)] == plan.access_cases()
    # The team's file, as a bake gets it: the column names, no case; its commented examples are real rows.
    team = TEMPLATE / "{{cookiecutter.project_slug}}" / persona_cases.TEAM_CASES_FILE
    assert read_cases(team) == []
    rows = [line[2:] for line in team.read_text().splitlines() if line.startswith("# ")]
    examples = [row for row in rows if row.count(",") == 7 and row.split(",")[5] in ("allow", "deny")]
    assert len(examples) == 2
    uncommented = tmp_path / "cases.csv"
    uncommented.write_text(",".join(persona_cases.CASE_FIELDS) + "\n" + "\n".join(examples) + "\n")
    assert [case.expect for _, case in read_cases(uncommented)] == ["allow", "deny"]


ALLOW_GET = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def _probe(action: str, key: str = "key") -> dict:
    account = "111111111111"
    return {
        "request": {
            "principal": f"arn:aws:iam::{account}:role/reader",
            "action": action,
            "resource": {"resource": f"arn:aws:s3:::bucket/{key}", "accountId": account},
            "contextVariables": {},
        },
        "identityPolicies": [{"name": "allow-get", "policy": ALLOW_GET}],
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }


def test_the_simulator_answers_every_request_in_order_and_each_distinct_one_once(node_modules):
    simulator = multienv_vocabulary.generated_module("multienv_tools.simulator")
    with simulator.Simulator(node_modules, TEMPLATE / "{{cookiecutter.project_slug}}") as running:
        numbers = [running.submit(_probe(action)) for action in ("s3:GetObject", "s3:PutObject", "s3:GetObject")]
        written = len(running._first)
        answers = running.answers()
    assert numbers == [0, 1, 2]
    assert written == 2  # the repeated request crossed the pipe once
    assert [a["id"] for a in answers] == numbers
    assert [a["decision"] for a in answers] == ["Allowed", "ImplicitlyDenied", "Allowed"]


def test_a_simulator_that_fails_is_named_with_what_it_printed(node_modules, tmp_path, monkeypatch):
    simulator = multienv_vocabulary.generated_module("multienv_tools.simulator")
    driver = tmp_path / "simulate.cjs"  # in place of the driver the package ships
    driver.write_text("process.stderr.write('no engine here');\nprocess.exit(3);\n")
    monkeypatch.setattr(simulator, "DRIVER", driver)
    with simulator.Simulator(node_modules, tmp_path) as running:
        for number in range(2000):  # past the pipe's buffer: the writer sees the process gone
            running.submit(_probe("s3:GetObject", str(number)))
        with pytest.raises(
            multienv_vocabulary.generated_module("multienv_tools.access_policies").AccessError,
            match=r"simulate.cjs failed .*\n.*no engine here",
        ):
            running.answers()


# --------------------------------------------------------------------------- baked projects, slow


def check_access(project: Path, only: str = "") -> subprocess.CompletedProcess:
    """The project's ``make check-access``; with ``only`` (principals, comma-separated), their cases alone:
    a sabotage is checked where it must show, in a fraction of the time."""
    return run_project(project, "check-access", *([f"ONLY={only}"] if only else []))


@pytest.mark.slow
def test_team_case_that_is_wrong_fails_with_its_line(bake_copy, node_modules):
    result = bake_copy()
    cases = result.project / "access" / "cases.csv"
    line = "qa-engineer,prd,s3:GetObject,data-object,prd,allow,,production data for QA\n"
    cases.write_text(cases.read_text() + line)
    number = len(cases.read_text().splitlines())
    run = check_access(result.project, "qa-engineer")
    assert run.returncode != 0
    assert f"cases.csv:{number}:" in run.stdout
    assert "expected allow" in run.stdout


def _dry_run(project: Path, *arguments: str, **environment: str) -> str:
    """What make would run (-n: nothing runs; -B: as if every stamp were stale)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "ONLY")}
    command = ["make", "-n", *arguments, f"VENV={SHARED_VENV}"]
    run = subprocess.run(command, cwd=project, env={**env, **environment}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_only_a_command_line_only_makes_check_access_partial_and_make_check_never_is(bake_once):
    project = bake_once().project
    assert "--only 'project-admin'" in _dry_run(project, "check-access", "ONLY=project-admin")
    for dry in (
        _dry_run(project, "-B", "check", "ONLY=project-admin"),  # make check runs the whole check
        _dry_run(project, "-B", "check-access", ONLY="project-admin"),  # one left in the shell counts for nothing
    ):
        assert "multienv check-access" in dry and "--only" not in dry, dry


@pytest.mark.slow
def test_make_synth_renders_the_generated_cases_and_never_touches_the_teams(bake_copy):
    result = bake_copy(environments="dev,qa,prd")
    generated = result.project / persona_cases.GENERATED_CASES_FILE
    team = result.project / persona_cases.TEAM_CASES_FILE
    baked = generated.read_text()
    team_row = "software-developer,qa,logs:FilterLogEvents,log-group,qa,allow,,developers read qa logs\n"
    team_text = team.read_text() + team_row
    team.write_text(team_text)
    # a stale generated row (as after a change to personas.py): make check names it, make synth renders it again
    generated.write_text(baked.replace("identity,dev,", "identity,qa,", 1))
    stale = run_project(result.project, "check-synth")
    assert stale.returncode != 0 and persona_cases.GENERATED_CASES_FILE in stale.stderr, stale.stdout + stale.stderr
    run = run_project(result.project, "synth")
    assert run.returncode == 0, run.stdout + run.stderr
    assert generated.read_text() == baked
    assert team.read_text() == team_text


# --- sabotage: the edits work on the YAML's meaning, not its layout --------------


def edit_statements(path: Path, edit) -> int:
    """Apply ``edit(statement)`` to every policy statement; it returns True when it changed one.
    A statement it marks with ``_drop`` is removed."""
    data = multienv_vocabulary.generated_module("multienv_tools.cfn").load_template(path)
    changed = 0

    def visit(node):
        nonlocal changed
        if isinstance(node, dict):
            if "Effect" in node and ("Action" in node or "NotAction" in node):
                changed += bool(edit(node))
                return
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)
            # NoValue rather than removal keeps an enclosing Fn::If well formed.
            node[:] = [{"Ref": "AWS::NoValue"} if isinstance(v, dict) and v.get("_drop") else v for v in node]

    visit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return changed


def sid(name: str, edit):
    """An edit for edit_statements: applies ``edit`` to the statement whose Sid is ``name``."""

    def apply(statement):
        if statement.get("Sid") == name:
            edit(statement)
            return True
        return False

    return apply


def drop(*sids: str):
    """An edit for edit_statements: removes the statements with these Sids."""

    def edit(statement):
        if statement.get("Sid") in sids:
            statement["_drop"] = True
            return True
        return False

    return edit


# The permissions boundary's statements carry no Sid (it is the policy nearest its size limit):
# found by what they say. Every other statement of workload-bootstrap.yaml has a Sid.
BOUNDARY = {
    "Own": lambda s: s["Effect"] == "Allow" and "cloudformation:*" in s.get("Action", []),
    "Roles": lambda s: s.get("Action") == "iam:*Role*",
    "PassExec": lambda s: s.get("Action") == "iam:PassRole" and "Condition" in s and "ArnLike" in s["Condition"],
    "Bounded": lambda s: s["Effect"] == "Deny" and "StringNotLike" in s.get("Condition", {}),
    "Stays": lambda s: s.get("Action") == "iam:Delete*Boundary",
    "NoPaths": lambda s: s["Effect"] == "Deny" and s.get("Action") == "iam:CreateRole",
    "ReadOnly": lambda s: s["Effect"] == "Deny" and "NotResource" in s,
    "Stacks": lambda s: s["Effect"] == "Deny" and "NotAction" in s,
}


def boundary(name: str, edit=None):
    """An edit for edit_statements on the boundary's statement ``name`` (BOUNDARY): ``edit(statement)``,
    or its removal."""
    found = BOUNDARY[name]

    def apply(statement):
        if "Sid" in statement or not found(statement):
            return False
        if edit is None:
            statement["_drop"] = True
        else:
            edit(statement)
        return True

    return apply


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def assert_caught(project: Path, *needles: str, only: str = ""):
    run = check_access(project, only)
    assert run.returncode != 0, run.stdout
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAIL")]
    assert failed, run.stdout
    for needle in needles:
        assert any(needle in line for line in failed), f"{needle!r} not among:\n" + "\n".join(failed)


@pytest.mark.slow
def test_sabotage_dev_deployer_reads_production_artifacts(bake_copy, node_modules):
    result = bake_copy()
    infra = result.project / "infra"
    plan = multienv_plan.build_plan(answers())
    dev_deployer = plan.naming.role_arn(plan.environment("dev").account.id, plan.naming.deployer_role("dev"))
    prd = plan.naming.prefix("prd")

    def whole_bucket(statement):  # the deployers' identity side: the whole bucket, not their prefix
        text = str(statement.get("Resource"))
        if "${ArtifactPrefix}" in text:
            statement["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ArtifactBucketName}/*"}
            return True
        return False

    def no_production_denies(statement):  # every Deny that keeps others off production's artifacts
        texts = _strings(statement.get("Resource")) + _strings(statement.get("Condition"))
        if statement["Effect"] == "Deny" and any("/prd/" in t or prd in t for t in texts):
            statement["_drop"] = True
            return True
        return False

    def dev_in_production_grant(statement):  # the bucket policy names dev's deployer for prd's artifacts
        resources = _strings(statement.get("Resource"))
        if statement["Effect"] == "Allow" and "Principal" in statement and any("/prd/*" in r for r in resources):
            principal = statement["Principal"]["AWS"]
            statement["Principal"]["AWS"] = [*(principal if isinstance(principal, list) else [principal]), dev_deployer]
            return True
        return False

    assert edit_statements(infra / "workload-bootstrap.yaml", whole_bucket) >= 1
    assert edit_statements(infra / "devops.yaml", no_production_denies) >= 1
    assert edit_statements(infra / "devops.yaml", dev_in_production_grant) >= 1
    assert_caught(result.project, f"{plan.naming.deployer_role('dev')} s3:GetObject", "read artifacts", only="deployer")


def widen_the_administrator(statement):
    """The shared-account administrator's policy as a later, careless Allow would make it: everything."""
    if statement.get("Sid") == "AdministerTheEnvironmentsNames":
        statement["Action"], statement["Resource"] = "*", "*"
        statement.pop("Condition", None)
        return True
    return False


@pytest.mark.slow
def test_sabotage_dropped_cross_environment_deny(bake_copy, node_modules):
    # In a shared account, whatever allows too much, the name Deny keeps one environment's
    # administrator off another's data, secrets, parameters, logs and functions.
    result = bake_copy(account_strategy="consolidated_nonprod")
    personas_yaml = result.project / "infra" / "personas.yaml"
    assert edit_statements(personas_yaml, drop("DenyDataOutsideTheEnvironmentsNames")) == 1
    assert edit_statements(personas_yaml, widen_the_administrator) == 1
    assert_caught(
        result.project,
        "project-admin lambda:UpdateFunctionCode",
        "(read another environment's secret)",
        "(overwrite another environment's secret)",
        "(read another environment's parameter)",
        "(read another environment's function variables)",
        only="project-admin",
    )


@pytest.mark.slow
def test_sabotage_dropped_tag_deny(bake_copy, node_modules):
    # A resource outside the naming scheme is another environment's only by its env tag.
    result = bake_copy(account_strategy="single_account")
    personas_yaml = result.project / "infra" / "personas.yaml"
    # the tag Deny, and the name fence of shared accounts, which also covers functions
    assert (
        edit_statements(personas_yaml, drop("DenyOtherEnvironmentsByTag", "DenyDataOutsideTheEnvironmentsNames")) == 2
    )
    # The shared-account administrator is allowed its own names only; with a careless Allow on
    # everything, the tag Deny is what keeps it off another environment's resource outside them.
    assert edit_statements(personas_yaml, widen_the_administrator) == 1
    assert_caught(result.project, "project-admin lambda:UpdateFunctionCode", "tagged resource", only="project-admin")


@pytest.mark.slow
def test_sabotage_trust_widened_to_account_root(bake_copy, node_modules):
    result = bake_copy()
    plan = multienv_plan.build_plan(answers())

    def root_trust(statement):
        principal = statement.get("Principal", {})
        if isinstance(principal, dict) and principal.get("AWS") == {"Ref": "CiRoleArn"}:
            principal["AWS"] = {"Fn::Sub": "arn:${AWS::Partition}:iam::${DevOpsAccountId}:root"}
            return True
        return False

    assert edit_statements(result.project / "infra" / "workload-bootstrap.yaml", root_trust) >= 1
    outsider = plan.naming.name("devops", "outsider")
    assert_caught(result.project, f"{outsider} sts:AssumeRole", "assume as another DevOps role", only="outsider")


@pytest.mark.slow
def test_sabotage_production_data_readable(bake_copy, node_modules):
    # The explicit no-data Denies are what keep production data from view-only personas: the no-data
    # block's and, with a data store, the no-store-data block's (its objects and items), each alone enough.
    result = bake_copy()

    def read_everything(statement):
        if statement.get("Sid") == "DescribeBuckets":
            statement["Action"] = [*statement["Action"], "s3:GetObject"]
            statement["Resource"] = "*"
            return True
        return False

    assert edit_statements(result.project / "infra" / "personas.yaml", drop("DenyDataReads", "DenyStoreData")) == 2
    assert edit_statements(result.project / "infra" / "personas.yaml", read_everything) == 1
    assert_caught(result.project, "prd-devops-engineer s3:GetObject", "read data", only="devops-engineer")


@pytest.mark.slow
def test_parliament_finding_fails_the_check(bake_copy, node_modules):
    result = bake_copy()

    def copied_wrong_arn(statement):  # the table statement pasted with the objects' ARN
        if statement.get("Sid") == "ReadItems":
            statement["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ResourcePrefix}*/*"}
            return True
        return False

    assert edit_statements(result.project / "infra" / "personas.yaml", copied_wrong_arn) == 1
    run = check_access(result.project)
    assert run.returncode != 0
    assert re.search(r"FAIL parliament: \S+-persona-read-data: MEDIUM RESOURCE_MISMATCH", run.stdout), run.stdout


@pytest.mark.slow
def test_sabotage_pipeline_reaches_the_persona_roles(bake_copy, node_modules):
    # Persona roles share the environment's prefix: only the function-role name pattern of the
    # boundary and the execution role, and their Denies, keep the pipeline (and roles created
    # under the boundary) off them and off the administrator's stacks.
    result = bake_copy()
    bootstrap = result.project / "infra" / "workload-bootstrap.yaml"

    def whole_prefix(statement):  # every role of the environment, as the boundary once allowed
        changed = False
        for key in ("Resource", "NotResource"):
            value = statement.get(key)
            if isinstance(value, dict) and "${WorkloadRoleNames}" in str(value.get("Fn::Sub", "")):
                statement[key] = {"Fn::Sub": value["Fn::Sub"].replace("${WorkloadRoleNames}", "${ResourcePrefix}*")}
                changed = True
        if statement.get("Sid") == "NeverThePlatformRoles" or boundary("Stacks")(statement):
            statement["_drop"] = True
            changed = True
        return changed

    assert edit_statements(bootstrap, whole_prefix) == 6
    plan = multienv_plan.build_plan(answers())
    n = plan.naming

    def persona_role(env, persona):
        return n.role_arn(plan.environment(env).account.id, n.persona_role(env, persona))

    assert_caught(
        result.project,
        f"{n.cfn_execution_role('prd')} iam:PutRolePolicy {persona_role('prd', 'project-admin')}:",
        f"{n.cfn_execution_role('prd')} iam:CreateRole {persona_role('prd', 'qa-engineer')}:",
        f"{n.name('dev', 'bounded')} iam:PutRolePolicy {persona_role('dev', 'software-developer')}:",
        f"{n.deployer_role('dev')} cloudformation:UpdateStack",
        only="cfn-exec,bounded-role,deployer",
    )


@pytest.mark.slow
def test_sabotage_administrator_takes_over_a_shared_account(bake_copy, node_modules):
    # In one account, once something allows everything, only the guard's Denies keep a sandbox
    # administrator's "full" in the sandbox.
    result = bake_copy(account_strategy="single_account")
    takeover = {"DenyPersonaSetupChanges", "DenyIamWritesOutsideTheEnvironment", "DenyProjectPlatform"}

    personas_yaml = result.project / "infra" / "personas.yaml"
    assert edit_statements(personas_yaml, drop(*takeover)) == len(takeover)
    assert edit_statements(personas_yaml, widen_the_administrator) == 1
    plan = multienv_plan.build_plan(answers(account_strategy="single_account"))
    n = plan.naming
    admin = n.persona_role("sbx", "project-admin")
    identity_admin = n.role_arn(plan.devops.id, n.name(persona_trust.IDENTITY, "project-admin"))
    assert_caught(
        result.project,
        f"{admin} iam:DetachRolePolicy",
        f"{admin} iam:AttachRolePolicy",
        f"{admin} iam:PutRolePolicy {identity_admin}:",
        only="project-admin",
    )


@pytest.mark.slow
def test_sabotage_no_data_deny_misses_a_read(bake_copy, node_modules):
    # With an Allow on every one of these reads, only the no-data Deny keeps production's data out.
    result = bake_copy()
    personas_yaml = result.project / "infra" / "personas.yaml"
    reads = [probe.action for probe in persona_cases.NO_DATA_PROBES]

    def allow_the_reads(statement):
        if statement.get("Sid") == "ListEverywhere":
            statement["Action"] = [*statement["Action"], *reads]
            return True
        return False

    assert edit_statements(personas_yaml, allow_the_reads) == 1
    # On "*" the Allow also opens another project's configuration in a shared account (those cases
    # fail here, as they should); production's no-data reads stay denied by the Deny alone.
    run = check_access(result.project, PERSONA_KINDS)
    no_data = [f"prd-devops-engineer {action} " for action in reads]
    assert not [line for line in run.stdout.splitlines() if line.startswith("FAIL") and any(n in line for n in no_data)]
    assert "expected deny, got Allowed" in run.stdout  # the Allow took effect

    # The Deny without the reads added to it; with a data store, the no-store-data block denies the
    # table's stream reads too (each Deny alone suffices): both lose them.
    def deny_as_before(statement):
        if statement.get("Sid") in ("DenyDataReads", "DenyStoreData"):
            statement["Action"] = [a for a in statement["Action"] if a not in reads]
            return True
        return False

    assert edit_statements(personas_yaml, deny_as_before) == 2
    assert_caught(result.project, *(f"prd-devops-engineer {action} " for action in reads), only=PERSONA_KINDS)


@pytest.mark.slow
def test_sabotage_ci_roles_back_inside_the_environments_prefix(bake_copy, node_modules):
    # <slug>-<env>-ci in a shared account: the environment's administrator makes itself the deployer.
    result = bake_copy(account_strategy="single_account")
    naming_py = platform_copy(result.project) / "multienv" / "naming.py"
    text = naming_py.read_text(encoding="utf-8")
    assert 'return self.name(DEVOPS, f"{env}-{CI}")' in text
    naming_py.write_text(text.replace('return self.name(DEVOPS, f"{env}-{CI}")', "return self.name(env, CI)"))
    assert_caught(
        result.project,
        "(add to its CI role's permissions)",
        "(attach a policy to its CI role)",
        "(change its CI role's trust)",
        only="project-admin",
    )


# Sids dropped -> cases that must then fail; in the account layout where nothing else stops them
# once the administrator's Allow is widened (widen_the_administrator: a later, careless Allow).
DENIES_AND_WHAT_THEY_STOP = {
    "DenyAccountSettings": (
        "full_isolation",
        ("DenyAccountSettings",),
        ["(stop the account's trail)", "(register a CloudFormation type)"],
    ),
    # Either key Deny alone stops an untagged key; the other project's key of this env is the
    # project Deny's alone.
    "key-denies": (
        "full_isolation",
        ("DenyKeysOfOtherEnvironments", "DenyKeysOfOtherProjects"),
        ["(schedule an untagged key's deletion)"],
    ),
    "DenyKeysOfOtherProjects": ("full_isolation", ("DenyKeysOfOtherProjects",), ["key (peer-project))"]),
    "DenyBuildspecOverrides": ("full_isolation", ("DenyBuildspecOverrides",), ["(run any code as a build's role)"]),
    "DenyTaggingAsAnotherEnvironment": (
        "single_account",
        ("DenyTaggingAsAnotherEnvironment",),
        ["(tag a resource as another environment's)"],
    ),
    "DenyTaggingAsAnotherProject": (
        "single_account",
        ("DenyTaggingAsAnotherProject",),
        ["(tag a resource as another project's)"],
    ),
    # The Delete request names the boundary in place: only an unconditional Deny stops it.
    "DenyDroppingTheBoundary": ("single_account", ("DenyDroppingTheBoundary",), ["(drop a role's boundary)"]),
    "DenyIamWritesOutsideTheEnvironment": (
        "full_isolation",
        ("DenyIamWritesOutsideTheEnvironment",),
        ["(deactivate a user's MFA device)", "(upload a user's SSH key)", "(create a user's service credential)"],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", DENIES_AND_WHAT_THEY_STOP)
def test_sabotage_account_guard_statement_dropped(bake_copy, node_modules, name):
    strategy, sids, needles = DENIES_AND_WHAT_THEY_STOP[name]
    result = bake_copy(account_strategy=strategy)
    personas_yaml = result.project / "infra" / "personas.yaml"
    assert edit_statements(personas_yaml, widen_the_administrator) == 1
    assert edit_statements(personas_yaml, drop(*sids)) == len(sids)
    assert_caught(result.project, *needles, only="project-admin")


@pytest.mark.slow
def test_sabotage_a_role_under_the_boundary_sheds_it(bake_copy, node_modules):
    # The Delete request carries iam:PermissionsBoundary (the boundary in place), so the
    # conditional Deny on Create and Put lets it through: only the unconditional one stops it.
    result = bake_copy(account_strategy="single_account")
    bootstrap = result.project / "infra" / "workload-bootstrap.yaml"
    assert edit_statements(bootstrap, boundary("Stays")) == 1
    # A role under the boundary with any identity policy: the boundary alone must hold it.
    assert_caught(result.project, "-bounded iam:DeleteRolePermissionsBoundary", only="bounded-role")


@pytest.mark.slow
def test_sabotage_boundary_forgets_the_account(bake_copy, node_modules):
    # Bucket names are global: without aws:ResourceAccount a pipeline role writes to a same-named
    # bucket that someone else owns and opens.
    result = bake_copy()

    unpinned = boundary("Own", lambda statement: statement.pop("Condition"))
    assert edit_statements(result.project / "infra" / "workload-bootstrap.yaml", unpinned) == 1
    assert_caught(result.project, "(write to a same-named bucket)", only="cfn-exec,bounded-role")


@pytest.mark.slow
def test_sabotage_function_role_reads_every_secret_of_a_shared_account(bake_copy, node_modules):
    # Where environments share an account, two layers keep one function off another's secrets: its
    # role's grant (the environment's path) and the boundary. With both widened to the account's
    # every secret and parameter, the generated rows from config/*.toml catch it.
    result = bake_copy(account_strategy="single_account")
    infra = result.project / "infra"

    def whole_account(statement):
        """The function role's and the boundary's secret and parameter patterns, widened to the account."""
        parameters = {
            "SecretArnPattern": "arn:${AWS::Partition}:secretsmanager:*:${AWS::AccountId}:secret:*",
            "ParameterArnPattern": "arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:parameter/*",
        }
        resources = statement.get("Resource")
        if isinstance(resources, dict) and resources.get("Ref") in parameters:  # infra/app.yaml
            statement["Resource"] = {"Fn::Sub": parameters[resources["Ref"]]}
            return True
        changed = False
        for index, resource in enumerate(resources if isinstance(resources, list) else []):
            text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else ""
            if "${SecretPrefix}" in text and ":*:*:" in text:  # the boundary's own-account patterns
                resources[index] = {"Fn::Sub": text.replace("${SecretPrefix}", "")}
                changed = True
        return changed

    assert edit_statements(infra / "app.yaml", whole_account) == 2
    assert edit_statements(infra / "workload-bootstrap.yaml", whole_account) == 2
    plan = multienv_plan.build_plan(answers(account_strategy="single_account"))
    dev_role = plan.naming.function_role("dev")
    assert_caught(
        result.project,
        f"{dev_role} secretsmanager:GetSecretValue",
        "(read another environment's secret)",
        "(read another environment's parameter)",
        "(read another project's secret)",
        only="app-role",
    )
