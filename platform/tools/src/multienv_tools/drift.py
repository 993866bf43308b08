"""Drift: has anyone changed an environment's stacks by hand since CloudFormation last deployed them?

    python -m multienv_tools.deploy drift --env ENV     # fails listing each drifted resource and property

Runs CloudFormation drift detection on the environment's stacks, the administrator's
(bootstrap, personas) and the app's, waits for each, and reports every resource that was
modified or deleted, with each property's expected and actual value. A stack not deployed
yet is reported, not an error. Every stack is checked before the command fails, so one run
lists all the drift.

The scheduled workflow ``.github/workflows/drift.yml`` runs it as the environment's drift reader
(``<slug>--<env>-drift``, in ``infra/workload-bootstrap.yaml``), which can detect drift of the
environment's stacks and read what detection reads, nothing else; it reaches it through the drift
role of the DevOps account (``infra/devops.yaml``), which trusts drift.yml's runs on the default
branch only and may only chain on. No GitHub environment, so no daily approval.

moto (the local AWS) has no drift detection, so ``platform/tests/test_drift.py`` checks the calls and
the report against a stubbed CloudFormation client.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from multienv.naming import APP_STACK
from multienv.settings import Environment

from .deploy_target import Context, DeployError, check_target
from .stack_ops import POLL_SECONDS, TIMEOUT_SECONDS, stack_status
from .stack_spec import PLATFORM_STACKS

# The order a first deployment creates them in.
STACKS = (*PLATFORM_STACKS, APP_STACK)
DRIFTED = ("MODIFIED", "DELETED")


@dataclass(frozen=True)
class Drift:
    """One drifted resource of one stack, with its property differences."""

    stack: str
    logical_id: str
    resource_type: str
    status: str
    properties: tuple[tuple[str, str, str, str], ...]  # (path, difference, expected, actual)

    def lines(self) -> list[str]:
        head = f"{self.stack}: {self.logical_id} ({self.resource_type}) {self.status}"
        return [head] + [
            f"    {path}: {kind}, expected {expected}, actual {actual}"
            for path, kind, expected, actual in self.properties
        ]


def drifts_of(stack: str, resource_drifts: Iterable[Mapping[str, Any]]) -> list[Drift]:
    """``DescribeStackResourceDrifts`` entries -> the drifted resources, in the order given."""
    found = []
    for entry in resource_drifts:
        status = entry["StackResourceDriftStatus"]
        if status not in DRIFTED:
            continue
        properties = tuple(
            (
                p["PropertyPath"],
                p["DifferenceType"],
                _short(p.get("ExpectedValue", "")),
                _short(p.get("ActualValue", "")),
            )
            for p in entry.get("PropertyDifferences", [])
        )
        found.append(Drift(stack, entry["LogicalResourceId"], entry["ResourceType"], status, properties))
    return found


def _short(value: str, limit: int = 200) -> str:
    text = " ".join(str(value).split()) or '""'
    return text if len(text) <= limit else text[: limit - 3] + "..."


def detect(ctx: Context, cfn: Any, stack: str) -> list[Drift] | str:
    """Run detection on one stack: its drifted resources, or a sentence when detection could not finish."""
    detection = cfn.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
    started = time.monotonic()
    attempt = 0
    while True:
        status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            break
        if time.monotonic() - started > TIMEOUT_SECONDS:
            return f"{stack}: drift detection still running after {TIMEOUT_SECONDS} s"
        time.sleep(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)])
        attempt += 1
    if status["DetectionStatus"] == "DETECTION_FAILED":
        return f"{stack}: drift detection failed: {status.get('DetectionStatusReason', 'no reason given')}"
    if status.get("StackDriftStatus") == "IN_SYNC":
        return []
    entries: list[Mapping[str, Any]] = []
    arguments: dict[str, Any] = {"StackName": stack, "StackResourceDriftStatusFilters": list(DRIFTED)}
    while True:
        page = cfn.describe_stack_resource_drifts(**arguments)
        entries += page["StackResourceDrifts"]
        if not page.get("NextToken"):
            break
        arguments["NextToken"] = page["NextToken"]
    return drifts_of(stack, entries)


def check_drift(ctx: Context, env: Environment) -> None:
    """Every stack of the environment; raise DeployError listing all drift, after checking them all."""
    naming = ctx.settings.naming
    check_target(ctx, env.account.id, f"drift of {env.name}")
    cfn = ctx.client("cloudformation")
    problems: list[str] = []
    for kind in STACKS:
        stack = naming.stack(env.name, kind)
        if stack_status(cfn, stack) is None:
            ctx.say(f"{stack}: not deployed")
            continue
        result = detect(ctx, cfn, stack)
        if isinstance(result, str):
            problems.append(result)
        elif result:
            problems += [line for drift in result for line in drift.lines()]
        else:
            ctx.say(f"{stack}: IN_SYNC")
    if problems:
        raise DeployError("\n".join([f"{env.name}: drift found (changed outside CloudFormation)", *problems]))
