"""Drift detection reads each resource of a stack with the caller's rights.

For every resource type in an environment's stacks (bootstrap, personas, app), the actions of
its CloudFormation read handler, as the resource schemas bundled with cfn-lint list them, must
be allowed by the drift reader's own policy (the role the drift workflow detects drift as) and by
the permissions boundary it carries; else the scheduled detection fails instead of reporting drift.
"""

import fnmatch
import json
from importlib.resources import files

import pytest

from multienv.settings import load_settings
from multienv_tools import cfn, persona_stacks, stacks

SCHEMAS = files("cfnlint") / "data" / "schemas"
# Read-handler actions the drift session never needs here, each with the reason.
NOT_NEEDED = {
    ("AWS::Lambda::Function", "kms:Decrypt"): "the function's variables use no customer-managed key",
}


@pytest.fixture(scope="module")
def settings():
    return load_settings()


def read_actions(region: str, resource_type: str) -> set[str]:
    providers = json.loads((SCHEMAS / "providers" / f"{region}.json").read_text(encoding="utf-8"))
    schema = json.loads((SCHEMAS / "resources" / f"{providers[resource_type]}.json").read_text(encoding="utf-8"))
    return set(schema["handlers"]["read"]["permissions"])


def allowed(action: str, statements: list[dict]) -> bool:
    return any(
        statement["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in cfn.as_list(statement["Action"]))
        for statement in statements
    )


def environment_docs(settings, env):
    specs = [
        stacks.bootstrap_spec(settings, env.name),
        persona_stacks.persona_spec(settings, env.name),
        stacks.app_spec(settings, env.name, "0" * 64),
    ]
    return [cfn.render(spec) for spec in specs]


def needed_reads(settings, env) -> dict[str, set[str]]:
    types = {r["Type"] for doc in environment_docs(settings, env) for r in doc["Resources"].values()}
    return {
        kind: {a for a in read_actions(settings.region, kind) if (kind, a) not in NOT_NEEDED} for kind in sorted(types)
    }


def test_every_read_handler_action_is_allowed_by_the_drift_reader_and_its_boundary(settings):
    env = settings.production
    bootstrap = environment_docs(settings, env)[0]["Resources"]
    reader = bootstrap["DriftReaderRole"]["Properties"]
    own = [s for p in reader["Policies"] for s in cfn.statements(p["PolicyDocument"])]
    assert reader["PermissionsBoundary"] == bootstrap["PermissionsBoundary"]["Properties"]["ManagedPolicyName"] or (
        reader["PermissionsBoundary"].endswith(bootstrap["PermissionsBoundary"]["Properties"]["ManagedPolicyName"])
    )
    boundary = cfn.statements(bootstrap["PermissionsBoundary"]["Properties"]["PolicyDocument"])
    missing = [
        f"{kind}: {action} not allowed by the {where}"
        for kind, actions in needed_reads(settings, env).items()
        for action in sorted(actions)
        for where, policy in (("drift reader", own), ("boundary", boundary))
        if not allowed(action, policy)
    ]
    assert missing == []


def test_the_drift_reader_only_reads_and_detects(settings):
    bootstrap = environment_docs(settings, settings.production)[0]["Resources"]
    reader = bootstrap["DriftReaderRole"]["Properties"]
    read_only = ("Describe", "Detect", "Get", "List")
    for policy in reader["Policies"]:
        for statement in cfn.statements(policy["PolicyDocument"]):
            assert statement["Effect"] == "Allow"
            for action in cfn.as_list(statement["Action"]):
                assert "*" not in action and action.split(":")[1].startswith(read_only), action


def test_the_exceptions_are_still_in_the_read_handlers(settings):
    for kind, action in NOT_NEEDED:
        assert action in read_actions(settings.region, kind), (kind, action)
