"""Retire an environment: what it deployed, and deleting it in the reverse of the deployment order.

    python -m <package>.deploy destroy --env NAME [--confirm NAME] [--still-listed]
    python -m <package>.deploy destroy --env NAME --devops [--still-listed]

In the environment's account (that account's administrator): the app stack, then the persona
stack, then the bootstrap stack, each deleted and waited for; a stack that fails to delete
stops the run (the ones before it depend on it) and is reported with the reason
CloudFormation gives. In the DevOps account (its administrator; the same run when the
environment lives there): the environment's artifacts, then the DevOps stack updated from
this repository's templates, which no longer hold the environment's CI role, secret and
grants once it has left ``multienv.toml``.

An environment that has left ``multienv.toml`` is found in the file's git history (its
account and tier as they were). The production-tier environment needs ``--confirm NAME``;
one still listed needs ``--still-listed`` (its DevOps grants then stay, since the templates
still name it). Standard library only until a command talks to AWS.
"""

from __future__ import annotations

import argparse
import subprocess
import tomllib
from dataclasses import dataclass, field

from multienv.settings import Environment, Settings, SettingsError, parse_settings

from . import deploy_steps, deploy_target, persona_stacks, stack_ops, stacks

# The stack names and kinds of one environment, in the order they are deleted: the app stack
# was deployed through the bootstrap's roles, the data stack's transfer role trusts the persona
# roles, and the persona stack names the boundary. Deleting the data stack keeps the data.
DELETION_ORDER = (stacks.APP, stacks.DATA, persona_stacks.PERSONAS, stacks.BOOTSTRAP)
HISTORY_DEPTH = 200  # commits of multienv.toml searched for an environment that has left it
NO_ARTIFACT = "0" * 64  # the app stack's name does not depend on the artifact


class RetireError(deploy_target.DeployError):
    """A refusal: what was asked, why not, and what to give instead."""


@dataclass(frozen=True)
class Retiring:
    """The environment as multienv.toml last listed it, and whether it still does."""

    env: Environment
    settings: Settings  # the settings that listed it (the current ones, or from git history)
    listed: bool


@dataclass
class Outcome:
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # what stays, and why
    failed: list[str] = field(default_factory=list)  # what could not be deleted, and why


def environment_stacks(settings: Settings, env_name: str) -> list[stacks.StackSpec]:
    """The stacks ``env_name`` deploys into its account, in deletion order (from the stack specs)."""
    trust = persona_stacks.load_trust(settings)
    specs = {
        stacks.APP: stacks.app_spec(settings, env_name, NO_ARTIFACT),
        stacks.DATA: stacks.data_spec(settings, env_name),
        persona_stacks.PERSONAS: persona_stacks.persona_spec(settings, env_name, trust),
        stacks.BOOTSTRAP: stacks.bootstrap_spec(settings, env_name),
    }
    return [specs[kind] for kind in DELETION_ORDER if kind != stacks.DATA or settings.has_data]


def data_kept(settings: Settings, env_name: str) -> list[str]:
    """What of ``env_name``'s data outlives its stacks: infra/data.yaml retains its store and key
    (``DeletionPolicy: Retain``) in every tier, so retiring never deletes data; deleting it is a
    deliberate step of its account's administrator (docs/data.md)."""
    if not settings.has_data:
        return []
    naming = settings.naming
    env = settings.environment(env_name)
    stores = []
    if settings.has_table:
        stores.append(f"table {naming.data_table(env_name)}")
    if settings.has_bucket:
        stores.append(f"bucket {naming.data_bucket(env_name, env.account.id)}")
    if any(t.name == env_name for t in stacks.subset_targets(settings)):
        stores.append(f"bucket {naming.data_transfer_bucket(env_name, env.account.id)}")
    protected = "; production's table also has deletion protection on" if env.tier.is_production else ""
    return [
        f"{', '.join(stores)} and key {naming.data_key_alias(env_name)} in account {env.account.id}: retained, "
        f"its data is kept: destroy never deletes data, in any tier (infra/data.yaml retains them){protected}; "
        "delete them by hand when no one needs them (the key only by scheduling its deletion)"
    ]


def devops_leftovers(settings: Settings, env_name: str) -> list[str]:
    """What of ``env_name`` lives in the DevOps account, in words."""
    naming = settings.naming
    return [
        f"artifacts s3://{naming.artifact_bucket(settings.devops.id)}/{naming.artifact_prefix(env_name)}",
        f"CI role {naming.ci_role(env_name)}, secrets {naming.secret_prefix(env_name)}* and the grants naming "
        f"{env_name} in stack {stacks.devops_spec(settings).name}",
    ]


