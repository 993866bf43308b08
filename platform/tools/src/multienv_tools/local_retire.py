"""``make local-deploy``, last part: retire an environment in the local AWS and check nothing of it is left.

After everything is deployed, the first environment is destroyed with the deploy tool's own
``destroy`` command, as its account's administrator and then the DevOps account's. It is
still listed in ``multienv.toml`` (the local run does not regenerate), so the run first checks
that ``destroy`` refuses it without ``--still-listed``, and that it refuses the production
environment without ``--confirm``. Then it checks, in the emulated accounts, that no stack,
role, policy, function or log group of that environment and no artifact under its prefix is
left, and that the other environments' stacks still stand.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

from . import deploy, local_data, retire, stack_ops, stacks


def refused(run: Any, credentials: dict[str, str], *argv: str) -> str:
    """The deploy tool's refusal of ``argv`` (its stderr), or "" when it went ahead."""
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        code = deploy.main(list(argv), environ=run.environ(credentials), out=io.StringIO())
    return errors.getvalue() if code != 0 else ""


def undo_applied(run: Any, env_name: str, credentials: dict[str, str]) -> None:
    """Take back what ``apply_skipped`` put on the environment's roles through the plain API.

    moto's CloudFormation ignored those policies when it created the roles, so it does not take
    them off when it deletes the roles either, and IAM refuses to delete a role that still has
    policies. AWS's CloudFormation removes what it attached itself.
    """
    iam = run.client("iam", credentials)
    cloudformation = run.client("cloudformation", credentials)
    for spec in retire.environment_stacks(run.settings, env_name):
        if stack_ops.stack_status(cloudformation, spec.name) is None:
            continue
        resources = cloudformation.describe_stack_resources(StackName=spec.name)["StackResources"]
        for role in (r["PhysicalResourceId"] for r in resources if r.get("ResourceType") == "AWS::IAM::Role"):
            for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
                iam.delete_role_policy(RoleName=role, PolicyName=name)


def managed_policies(run: Any, env_name: str, credentials: dict[str, str]) -> list[str]:
    """The managed policies the environment's stacks created (their ARNs), read before the stacks go."""
    cloudformation = run.client("cloudformation", credentials)
    arns = []
    for spec in retire.environment_stacks(run.settings, env_name):
        if stack_ops.stack_status(cloudformation, spec.name) is not None:
            resources = cloudformation.describe_stack_resources(StackName=spec.name)["StackResources"]
            arns += [r["PhysicalResourceId"] for r in resources if r.get("ResourceType") == "AWS::IAM::ManagedPolicy"]
    return arns


def delete_left_policies(run: Any, arns: list[str], credentials: dict[str, str]) -> list[str]:
    """moto's CloudFormation keeps a deleted stack's managed policies (AWS's deletes them): delete those."""
    iam = run.client("iam", credentials)
    deleted = []
    for arn in arns:
        with contextlib.suppress(iam.exceptions.NoSuchEntityException):
            iam.delete_policy(PolicyArn=arn)
            deleted.append(arn.rsplit("/", 1)[-1])
    return deleted


def devops_stack_resources(run: Any) -> set[str]:
    """Physical IDs of the DevOps stack: what it keeps of an environment multienv.toml still lists."""
    spec = stacks.devops_spec(run.settings)
    cloudformation = run.client("cloudformation", run.admin(spec.account_id))
    resources = cloudformation.describe_stack_resources(StackName=spec.name)["StackResources"]
    return {r["PhysicalResourceId"] for r in resources if r.get("PhysicalResourceId")}


