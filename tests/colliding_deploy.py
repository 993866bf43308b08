"""Two projects whose slugs collide, deployed into the same local AWS accounts, then probed.

Run as a script inside the first project (``PYTHONPATH=src``, the platform installed) with both
project folders as arguments: one moto server on 127.0.0.1, each project deployed with its own deploy tool calls
(``MULTIENV_HOME`` says whose ``multienv.toml``: the deploy tool reads it, the templates are each
project's own render), the second reusing the DevOps account's GitHub OIDC provider. Then, with
moto's IAM enforcement on (identity policies only, which is where the name fences are), each
project's CI, Deployer and execution roles try the other's roles, functions, artifacts and CI
role, and must be refused; each must still reach its own. Prints one line a check, exits 1 on a miss.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from moto.server import ThreadedMotoServer
from multienv.settings import HOME_VARIABLE, load_settings
from multienv_tools import app_artifact, cfn, local_aws, local_deploy, persona_stacks, stacks
from multienv_tools.simulator import Simulator


def deploy(run: local_aws.Run, existing_oidc: bool) -> str:
    """The project's DevOps stack, each environment's bootstrap and personas, its artifact and app."""
    settings, naming = run.settings, run.settings.naming
    devops = settings.devops
    admin = run.admin(devops.id)
    run.deploy(admin, "bootstrap-devops", *(["--existing-oidc-provider"] if existing_oidc else []))
    local_aws.apply_skipped(run, stacks.devops_spec(settings), admin)
    for env in settings.environments:
        env_admin = run.admin(env.account.id)
        run.deploy(env_admin, "bootstrap-env", "--env", env.name)
        local_aws.apply_skipped(run, stacks.bootstrap_spec(settings, env.name), env_admin)
        local_aws.apply_skipped(run, persona_stacks.persona_spec(settings, env.name), env_admin)
    run.deploy(admin, "bootstrap-devops", "--grant-deployers")
    run.deploy(admin, "build")
    artifact = settings.root / app_artifact.ARTIFACT
    for env in settings.environments:
        ci = run.assume(naming.role_arn(devops.id, naming.ci_role(env.name)), admin)
        run.deploy(ci, "publish", "--env", env.name, "--artifact", str(artifact))
        deployer = run.assume(naming.role_arn(env.account.id, naming.deployer_role(env.name)), ci)
        run.deploy(deployer, "app", "--env", env.name, "--artifact", str(artifact))
    return app_artifact.sha256_of(artifact)


def principals(run: local_aws.Run) -> dict[str, str]:
    """The roles of the project that act on names: per environment its CI, Deployer, execution and
    Project Administrator roles, by ARN, with a label."""
    settings, naming = run.settings, run.settings.naming
    out = {}
    for env in settings.environments:
        account = env.account.id
        out[f"{env.name} ci"] = naming.role_arn(settings.devops.id, naming.ci_role(env.name))
        out[f"{env.name} deployer"] = naming.role_arn(account, naming.deployer_role(env.name))
        out[f"{env.name} cfn-exec"] = naming.role_arn(account, naming.cfn_execution_role(env.name))
        out[f"{env.name} project-admin"] = naming.role_arn(account, naming.persona_role(env.name, "project-admin"))
    return out


def deployed_policies(run: local_aws.Run, arn: str) -> tuple[list[dict], dict | None]:
    """A role's policies as the local AWS holds them: inline, attached, and its boundary."""
    account, name = arn.split(":")[4], arn.rsplit("/", 1)[-1]
    iam = run.client("iam", run.admin(account))

    def managed(policy_arn: str) -> dict:
        version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
        return iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]

    identity = [
        {"name": p, "policy": iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]}
        for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
    ]
    identity += [
        {"name": a["PolicyName"], "policy": managed(a["PolicyArn"])}
        for a in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    ]
    boundary = iam.get_role(RoleName=name)["Role"].get("PermissionsBoundary")
    return identity, (managed(boundary["PermissionsBoundaryArn"]) if boundary else None)


def targets(run: local_aws.Run, digest: str) -> list[tuple[str, str, str, str, dict | None]]:
    """(who may act, action, resource ARN, account, resource policy) on the project's names: its
    roles, functions, artifacts and CI roles. ``who`` is the principal label that owns it."""
    settings, naming = run.settings, run.settings.naming
    devops, region, p = settings.devops.id, settings.region, naming.partition
    bucket = naming.artifact_bucket(devops)
    bucket_policy = cfn.render(stacks.devops_spec(settings))["Resources"]["ArtifactBucketPolicy"]["Properties"][
        "PolicyDocument"
    ]
    out = []
    for env in settings.environments:
        account = env.account.id
        function = f"arn:{p}:lambda:{region}:{account}:function:{naming.function(env.name)}"
        artifact = f"arn:{p}:s3:::{bucket}/{naming.artifact_key(env.name, digest)}"
        out += [
            (f"{env.name} deployer", "lambda:PublishVersion", function, account, None),
            (f"{env.name} cfn-exec", "lambda:UpdateFunctionCode", function, account, None),
            (
                f"{env.name} cfn-exec",
                "iam:PutRolePolicy",
                naming.role_arn(account, naming.function_role(env.name)),
                account,
                None,
            ),
            (f"{env.name} project-admin", "lambda:UpdateFunctionCode", function, account, None),
            (f"{env.name} deployer", "s3:GetObject", artifact, devops, bucket_policy),
            (f"{env.name} ci", "s3:PutObject", artifact, devops, bucket_policy),
            ("", "iam:PutRolePolicy", naming.role_arn(devops, naming.ci_role(env.name)), devops, None),
        ]
    return out


