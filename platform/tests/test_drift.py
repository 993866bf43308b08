"""Drift detection: the calls to CloudFormation and the report.

moto (the local AWS) has no drift detection (``DetectStackDrift`` is not implemented there),
so these tests use botocore's Stubber for CloudFormation: every request the command makes is
checked against the API's own model, and the answers are AWS's documented shapes.
"""

import io

import boto3
import pytest
from botocore.stub import Stubber

from multienv.naming import APP_STACK, BOOTSTRAP_STACK, PERSONAS_STACK
from multienv.settings import load_settings
from multienv_tools import deploy_target, drift
from multienv_tools.local_aws import LOCAL_CREDENTIALS

# What this module checks does not vary with the answers: it runs against one bake (the defaults).
pytestmark = pytest.mark.once


@pytest.fixture(scope="module")
def settings():
    return load_settings()


class StubbedSession:
    """Hands out the stubbed clients in place of a boto3 session's."""

    def __init__(self, clients):
        self.clients = clients

    def client(self, service, **_):
        return self.clients[service]


def stubbed(settings, env):
    keys = {"aws_access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]}
    keys["aws_secret_access_key"] = LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
    sts = boto3.client("sts", region_name=settings.region, **keys)
    cfn = boto3.client("cloudformation", region_name=settings.region, **keys)
    sts_stub, cfn_stub = Stubber(sts), Stubber(cfn)
    sts_stub.add_response(
        "get_caller_identity",
        {"Account": env.account.id, "Arn": f"arn:aws:sts::{env.account.id}:assumed-role/d/s", "UserId": "x"},
    )
    out = io.StringIO()
    # A local endpoint, so that placeholder account IDs pass; every client is stubbed, nothing is sent.
    environ = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    ctx = deploy_target.Context(settings, environ, out, _session=StubbedSession({"sts": sts, "cloudformation": cfn}))
    return ctx, cfn_stub, sts_stub, out


def stack(name):
    return {"Stacks": [{"StackName": name, "StackStatus": "UPDATE_COMPLETE", "CreationTime": "2026-01-01T00:00:00Z"}]}


def detection(stub, name, detection_id, status, drift_status=None, reason=None):
    stub.add_response("describe_stacks", stack(name), {"StackName": name})
    stub.add_response("detect_stack_drift", {"StackDriftDetectionId": detection_id}, {"StackName": name})
    answer = {
        "StackId": name,
        "StackDriftDetectionId": detection_id,
        "DetectionStatus": status,
        "Timestamp": "2026-01-01T00:00:00Z",
    }
    if drift_status:
        answer["StackDriftStatus"] = drift_status
    if reason:
        answer["DetectionStatusReason"] = reason
    stub.add_response("describe_stack_drift_detection_status", answer, {"StackDriftDetectionId": detection_id})


def resource_drift(logical_id, kind, status, differences=()):
    return {
        "StackId": "s",
        "LogicalResourceId": logical_id,
        "ResourceType": kind,
        "StackResourceDriftStatus": status,
        "Timestamp": "2026-01-01T00:00:00Z",
        "PropertyDifferences": [
            {"PropertyPath": path, "ExpectedValue": want, "ActualValue": got, "DifferenceType": kind_of}
            for path, want, got, kind_of in differences
        ],
    }


def test_every_stack_is_checked_and_each_drifted_property_reported(settings):
    env = settings.production
    ctx, cfn, sts, out = stubbed(settings, env)
    names = {kind: settings.naming.stack(env.name, kind) for kind in (BOOTSTRAP_STACK, PERSONAS_STACK, APP_STACK)}
    detection(cfn, names[BOOTSTRAP_STACK], "d1", "DETECTION_COMPLETE", "IN_SYNC")
    cfn.add_client_error(
        "describe_stacks",
        "ValidationError",
        f"Stack with id {names[PERSONAS_STACK]} does not exist",
        expected_params={"StackName": names[PERSONAS_STACK]},
    )
    detection(cfn, names[APP_STACK], "d3", "DETECTION_COMPLETE", "DRIFTED")
    cfn.add_response(
        "describe_stack_resource_drifts",
        {
            "StackResourceDrifts": [
                resource_drift(
                    "Function", "AWS::Lambda::Function", "MODIFIED", [("/MemorySize", "128", "512", "NOT_EQUAL")]
                ),
            ],
            "NextToken": "page-2",
        },
        {"StackName": names[APP_STACK], "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]},
    )
    cfn.add_response(
        "describe_stack_resource_drifts",
        {"StackResourceDrifts": [resource_drift("LogGroup", "AWS::Logs::LogGroup", "DELETED")]},
        {
            "StackName": names[APP_STACK],
            "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"],
            "NextToken": "page-2",
        },
    )
    with sts, cfn, pytest.raises(deploy_target.DeployError) as raised:
        drift.check_drift(ctx, env)
    cfn.assert_no_pending_responses()
    assert str(raised.value).splitlines() == [
        f"{env.name}: drift found (changed outside CloudFormation)",
        f"{names[APP_STACK]}: Function (AWS::Lambda::Function) MODIFIED",
        "    /MemorySize: NOT_EQUAL, expected 128, actual 512",
        f"{names[APP_STACK]}: LogGroup (AWS::Logs::LogGroup) DELETED",
    ]
    assert out.getvalue().splitlines() == [
        f"{names[BOOTSTRAP_STACK]}: IN_SYNC",
        f"{names[PERSONAS_STACK]}: not deployed",
    ]


def test_in_sync_everywhere_passes_and_a_failed_detection_fails_with_its_reason(settings):
    env = settings.environments[0]
    names = [settings.naming.stack(env.name, kind) for kind in (BOOTSTRAP_STACK, PERSONAS_STACK, APP_STACK)]
    ctx, cfn, sts, out = stubbed(settings, env)
    for i, name in enumerate(names):
        detection(cfn, name, f"d{i}", "DETECTION_COMPLETE", "IN_SYNC")
    with sts, cfn:
        drift.check_drift(ctx, env)
    assert out.getvalue().splitlines() == [f"{name}: IN_SYNC" for name in names]

    ctx, cfn, sts, out = stubbed(settings, env)
    detection(cfn, names[0], "d0", "DETECTION_FAILED", reason="Failed to detect drift on resource [Boundary]")
    for i, name in enumerate(names[1:], 1):
        detection(cfn, name, f"d{i}", "DETECTION_COMPLETE", "IN_SYNC")
    with (
        sts,
        cfn,
        pytest.raises(
            deploy_target.DeployError, match=r"drift detection failed: Failed to detect drift on resource \[Boundary\]"
        ),
    ):
        drift.check_drift(ctx, env)


def test_only_modified_and_deleted_resources_count():
    entries = [
        resource_drift("A", "AWS::IAM::Role", "IN_SYNC"),
        resource_drift("B", "AWS::IAM::Role", "NOT_CHECKED"),
        resource_drift("C", "AWS::IAM::Role", "DELETED"),
    ]
    assert [d.logical_id for d in drift.drifts_of("s", entries)] == ["C"]
