"""A new account takes every stack: no reserved concurrency unless a team asks for it, and no
role past a new account's default quota of attached managed policies.

Many new accounts have a Lambda concurrency quota of 10, and Lambda keeps part of it unreserved,
so any ``ReservedConcurrentExecutions`` fails there. Reserve by default, or let the parameter
reserve nothing when set, or let 0 pass through as Lambda's own 0 (a function that is always
throttled), or attach an eleventh managed policy to a role, and a test here fails
(docs/first-deploy.md, "A new account's quotas").
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from multienv.settings import load_settings
from multienv_tools.cfn import render
from multienv_tools.stacks import APP, stack_specs

SHA = "ab" * 32
PARAMETER = "ReservedConcurrency"
# IAM's default quota of managed policies attached to one role (adjustable up to 25).
MANAGED_POLICIES_PER_ROLE = 10


@pytest.fixture(scope="module")
def settings():
    return load_settings()


@pytest.fixture(scope="module")
def app_specs(settings):
    specs = [spec for spec in stack_specs(settings, SHA) if spec.kind == APP]
    assert [spec.env for spec in specs] == list(settings.names)
    return specs


def function(spec) -> dict:
    return render(spec)["Resources"]["Function"]["Properties"]


def test_no_environment_reserves_concurrency_by_default(app_specs):
    for spec in app_specs:
        assert PARAMETER not in spec.parameters, spec.env  # the deploy tool passes none: the default holds
        assert "ReservedConcurrentExecutions" not in function(spec), spec.env


@pytest.mark.parametrize(("given", "reserved"), [("0", None), ("1", 1), ("25", 25)])
def test_the_parameter_reserves_what_it_says_and_0_reserves_nothing(app_specs, given, reserved):
    for spec in app_specs:
        properties = function(spec.with_parameters(**{PARAMETER: given}))
        if reserved is None:
            assert "ReservedConcurrentExecutions" not in properties, spec.env
        else:
            assert int(properties["ReservedConcurrentExecutions"]) == reserved, spec.env


@pytest.mark.once  # the app template is the same in every shape but for its environment names
def test_cfn_lint_passes_the_app_template_with_a_reservation(app_specs):
    """What cfn-lint checks of a deployment: the template with the parameter given, including its bounds."""
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert cfn_lint, "cfn-lint is not installed next to this interpreter: run make install"
    template = str(app_specs[0].template_path)

    def lint(value: str) -> subprocess.CompletedProcess:
        parameters = {**app_specs[0].parameters, PARAMETER: value}
        return subprocess.run(
            [cfn_lint, "--parameters", *(f"{k}={v}" for k, v in parameters.items()), "--", template],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    done = lint("5")
    assert done.returncode == 0, done.stdout + done.stderr
    # cfn-lint resolves the parameter into the function's property and holds it to Lambda's bounds:
    # so the lint above did read the reservation.
    refused = lint("-1")
    assert refused.returncode != 0, refused.stdout
    assert "'ReservedConcurrency'" in refused.stdout


def attached_per_role(settings) -> dict[str, int]:
    counts = {}
    for spec in stack_specs(settings, SHA):
        for logical_id, resource in render(spec)["Resources"].items():
            if resource["Type"] == "AWS::IAM::Role":
                counts[f"{spec.name}:{logical_id}"] = len(resource["Properties"].get("ManagedPolicyArns", []))
    return counts


def test_no_role_attaches_more_managed_policies_than_a_new_account_allows(settings):
    counts = attached_per_role(settings)
    assert counts and max(counts.values()) > 0
    over = {role: n for role, n in counts.items() if n > MANAGED_POLICIES_PER_ROLE}
    assert not over, f"roles over IAM's default {MANAGED_POLICIES_PER_ROLE} managed policies per role: {over}"