def leftovers(run: Any, env_name: str, kept: set[str]) -> list[str]:
    """Everything in the emulated accounts that still carries ``env_name``'s names, but ``kept``."""
    settings, naming = run.settings, run.settings.naming
    env = settings.environment(env_name)
    prefix = naming.prefix(env_name)
    admin = run.admin(env.account.id)
    found = []
    cfn = run.client("cloudformation", admin)
    found += [
        f"stack {s['StackName']}"
        for s in cfn.describe_stacks()["Stacks"]
        if s["StackName"].startswith(prefix) and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    iam = run.client("iam", admin)
    found += [f"role {r['RoleName']}" for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(prefix)]
    found += [
        f"policy {p['PolicyName']}"
        for p in iam.list_policies(Scope="Local")["Policies"]
        if p["PolicyName"].startswith(prefix)
    ]
    functions = run.client("lambda", admin).list_functions()["Functions"]
    found += [f"function {f['FunctionName']}" for f in functions if f["FunctionName"].startswith(prefix)]
    groups = run.client("logs", admin).describe_log_groups(logGroupNamePrefix=naming.log_group(env_name, ""))
    found += [f"log group {g['logGroupName']}" for g in groups["logGroups"]]
    bucket = naming.artifact_bucket(settings.devops.id)
    objects = run.client("s3", run.admin(settings.devops.id)).list_objects_v2(
        Bucket=bucket, Prefix=naming.artifact_prefix(env_name)
    )
    found += [f"artifact s3://{bucket}/{o['Key']}" for o in objects.get("Contents", [])]
    return [item for item in found if item.split(" ", 1)[1] not in kept]


def retire_first_environment(run: Any) -> None:
    settings = run.settings
    env, production = settings.environments[0], settings.production
    others = [e for e in settings.environments if e.name != env.name]
    admin, devops_admin = run.admin(env.account.id), run.admin(settings.devops.id)
    confirm = ["--confirm", env.name] if env.tier.is_production else []
    run.say(f"== retire {env.name}: destroy its stacks, then its DevOps part")

    message = refused(run, admin, "destroy", "--env", env.name, *confirm)
    run.check("--still-listed" in message, f"destroy refuses {env.name} while multienv.toml lists it")
    if production.name != env.name:
        message = refused(run, run.admin(production.account.id), "destroy", "--env", production.name, "--still-listed")
        run.check(f"--confirm {production.name}" in message, f"destroy refuses {production.name} without --confirm")

    # moto reads the bucket policy's conditioned Denies as unconditional (see apply_skipped), which
    # would refuse the administrator the artifacts; AWS lets it through. Off for the delete, then back.
    bucket = settings.naming.artifact_bucket(settings.devops.id)
    run.client("s3", devops_admin).delete_bucket_policy(Bucket=bucket)
    undo_applied(run, env.name, admin)
    policies = managed_policies(run, env.name, admin)
    run.deploy(admin, "destroy", "--env", env.name, "--still-listed", *confirm)
    left = delete_left_policies(run, policies, admin)
    run.say(f"   moto kept {len(left)} managed policies of the deleted stacks; deleted directly")
    local_data.check_retained(run, env.name)
    if env.account.id != settings.devops.id:
        run.deploy(devops_admin, "destroy", "--env", env.name, "--still-listed", "--devops", *confirm)
    from .local_aws import apply_skipped

    apply_skipped(run, stacks.devops_spec(settings), devops_admin, bucket_policy=True)
    kept = devops_stack_resources(run)
    left = leftovers(run, env.name, kept)
    found = f" (found {', '.join(left)})" if left else ""
    run.check(not left, f"nothing of {env.name} is left in the local AWS but its DevOps grants{found}")
    ci_role = settings.naming.ci_role(env.name)
    run.check(ci_role in kept, f"the DevOps stack keeps {ci_role} while multienv.toml lists {env.name}")
    for other in others:
        standing = [
            spec.name
            for spec in retire.environment_stacks(settings, other.name)
            if stack_ops.stack_status(run.client("cloudformation", run.admin(other.account.id)), spec.name)
        ]
        expected = len(retire.environment_stacks(settings, other.name))  # no data stack with stores = none
        run.check(len(standing) == expected, f"{other.name}'s stacks still stand")