def describe(settings: Settings, env_name: str) -> list[str]:
    """What ``env_name`` had deployed, per account: for the report of a regeneration that removes it."""
    env = settings.environment(env_name)
    names = ", ".join(spec.name for spec in environment_stacks(settings, env_name))
    devops = settings.devops
    return [
        f"account {env.account.id} ({env.account.key}): stacks {names}",
        f"DevOps account {devops.id} ({devops.key}): " + "; ".join(devops_leftovers(settings, env_name)),
        *(f"its data: {line}" for line in data_kept(settings, env_name)),
    ]


def settings_history(settings: Settings) -> list[Settings]:
    """multienv.toml as it was in each commit that changed it, newest first (what git still has)."""
    root = settings.root
    try:
        commits = subprocess.run(
            ["git", "log", f"-n{HISTORY_DEPTH}", "--format=%H", "--", settings.path.name],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        commits = ["HEAD", *commits]
    except (OSError, subprocess.CalledProcessError):
        return []
    found = []
    for commit in commits:
        shown = subprocess.run(
            ["git", "show", f"{commit}:{settings.path.name}"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if shown.returncode != 0:
            continue
        try:
            found.append(parse_settings(tomllib.loads(shown.stdout), settings.path))
        except (tomllib.TOMLDecodeError, SettingsError):
            continue  # a commit with a broken file says nothing about the environment
    return found


def find(settings: Settings, name: str, history: list[Settings] | None = None) -> Retiring:
    """The environment to retire: listed now, or as the newest version of multienv.toml that listed it."""
    if name in settings.names:
        return Retiring(settings.environment(name), settings, listed=True)
    for old in settings_history(settings) if history is None else history:
        if name in old.names:
            return Retiring(old.environment(name), old, listed=False)
    raise RetireError(
        f"--env {name!r}: not an environment of {settings.path.name} nor of its git history, so nothing "
        f"of it was deployed by this repository; the environments are {', '.join(settings.names)}"
    )


def refusals(retiring: Retiring, confirm: str | None, still_listed: bool) -> list[str]:
    """Every reason not to go ahead, all at once."""
    env, problems = retiring.env, []
    if env.tier.is_production and confirm != env.name:
        given = f" (got --confirm {confirm!r})" if confirm else ""
        problems.append(
            f"{env.name} is the production environment: repeat its name to delete it, --confirm {env.name}{given}"
        )
    if retiring.listed and not still_listed:
        problems.append(
            f"{env.name} is still in multienv.toml: remove it first (make regenerate ENVIRONMENTS=...), "
            "or add --still-listed to delete its stacks anyway (its DevOps grants then stay)"
        )
    return problems


def delete_stack(ctx: deploy_target.Context, spec: stacks.StackSpec) -> str | None:
    """Delete one stack and wait; None when it is gone (or was never there), else why it is not."""
    cfn = ctx.client("cloudformation")
    existing = stack_ops.stack_status(cfn, spec.name)
    if existing is None:
        ctx.say(f"{spec.name}: not deployed")
        return None
    ctx.say(f"{spec.name}: deleting")
    from botocore.exceptions import ClientError

    try:
        cfn.delete_stack(StackName=spec.name)
    except ClientError as error:
        return f"{spec.name}: {deploy_target.one_line(error)}"
    stack = stack_ops.wait_for(cfn, spec.name)
    if stack["StackStatus"] == "DELETE_COMPLETE":
        ctx.say(f"{spec.name}: DELETE_COMPLETE")
        return None
    events = stack_ops.failed_events(cfn, spec.name)
    return "\n".join([f"{spec.name}: {stack['StackStatus']}", *events])


def empty_artifacts(ctx: deploy_target.Context, bucket: str, prefix: str) -> int:
    """Delete every object (every version) under ``prefix``; return how many."""
    from botocore.exceptions import ClientError

    s3 = ctx.client("s3")
    count = 0
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    try:
        pages = list(pages)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return 0  # never bootstrapped: nothing was published
        raise
    for page in pages:
        doomed = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
            errors = answer.get("Errors", [])
            if errors:
                raise RetireError(
                    f"s3://{bucket}/{prefix}: could not delete "
                    + ", ".join(f"{e['Key']} ({e.get('Code')}: {e.get('Message')})" for e in errors)
                )
            count += len(doomed)
    return count


def destroy_environment(ctx: deploy_target.Context, retiring: Retiring, outcome: Outcome) -> bool:
    """The environment's own stacks, in order; False (with the reason in ``outcome``) when one stays."""
    env, settings = retiring.env, retiring.settings
    specs = environment_stacks(settings, env.name)
    caller = deploy_target.check_target(ctx, env.account.id, f"destroy {env.name}")
    deploy_target.check_administrator(ctx, caller, env.account.id, f"destroy {env.name}")
    for index, spec in enumerate(specs):
        problem = delete_stack(ctx, spec)
        if problem:
            outcome.failed.append(problem)
            outcome.kept += [f"{later.name}: not tried, {spec.name} must go first" for later in specs[index + 1 :]]
            return False
        outcome.deleted.append(spec.name)
    outcome.kept += data_kept(settings, env.name)
    return True


def destroy_devops_part(ctx: deploy_target.Context, retiring: Retiring, outcome: Outcome) -> None:
    """The environment's artifacts, then the DevOps stack as the current templates describe it."""
    current = ctx.settings
    env, naming = retiring.env, current.naming
    devops = current.devops
    deploy_target.check_target(ctx, devops.id, f"destroy {env.name} (DevOps account)")
    bucket = naming.artifact_bucket(devops.id)
    count = empty_artifacts(ctx, bucket, naming.artifact_prefix(env.name))
    outcome.deleted.append(f"{count} artifact object(s) under s3://{bucket}/{naming.artifact_prefix(env.name)}")
    if retiring.listed:
        outcome.kept.append(
            f"{naming.ci_role(env.name)}, secrets {naming.secret_prefix(env.name)}* and the grants naming {env.name} "
            f"in {stacks.devops_spec(current).name}: multienv.toml still lists {env.name}; remove it, "
            "regenerate, then run bootstrap-devops"
        )
        return
    if stack_ops.stack_status(ctx.client("cloudformation"), stacks.devops_spec(current).name) is None:
        outcome.kept.append(f"no {stacks.devops_spec(current).name} stack in account {devops.id}: nothing to update")
        return
    # The same update bootstrap-devops makes: the grants it already has stay granted.
    deploy_steps.cmd_bootstrap_devops(ctx, argparse.Namespace(grant_deployers=False, existing_oidc_provider=False))
    outcome.deleted.append(f"{env.name}'s CI role, secrets and grants in {stacks.devops_spec(current).name}")


# --------------------------------------------------------------------------- the command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="the environment to retire")
    parser.add_argument("--confirm", metavar="NAME", help="the production environment's name, repeated")
    parser.add_argument("--still-listed", action="store_true", help="delete it although multienv.toml still lists it")
    parser.add_argument(
        "--devops",
        action="store_true",
        help="the DevOps account's part (its artifacts, then the DevOps stack), with that account's credentials",
    )


def command(ctx: deploy_target.Context, args: argparse.Namespace) -> None:
    retiring = find(ctx.settings, args.env)
    problems = refusals(retiring, args.confirm, args.still_listed)
    if problems:
        raise RetireError("destroy refused:\n  " + "\n  ".join(problems))
    env, devops = retiring.env, ctx.settings.devops
    outcome = Outcome()
    where = deploy_target.account_label(retiring.settings, env.account.id)
    ctx.say(f"== retiring {env.name} ({env.tier.value}, account {where})")
    if not args.devops:
        for line in data_kept(ctx.settings, env.name):
            ctx.say(f"its data: {line}")
    done = True
    if not args.devops:
        done = destroy_environment(ctx, retiring, outcome)
    if done and (args.devops or env.account.id == devops.id):
        destroy_devops_part(ctx, retiring, outcome)
    elif done:
        outcome.kept.append(
            f"in the DevOps account {devops.id}: "
            + "; ".join(devops_leftovers(ctx.settings, env.name))
            + f"; next, with that account's administrator credentials: destroy --env {env.name} --devops"
            + (" --still-listed" if retiring.listed else "")
        )
    for line in outcome.deleted:
        ctx.say(f"deleted: {line}")
    for line in outcome.kept:
        ctx.say(f"left: {line}")
    if outcome.failed:
        raise RetireError("could not delete:\n" + "\n".join(outcome.failed))
