"""The environment resolver: every precedence row in every runtime, every refusal, and the command line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from baked import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from multienv.env import (
    ALLOW_LOCAL_PRODUCTION,
    AWS_MARKERS,
    AWS_RUNTIMES,
    CI_MARKERS,
    EXECUTION_ENV,
    OFFICIAL,
    OVERRIDE,
    RUNTIME_VARIABLE,
    ResolutionError,
    detect_runtime,
    resolve,
)
from multienv.model import Tier
from multienv.settings import load_settings, parse_settings

# What this module checks does not vary with the answers: it runs against one bake (the defaults).
pytestmark = pytest.mark.once

PACKAGE = load_settings(ROOT / "multienv.toml").package

# A layout of its own, so the table below reads with real names whatever this repository's
# environments are: the first environment is a sandbox, so the local default is not simply the first.
LAYOUT = parse_settings(
    {
        "project": {
            "name": "Resolver test",
            "slug": "rt",
            "package": "rt",
            "region": "us-east-1",
            "github_repository": "owner/rt",
            "account_strategy": "hybrid",
        },
        "accounts": {"devops": "000000000001", "nonprod": "000000000002", "prod": "000000000003"},
        "devops": {"account": "devops"},
        "environments": [
            {"name": "sbx", "tier": "sandbox", "account": "nonprod"},
            {"name": "dev", "tier": "development", "account": "nonprod"},
            {"name": "uat", "tier": "staging", "account": "nonprod"},
            {"name": "prd", "tier": "production", "account": "prod"},
        ],
    },
    Path("multienv.toml"),
)
ALL_NAMES = "sbx, dev, uat, prd"

# (variables, runtime): each marker alone, the values that do not count, and the tie-breaks.
RUNTIMES = [
    ({}, "local"),
    ({"CI": "true"}, "ci"),
    ({"GITHUB_ACTIONS": "true"}, "ci"),
    ({"GITLAB_CI": "true"}, "ci"),
    ({"CODEBUILD_BUILD_ID": "build:1"}, "ci"),
    ({"JENKINS_URL": "http://jenkins.internal/"}, "ci"),
    ({"CIRCLECI": "true"}, "ci"),
    ({"BITBUCKET_BUILD_NUMBER": "42"}, "ci"),
    ({"BUILDKITE": "true"}, "ci"),
    ({"CI": "1"}, "ci"),
    ({"CI": "false"}, "local"),
    ({"CI": " FALSE "}, "local"),
    ({"CI": "0"}, "local"),
    ({"CI": ""}, "local"),
    ({"GITHUB_ACTIONS": "false", "CI": "0"}, "local"),
    ({"AWS_LAMBDA_FUNCTION_NAME": "rt-dev-app"}, "aws-lambda"),
    ({"ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/x"}, "aws-ecs"),
    ({"ECS_CONTAINER_METADATA_URI": "http://169.254.170.2/v3/x"}, "aws-ecs"),
    ({"AWS_BATCH_JOB_ID": "job-1"}, "aws-batch"),
    ({"GLUE_VERSION": "4.0"}, "aws-glue"),
    ({"GLUE_PYTHON_VERSION": "3.9"}, "aws-glue"),
    ({EXECUTION_ENV: "AWS_Lambda_python3.12"}, "aws-lambda"),
    ({EXECUTION_ENV: "AWS_ECS_FARGATE"}, "aws-ecs"),
    ({EXECUTION_ENV: "CloudShell"}, "aws"),
    ({"AWS_LAMBDA_FUNCTION_NAME": ""}, "local"),
    ({RUNTIME_VARIABLE: "aws-ec2"}, "aws-ec2"),
    ({RUNTIME_VARIABLE: "aws-apprunner"}, "aws-apprunner"),
    ({RUNTIME_VARIABLE: " "}, "local"),
    ({"CODEBUILD_BUILD_ID": "build:1", "ECS_CONTAINER_METADATA_URI": "http://x"}, "ci"),
    ({RUNTIME_VARIABLE: "aws-ec2", "CI": "true"}, "aws-ec2"),
]


def runtime_id(case):
    variables, runtime = case
    return f"{runtime}:" + ",".join(f"{k}={v!r}" for k, v in variables.items())


@pytest.mark.parametrize("case", RUNTIMES, ids=runtime_id)
def test_runtime_detection(case):
    variables, runtime = case
    assert detect_runtime(variables) == runtime


def test_every_marker_has_a_row():
    covered = {key for variables, _ in RUNTIMES for key in variables}
    assert set(CI_MARKERS) <= covered
    assert {marker for marker, _ in AWS_MARKERS} <= covered
    assert {runtime for _, runtime in RUNTIMES} >= set(AWS_RUNTIMES)


def test_an_unknown_declared_runtime_is_refused():
    with pytest.raises(ResolutionError) as refused:
        detect_runtime({RUNTIME_VARIABLE: "ec2"})
    message = str(refused.value)
    assert f"{RUNTIME_VARIABLE}='ec2'" in message
    assert all(runtime in message for runtime in AWS_RUNTIMES)


# (variables, env, source) when the runtime is local; elsewhere the last row is a refusal.
PRECEDENCE = [
    ({OVERRIDE: "uat", OFFICIAL: "sbx"}, "uat", OVERRIDE),
    ({OVERRIDE: " uat ", OFFICIAL: "sbx"}, "uat", OVERRIDE),
    ({OVERRIDE: "   ", OFFICIAL: "sbx"}, "sbx", OFFICIAL),
    ({OVERRIDE: "", OFFICIAL: "uat"}, "uat", OFFICIAL),
    ({OFFICIAL: "uat"}, "uat", OFFICIAL),
    ({OVERRIDE: "sbx"}, "sbx", OVERRIDE),
    ({}, "dev", "default"),
]
# One set of markers per runtime.
ONE_PER_RUNTIME = list({runtime: variables for variables, runtime in reversed(RUNTIMES)}.items())


@pytest.mark.parametrize(("runtime", "markers"), ONE_PER_RUNTIME, ids=[r for r, _ in ONE_PER_RUNTIME])
@pytest.mark.parametrize(("variables", "env", "source"), PRECEDENCE, ids=[str(p[0]) for p in PRECEDENCE])
def test_precedence_in_every_runtime(runtime, markers, variables, env, source):
    environ = {**markers, **variables}
    if source == "default" and runtime != "local":
        with pytest.raises(ResolutionError, match=f"ENV_NAME must be set in the {runtime} runtime"):
            resolve(environ, LAYOUT)
        return
    assert resolve(environ, LAYOUT) == (env, source, runtime, LAYOUT.environment(env).tier)


# (variables, fragments the refusal must contain, fragments it must not)
REFUSALS = {
    "unknown override, suggestion": ({OVERRIDE: "prod"}, ["USER_ENV_NAME='prod'", ALL_NAMES, "did you mean 'prd'"], []),
    "unknown official, suggestion": ({OFFICIAL: "uta"}, ["ENV_NAME='uta'", ALL_NAMES, "did you mean 'uat'"], []),
    "tier word, suggestion": ({OFFICIAL: "staging"}, ["ENV_NAME='staging'", "did you mean 'uat'"], []),
    "unknown, nothing close": ({OFFICIAL: "zzz"}, ["ENV_NAME='zzz'", ALL_NAMES], ["did you mean"]),
    "wrong case": ({OFFICIAL: "PRD", "CI": "true"}, ["ENV_NAME='PRD'", "did you mean 'prd'"], []),
    "wrong case, override": ({OVERRIDE: "Dev"}, ["USER_ENV_NAME='Dev'", "did you mean 'dev'"], []),
    "bad override beats good official": ({OVERRIDE: "qa", OFFICIAL: "dev"}, ["USER_ENV_NAME='qa'"], []),
    "empty official": ({OFFICIAL: ""}, ["ENV_NAME is set but empty", ALL_NAMES], []),
    "blank official": ({OFFICIAL: "  "}, ["ENV_NAME is set but empty"], []),
    "empty official in CI": ({OFFICIAL: "", "GITHUB_ACTIONS": "true"}, ["ENV_NAME is set but empty"], []),
    "CI without ENV_NAME": ({"CI": "true"}, ["ENV_NAME must be set in the ci runtime", ALL_NAMES], []),
    "Lambda without ENV_NAME": ({"AWS_LAMBDA_FUNCTION_NAME": "f"}, ["ENV_NAME must be set in the aws-lambda"], []),
    "EC2 without ENV_NAME": ({RUNTIME_VARIABLE: "aws-ec2"}, ["ENV_NAME must be set in the aws-ec2 runtime"], []),
    "local production by override": (
        {OVERRIDE: "prd"},
        ["USER_ENV_NAME='prd'", "production", f"{ALLOW_LOCAL_PRODUCTION}=true"],
        [],
    ),
    "local production by ENV_NAME": ({OFFICIAL: "prd"}, ["ENV_NAME='prd'", f"{ALLOW_LOCAL_PRODUCTION}=true"], []),
    "local production, opt-in misspelt": (
        {OVERRIDE: "prd", ALLOW_LOCAL_PRODUCTION: "yes"},
        [f"{ALLOW_LOCAL_PRODUCTION} is 'yes'", f"{ALLOW_LOCAL_PRODUCTION}=true"],
        [],
    ),
    "local production, opt-in empty": ({OFFICIAL: "prd", ALLOW_LOCAL_PRODUCTION: ""}, ["production"], []),
}


@pytest.mark.parametrize(("variables", "present", "absent"), REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals(variables, present, absent):
    with pytest.raises(ResolutionError) as refused:
        resolve(variables, LAYOUT)
    message = str(refused.value)
    for fragment in present:
        assert fragment in message
    for fragment in absent:
        assert fragment not in message


# (variables, env, source, runtime): production is reachable where it is meant to be.
ALLOWED_PRODUCTION = [
    ({OVERRIDE: "prd", ALLOW_LOCAL_PRODUCTION: "true"}, "prd", OVERRIDE, "local"),
    ({OFFICIAL: "prd", ALLOW_LOCAL_PRODUCTION: " TRUE "}, "prd", OFFICIAL, "local"),
    ({OFFICIAL: "prd", "CI": "true"}, "prd", OFFICIAL, "ci"),
    ({OFFICIAL: "prd", "AWS_LAMBDA_FUNCTION_NAME": "rt-prd-app"}, "prd", OFFICIAL, "aws-lambda"),
    ({OVERRIDE: "prd", OFFICIAL: "uat", RUNTIME_VARIABLE: "aws-ec2"}, "prd", OVERRIDE, "aws-ec2"),
]


@pytest.mark.parametrize(("variables", "env", "source", "runtime"), ALLOWED_PRODUCTION)
def test_production_outside_a_workstation_or_with_the_opt_in(variables, env, source, runtime):
    assert resolve(variables, LAYOUT) == (env, source, runtime, Tier.PRODUCTION)


# --------------------------------------------------------------------------- property

MARKERS = [*CI_MARKERS, *(marker for marker, _ in AWS_MARKERS), EXECUTION_ENV, RUNTIME_VARIABLE, "HOME", "PATH"]
REPO_SETTINGS = load_settings(ROOT / "multienv.toml")


def values_for(names):
    likely = [*names, *(n.upper() for n in names), "", " ", "true", "false", "0", "1", *AWS_RUNTIMES]
    return st.one_of(st.sampled_from(likely), st.text(max_size=12))


def environs(names):
    """The resolver's own variables, each maybe set, over a few runtime markers (often none)."""
    values = values_for(names)
    own = st.fixed_dictionaries({}, optional={OVERRIDE: values, OFFICIAL: values, ALLOW_LOCAL_PRODUCTION: values})
    markers = st.dictionaries(st.sampled_from(MARKERS), values, max_size=3)
    return st.builds(lambda mine, theirs: {**theirs, **mine}, own, markers)