def simulate(runs: list[local_aws.Run], digests: list[str], node_modules: str) -> list[str]:
    """Every principal of each project against every target of both, with the deployed policies:
    its own as designed (where the target names it), none of the other's. Returns the misses."""
    requests, expected = [], []
    for attacker in runs:
        for label, arn in principals(attacker).items():
            identity, boundary = deployed_policies(attacker, arn)
            for owner, digest in zip(runs, digests, strict=True):
                for who, action, resource, account, policy in targets(owner, digest):
                    if who and who.split()[1] != label.split()[1]:
                        continue  # each kind of principal tries what its kind does to its own
                    simulation = {
                        "request": {
                            "principal": arn,
                            "action": action,
                            "resource": {"resource": resource, "accountId": account},
                            # As AWS sets them (access_cases.simulation does the same).
                            "contextVariables": {
                                "aws:PrincipalArn": arn,
                                "aws:PrincipalAccount": arn.split(":")[4],
                                "aws:ResourceAccount": account,
                                "aws:SecureTransport": "true",
                            },
                        },
                        "identityPolicies": identity,
                        "serviceControlPolicies": [],
                        "resourceControlPolicies": [],
                    }
                    if policy is not None:
                        simulation["resourcePolicy"] = policy
                    if boundary is not None:
                        simulation["permissionBoundaryPolicies"] = [{"name": "boundary", "policy": boundary}]
                    requests.append(simulation)
                    own = owner is attacker and who == label
                    expected.append((own, f"{attacker.settings.slug} {label}: {action} {resource}"))
    with Simulator(Path(node_modules), runs[0].settings.root) as simulator:
        for simulation in requests:
            simulator.submit(simulation)
        answers = simulator.answers()
    misses = []
    for (own, what), answer in zip(expected, answers, strict=True):
        allowed = answer["decision"] == "Allowed"
        if own and not allowed:
            misses.append(f"{what}: its own, yet {answer['decision']}")
        elif not own and allowed:
            misses.append(f"{what}: expected deny, got Allowed")
        else:
            print(f"   ok: {what} {'allowed (its own)' if own else 'denied'}")
    return misses


def s3_probes(runs: list[local_aws.Run], digests: list[str]) -> None:
    """With moto's IAM enforcement on (it evaluates S3 identity policies as AWS does): each Deployer
    Role reads its own artifact and not the other project's; each CI role plants nothing there."""
    for attacker in runs:
        naming, settings = attacker.settings.naming, attacker.settings
        for owner, digest in zip(runs, digests, strict=True):
            bucket = owner.settings.naming.artifact_bucket(owner.settings.devops.id)
            for env in settings.environments:
                ci = attacker.assume(
                    naming.role_arn(settings.devops.id, naming.ci_role(env.name)), attacker.admin(settings.devops.id)
                )
                deployer = attacker.assume(naming.role_arn(env.account.id, naming.deployer_role(env.name)), ci)
                key = owner.settings.naming.artifact_key(env.name, digest)
                read = local_deploy._denied(
                    lambda d=deployer, k=key, b=bucket, a=attacker: a.client("s3", d).get_object(Bucket=b, Key=k)
                )
                whose = f"{settings.slug} {env.name}"
                if owner is attacker:
                    attacker.check(not read, f"IAM on: {whose} deployer reads {bucket}/{key}")
                else:
                    attacker.check(read, f"IAM on: {whose} deployer is refused {bucket}/{key}")
                    planted = local_deploy._denied(
                        lambda c=ci, k=key, b=bucket, a=attacker: a.client("s3", c).put_object(
                            Bucket=b, Key=k, Body=b"x"
                        )
                    )
                    attacker.check(planted, f"IAM on: {whose} CI role plants nothing in {bucket}/{key}")


def main(node_modules: str, roots: list[str]) -> int:
    local_aws.prepare_moto()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    runs: list[local_aws.Run] = []
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        digests = []
        for index, root in enumerate(roots):
            os.environ[HOME_VARIABLE] = str(Path(root).resolve())
            run = local_aws.Run(load_settings(), endpoint, sys.stdout)
            run.say(f"== {run.settings.slug}: {run.settings.strategy.value}, {', '.join(run.settings.names)}")
            digests.append(deploy(run, existing_oidc=index > 0))
            runs.append(run)
        os.environ.pop(HOME_VARIABLE)
        misses = simulate(runs, digests, node_modules)
        local_deploy._post(endpoint + "/moto-api/reset-auth", b"0")
        try:
            s3_probes(runs, digests)
        finally:
            local_deploy._post(endpoint + "/moto-api/reset-auth", b"inf")
    except local_aws.LocalDeployError as error:
        print(f"colliding deploy failed: {error}", file=sys.stderr)
        return 1
    finally:
        server.stop()
    if misses:
        print("colliding deploy failed:\n" + "\n".join(misses), file=sys.stderr)
        return 1
    print(f"colliding deploy OK: {', '.join(r.settings.slug for r in runs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
