"""CloudFormation stacks: create or update one, wait for it to settle, report its failed events and outputs.

boto3 is imported only when a stack is deployed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from . import stacks
from .deploy_target import (
    Context,
    DeployError,
    account_label,
)

SETTLED_OK = ("CREATE_COMPLETE", "UPDATE_COMPLETE")


NO_UPDATES = "No updates are to be performed"


POLL_SECONDS = (0.05, 0.2, 1.0, 2.0, 5.0)


TIMEOUT_SECONDS = 1800


def stack_status(cfn: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def failed_events(cfn: Any, name: str) -> list[str]:
    """The failed resources of the latest deployment, oldest first, one line each.

    Events come newest first; the latest deployment starts at the stack's own
    "User Initiated" event, and older ones are history.
    """
    lines = []
    for event in cfn.describe_stack_events(StackName=name)["StackEvents"]:
        if event["ResourceStatus"].endswith("FAILED"):
            reason = event.get("ResourceStatusReason", "")
            lines.append(
                f"  {event['LogicalResourceId']} ({event['ResourceType']}): {event['ResourceStatus']}: {reason}"
            )
        if event["LogicalResourceId"] == name and event.get("ResourceStatusReason") == "User Initiated":
            break
    return list(reversed(lines))


def wait_for(cfn: Any, name: str) -> dict[str, Any]:
    started = time.monotonic()
    for attempt in range(10_000):
        stack = stack_status(cfn, name)
        if stack is None or not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack or {"StackStatus": "DELETE_COMPLETE"}
        if time.monotonic() - started > TIMEOUT_SECONDS:
            raise DeployError(f"{name}: still {stack['StackStatus']} after {TIMEOUT_SECONDS} s")
        time.sleep(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)])
    raise DeployError(f"{name}: did not settle")


def deploy_stack(ctx: Context, spec: stacks.StackSpec, role_arn: str | None = None) -> dict[str, str]:
    """Create or update one stack, wait for it, and return its outputs."""
    cfn = ctx.client("cloudformation")
    where = f"account {account_label(ctx.settings, spec.account_id)}, {spec.region}"
    existing = stack_status(cfn, spec.name)
    if existing is not None and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"{spec.name}: a first creation failed and left it in ROLLBACK_COMPLETE; delete the stack, then run again"
        )
    arguments: dict[str, Any] = {
        "StackName": spec.name,
        "TemplateBody": spec.template_path.read_text(encoding="utf-8"),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in spec.parameters.items()],
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
        "Tags": [{"Key": "env", "Value": spec.env or "devops"}],
    }
    if role_arn:
        arguments["RoleARN"] = role_arn
    from botocore.exceptions import ClientError

    if existing is None:
        ctx.say(f"{spec.name}: creating in {where}")
        cfn.create_stack(**arguments, OnFailure="ROLLBACK")
    else:
        ctx.say(f"{spec.name}: updating in {where}")
        try:
            cfn.update_stack(**arguments)
        except ClientError as error:
            if NO_UPDATES in str(error):
                ctx.say(f"{spec.name}: unchanged")
                return outputs_of(existing)
            raise
    stack = wait_for(cfn, spec.name)
    if stack["StackStatus"] not in SETTLED_OK:
        events = failed_events(cfn, spec.name)
        raise DeployError("\n".join([f"{spec.name}: {stack['StackStatus']} in {where}", *events]))
    ctx.say(f"{spec.name}: {stack['StackStatus']}")
    return outputs_of(stack)


def outputs_of(stack: Mapping[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