@pytest.mark.parametrize("layout", [LAYOUT, REPO_SETTINGS], ids=["test-layout", "this-repository"])
def test_any_variables_give_an_allowed_environment_or_a_refusal(layout):
    @settings(deadline=None)
    @given(environs(layout.names))
    def check(environ):
        try:
            result = resolve(environ, layout)
        except ResolutionError as refusal:
            assert str(refusal)
            # A refusal is only right for something wrong: a valid non-production name is never one.
            override = environ.get(OVERRIDE, "").strip()
            named = override or environ.get(OFFICIAL, "").strip()
            if RUNTIME_VARIABLE not in environ and named in layout.names:
                assert layout.environment(named).tier is Tier.PRODUCTION, f"refused {named!r}: {refusal}"
            return
        assert result.env in layout.names
        assert result.tier is layout.environment(result.env).tier
        assert result.source in (OVERRIDE, OFFICIAL, "default")
        assert result.runtime in ("local", "ci") or result.runtime.startswith("aws")
        override = environ.get(OVERRIDE, "").strip()
        if result.source == OVERRIDE:
            assert result.env == override
        if result.source == OFFICIAL:
            assert not override
            assert result.env == environ[OFFICIAL].strip()
        if result.source == "default":
            assert not override
            assert OFFICIAL not in environ
            assert result.runtime == "local"
            assert result.env == layout.default_environment.name
        if result.tier is Tier.PRODUCTION and result.runtime == "local":
            assert environ[ALLOW_LOCAL_PRODUCTION].strip().lower() == "true"

    check()


def test_the_local_default_of_this_repository_is_its_first_development_environment():
    first_development = next(e.name for e in REPO_SETTINGS.environments if e.tier is Tier.DEVELOPMENT)
    assert resolve({}, REPO_SETTINGS).env == first_development


# --------------------------------------------------------------------------- command line


def run(module, *args, **variables):
    """``python -m <package>.<module>`` with only the given variables (plus what Python needs)."""
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "src"), **variables}
    return subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.{module}", *args],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_cli_prints_the_local_default():
    done = run("env")
    assert (done.returncode, done.stdout, done.stderr) == (0, REPO_SETTINGS.default_environment.name + "\n", "")


def test_cli_json_names_env_source_runtime_and_tier():
    production = REPO_SETTINGS.production.name
    done = run("env", "--json", ENV_NAME=production, GITHUB_ACTIONS="true")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"env": production, "source": "ENV_NAME", "runtime": "ci", "tier": "production"}


@pytest.mark.parametrize(
    "variables",
    [
        {"USER_ENV_NAME": "no-such-env"},
        {"CI": "true"},
        {"USER_ENV_NAME": REPO_SETTINGS.production.name},
        {RUNTIME_VARIABLE: "mainframe"},
    ],
    ids=["unknown", "ci-without-env-name", "local-production", "unknown-runtime"],
)
def test_cli_refusal_exits_2_with_the_message_on_stderr_only(variables):
    for args in ((), ("--json",)):
        done = run("env", *args, **variables)
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr.startswith("error: ")


def test_the_configuration_page_documents_every_variable_the_resolver_reads():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = [OVERRIDE, OFFICIAL, ALLOW_LOCAL_PRODUCTION, RUNTIME_VARIABLE, EXECUTION_ENV, *CI_MARKERS]
    documented += [marker for marker, _ in AWS_MARKERS] + list(AWS_RUNTIMES)
    missing = [name for name in documented if f"`{name}`" not in page]
    assert not missing, f"docs/configuration.md does not mention {missing}"
