"""The access matrix's cases: read from ``access/generated-cases.csv`` and ``access/cases.csv``, each turned into a simulation of the
collected policies in the world around them, and all simulated by ``@cloud-copilot/iam-simulate``
(``simulator.py``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from multienv.config_schema import SSM
from multienv.naming import (
    APP_STACK,
    BOOTSTRAP_STACK,
    DATA_STACK,
    DEVOPS,
    DEVOPS_STACK,
    LIVE_ALIAS,
    PERSONAS_STACK,
    Naming,
)
from multienv.settings import Settings

from .access_policies import (
    AccessError,
    Policies,
    merge_documents,
)
from .attack_catalog import PEER, default_key_policy
from .persona_cases import APP_ROLE, CASE_FIELDS, CONFIGURED, PEER_CONFIGURED, Case
from .persona_trust import IDENTITY, SAML_AUDIENCE, Trust, trusted_principal
from .personas import PERSONAS, PROJECT_ADMIN, grant

FLAGS = ("mfa", "boundary", "tagged", "cfn-role", "public", "buildspec", "retag", "reproject", "via-dynamodb", "via-s3")


# Not simulated: KMS key policies conditioned on kms:EncryptionContext:* (iam-simulate 0.1.173
# ignores those keys), so artifact and secret decryption is left to the policy contract tests.
# The people-facing roles (identity account, Identity Center) and the outsider (any other
# role of the DevOps account) live outside these templates; they are given
# sts:AssumeRole on everything, so the trust policies alone decide.
OUTSIDER = "outsider"


OUTSIDE_IDENTITY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "OutsideIdentity", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
}


# Any role created under an environment's permissions boundary, with any identity policy:
# the boundary alone must keep it in its place.
BOUNDED_ROLE = "bounded-role"


BOUNDED_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "AnyIdentityPolicy", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}


# An account that is none of the project's: it owns a bucket named like one of an environment's
# and lets everyone write to it, so only the writer's own policies can stop data leaving.
SQUATTER_ACCOUNT = "999999999999"


SQUATTER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "AnyoneWrites", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}],
}


# The six characters AWS appends to a secret's name in its ARN (``-`` first), as a sample.
SAMPLE_SUFFIX = "AbCdEf"


def peer_naming(naming: Naming, env: str) -> Naming:
    """Another project in the same accounts, slugged ``<slug>-<env>-x``: its names would start with a
    single-hyphen prefix ``<slug>-<env>-``; the double hyphen (``<slug>--<env>-``) and the path
    (``<slug>/<env>/``) keep it out."""
    return naming._replace(slug=f"{naming.slug}-{env}-x")


# A key someone else made in the account, with AWS's default key policy (the account's IAM decides).
UNTAGGED_KEY_ID = "0123abcd-untagged"


def read_cases(path: Path) -> list[tuple[int, Case]]:
    """The cases of the file with their line numbers; a malformed row is an error naming the line."""
    cases: list[tuple[int, Case]] = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    rows = [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    reader = csv.reader(line for _, line in rows)
    header = next(reader, None)
    if header != list(CASE_FIELDS):
        raise AccessError(f"{path}: the first row must be the header {','.join(CASE_FIELDS)}")
    for (number, _), row in zip(rows[1:], reader, strict=True):
        if len(row) != len(CASE_FIELDS):
            raise AccessError(
                f"{path}:{number}: {len(row)} fields, expected {len(CASE_FIELDS)} ({','.join(CASE_FIELDS)})"
            )
        case = Case(*[value.strip() for value in row])
        if case.expect not in ("allow", "deny"):
            raise AccessError(f"{path}:{number}: expect {case.expect!r} is not allow or deny")
        for flag in filter(None, case.context.split(",")):
            if flag not in FLAGS:
                raise AccessError(f"{path}:{number}: context flag {flag!r} is not one of {', '.join(FLAGS)}")
        cases.append((number, case))
    return cases


@dataclass
class World:
    """Turns the symbols of a case into ARNs, from ``multienv.toml`` and ``naming.py``."""

    settings: Settings
    trust: Trust
    # Each symbol's ARN, worked out once: tens of thousands of cases name the same few hundred.
    _principals: dict[tuple, tuple[str, str]] = field(default_factory=dict, init=False, repr=False)
    _resources: dict[tuple, tuple[str, str]] = field(default_factory=dict, init=False, repr=False)
    _references: dict[str, dict[str, tuple[str, str]]] | None = field(default=None, init=False, repr=False)

    def env(self, name: str, where: str):
        try:
            return self.settings.environment(name)
        except ValueError as error:
            raise AccessError(f"{where}: {error}") from None

    def principal(self, case: Case, where: str) -> tuple[str, str]:
        """(ARN, account) of the principal."""
        key = (case.principal, case.principal_env, case.resource, case.resource_env)
        if key not in self._principals:
            self._principals[key] = self._principal(case, where)
        return self._principals[key]

    def _principal(self, case: Case, where: str) -> tuple[str, str]:
        n = self.settings.naming
        env = self.env(case.principal_env, where)
        devops = self.settings.devops.id
        if case.principal in PERSONAS:
            return n.role_arn(env.account.id, n.persona_role(env.name, case.principal)), env.account.id
        if case.principal == "deployer":
            return n.role_arn(env.account.id, n.deployer_role(env.name)), env.account.id
        if case.principal == "cfn-exec":
            return n.role_arn(env.account.id, n.cfn_execution_role(env.name)), env.account.id
        if case.principal == APP_ROLE:
            return n.role_arn(env.account.id, n.function_role(env.name)), env.account.id
        if case.principal == "ci":
            return n.role_arn(devops, n.ci_role(env.name)), devops
        if case.principal == "drift":
            return n.role_arn(devops, n.drift_role()), devops
        if case.principal == "data-export":
            return n.role_arn(env.account.id, n.data_export_role(env.name)), env.account.id
        if case.principal == "data-import":
            return n.role_arn(env.account.id, n.data_import_role(env.name)), env.account.id
        if case.principal == "drift-reader":
            return n.role_arn(env.account.id, n.drift_reader_role(env.name)), env.account.id
        if case.principal == BOUNDED_ROLE:
            return n.role_arn(env.account.id, n.name(env.name, "bounded")), env.account.id
        if case.principal == "identity":
            return self.identity(case, where)
        if case.principal == "outsider":
            return n.role_arn(devops, n.name(DEVOPS, OUTSIDER)), devops
        if case.principal.startswith("arn:"):
            return case.principal, case.principal.split(":")[4]
        raise AccessError(
            f"{where}: principal {case.principal!r} is not a persona, deployer, cfn-exec, ci, drift, drift-reader, data-export, data-import,"
            f" bounded-role, {APP_ROLE}, identity, outsider or an ARN"
        )

    def identity(self, case: Case, where: str) -> tuple[str, str]:
        """Who signs in as ``case.resource`` for principal_env: its tier's sign-in principal (the identity
        role, permission set role or SAML provider), in the account its sign-in lives in. Assuming a
        role of another environment (resource_env) tries that sign-in there: a lower tier's against
        production's roles must fail."""
        if case.resource not in PERSONAS:
            raise AccessError(f"{where}: principal identity assumes a persona role: resource must be a persona")
        home = self.env(case.principal_env, where)
        accounts = {a.key: a.id for a in self.settings.accounts}
        n = self.settings.naming
        pattern = trusted_principal(self.trust, n, accounts, home.account.id, case.resource, home.tier)
        arn = pattern.replace("/*AWSReservedSSO_", f"/{self.settings.region}/AWSReservedSSO_")
        arn = arn.replace("_*", "_0123456789abcdef")
        return arn, arn.split(":")[4]

    @property
    def identity_account(self) -> str:
        """The account of the people-facing roles ``<slug>--identity-<persona>`` (``[personas]``)."""
        return next(a.id for a in self.settings.accounts if a.key == self.trust.identity_account)

    def skip_reason(self, case: Case, where: str) -> str:
        """Why a case cannot be simulated under these settings ("" when it can)."""
        if case.principal != "identity" or self.trust.source == "account" or "mfa" in case.context.split(","):
            return ""
        if case.resource in PERSONAS and grant(self.env(case.resource_env, where).tier, case.resource).mfa:
            return f"MFA is enforced by the identity provider with personas.source = {self.trust.source}"
        return ""

    def resource(self, case: Case, where: str) -> tuple[str, str]:
        """(ARN, owning account) of the resource."""
        key = (case.resource, case.resource_env)
        if key not in self._resources:
            self._resources[key] = self._resource(case, where)
        return self._resources[key]

    def references(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Each environment's ``[secrets]``: key -> (store, name), from its checked configuration."""
        if self._references is None:
            from .secret_store import references

            self._references = references(self.settings)
        return self._references

    def configured(self, case: Case, where: str) -> tuple[str, str]:
        """(ARN, account) of ``config:<key>`` or ``peer-config:<key>`` of resource_env (``persona_cases``)."""
        n = self.settings.naming
        env = self.env(case.resource_env, where)
        peer = case.resource.startswith(PEER_CONFIGURED)
        key = case.resource.split(":", 1)[1]
        refs = self.references()[env.name]
        if key not in refs:
            raise AccessError(
                f"{where}: {case.resource}: config/{env.name}.toml references no secret {key!r} (it has "
                f"{', '.join(sorted(refs)) or 'none'}): name a key of its [secrets]"
            )
        store, name = refs[key]
        account = env.account.id
        source = peer_naming(n, env.name) if peer else n
        # The configuration check holds every name inside the environment's prefix: the rest is the key's own.
        if store == SSM:
            rest = name[len(n.ssm_prefix(env.name)) :]
            return n.ssm_parameter_arn(account, source.ssm_parameter(env.name, rest)), account
        if name.startswith("arn:"):  # an ARN as AWS wrote it, random suffix included
            rest = name[len(n.secret_arn_prefix(account, env.name)) :]
            return f"{source.secret_arn_prefix(account, env.name)}{rest}", account
        rest = name[len(n.secret_prefix(env.name)) :]
        return n.secret_arn(account, source.secret_name(env.name, rest), SAMPLE_SUFFIX), account

    def _resource(self, case: Case, where: str) -> tuple[str, str]:
        if case.resource.startswith((CONFIGURED, PEER_CONFIGURED)):
            return self.configured(case, where)
        s = self.settings
        n = s.naming
        env = self.env(case.resource_env, where)
        account = env.account.id
        devops = s.devops.id
        p, region = n.partition, s.region
        peer = n._replace(slug=f"{n.slug}-{PEER}")
        kinds = {
            "function": (f"arn:{p}:lambda:{region}:{account}:function:{n.function(env.name)}", account),
            "live-alias": (
                f"arn:{p}:lambda:{region}:{account}:function:{n.function(env.name)}:{LIVE_ALIAS}",
                account,
            ),
            # Named outside the scheme on purpose: only its env tag says whose it is.
            "tagged-function": (f"arn:{p}:lambda:{region}:{account}:function:shared-worker", account),
            "table": (f"arn:{p}:dynamodb:{region}:{account}:table/{n.name(env.name, 'data')}", account),
            "data-object": (f"arn:{p}:s3:::{n.data_bucket(env.name, account)}/example.json", account),
            # The environment's data key as the renderer names it (infra/data.yaml's DataKey).
            "data-key": (f"arn:{p}:kms:{region}:{account}:key/{n.stack(env.name, DATA_STACK)}-DataKey-id", account),
            "table-backup": (
                f"arn:{p}:dynamodb:{region}:{account}:table/{n.data_table(env.name)}/backup/01767225600000-abcd1234",
                account,
            ),
            # A masked copy from production in the environment's transfer bucket (data-subset's layout).
            "xfer-object": (
                f"arn:{p}:s3:::{n.data_transfer_bucket(env.name, account)}/from-{s.production.name}/copy-1/items.jsonl",
                account,
            ),
            "data-export-role": (n.role_arn(account, n.data_export_role(env.name)), account),
            "data-import-role": (n.role_arn(account, n.data_import_role(env.name)), account),
            "secret": (
                f"arn:{p}:secretsmanager:{region}:{account}:secret:{n.secret_name(env.name, 'app')}-AbCdEf",
                account,
            ),
            "log-group": (f"arn:{p}:logs:{region}:{account}:log-group:{n.log_group(env.name)}", account),
            "new-role": (n.role_arn(account, n.function_role(env.name, "worker")), account),
            "deployer-role": (n.role_arn(account, n.deployer_role(env.name)), account),
            "cfn-exec-role": (n.role_arn(account, n.cfn_execution_role(env.name)), account),
            "ci-role": (n.role_arn(devops, n.ci_role(env.name)), devops),
            "drift-reader-role": (n.role_arn(account, n.drift_reader_role(env.name)), account),
            "persona-policy": (n.policy_arn(account, n.name(env.name, "persona-guard")), account),
            "parameter": (f"arn:{p}:ssm:{region}:{account}:parameter{n.ssm_parameter(env.name, 'app')}", account),
            "table-stream": (
                f"arn:{p}:dynamodb:{region}:{account}:table/{n.name(env.name, 'data')}/stream/2026-01-01T00:00:00.000",
                account,
            ),
            "execution": (f"arn:{p}:states:{region}:{account}:execution:{n.name(env.name, 'flow')}:run-1", account),
            "stream": (f"arn:{p}:kinesis:{region}:{account}:stream/{n.name(env.name, 'events')}", account),
            "workgroup": (f"arn:{p}:athena:{region}:{account}:workgroup/{n.name(env.name, 'queries')}", account),
            "any": ("*", account),
            "build-project": (f"arn:{p}:codebuild:{region}:{account}:project/{n.name(env.name, 'tests')}", account),
            # A second project of this template in the same account, its environment of the same name.
            "peer-function": (f"arn:{p}:lambda:{region}:{account}:function:{peer.function(env.name)}", account),
            "peer-app-stack": (
                f"arn:{p}:cloudformation:{region}:{account}:stack/{peer.stack(env.name, APP_STACK)}/0123abcd",
                account,
            ),
            "peer-build-project": (
                f"arn:{p}:codebuild:{region}:{account}:project/{peer.name(env.name, 'tests')}",
                account,
            ),
            "foreign-user": (f"arn:{p}:iam::{account}:user/someone", account),
            # The DevOps stack's key (its ID is the renderer's stand-in): no name, no env tag.
            "devops-key": (f"arn:{p}:kms:{region}:{devops}:key/{n.stack(DEVOPS, DEVOPS_STACK)}-ArtifactKey-id", devops),
            "untagged-key": (f"arn:{p}:kms:{region}:{account}:key/{UNTAGGED_KEY_ID}", account),
            # A bucket named like the environment's own, in an account that is not the project's.
            "squatted-object": (f"arn:{p}:s3:::{n.name(env.name, 'data')}-elsewhere/example.json", SQUATTER_ACCOUNT),
            # Named outside the scheme: nobody's, so no persona's.
            "foreign-role": (n.role_arn(account, "shared-admin"), account),
            "artifact-bucket": (f"arn:{p}:s3:::{n.artifact_bucket(devops)}", devops),
            "identity-role": (
                n.role_arn(self.identity_account, n.name(IDENTITY, PROJECT_ADMIN)),
                self.identity_account,
            ),
            "oidc-provider": (f"arn:{p}:iam::{account}:oidc-provider/token.actions.githubusercontent.com", account),
            **{
                f"{stack}-stack": (
                    f"arn:{p}:cloudformation:{region}:{account}:stack/{n.stack(env.name, stack)}/0123abcd",
                    account,
                )
                for stack in (BOOTSTRAP_STACK, PERSONAS_STACK, APP_STACK, DATA_STACK)
            },
            "artifact": (
                f"arn:{p}:s3:::{n.artifact_bucket(devops)}/{n.artifact_key(env.name, '0' * 64)}",
                devops,
            ),
            "devops-secret": (n.secret_arn(devops, n.deploy_secret(env.name), SAMPLE_SUFFIX), devops),
        }
        if case.resource in kinds:
            return kinds[case.resource]
        if case.resource in PERSONAS:
            return n.role_arn(account, n.persona_role(env.name, case.resource)), account
        if case.resource.startswith("arn:"):
            return case.resource, case.resource.split(":")[4] or account
        raise AccessError(f"{where}: resource {case.resource!r} is not one of {', '.join(kinds)}, a persona or an ARN")


def resource_policy(policies: Policies, arn: str) -> dict | None:
    """The joined resource policies of ``arn``: one document per resource, however many cases ask."""
    if arn not in policies.merged:
        policies.merged[arn] = _resource_policy(policies, arn)
    return policies.merged[arn]


def _resource_policy(policies: Policies, arn: str) -> dict | None:
    if arn.startswith("arn:") and arn.split(":")[2] == "s3":
        bucket = arn.split(":", 5)[5].split("/", 1)[0]
        return merge_documents(policies.resource_policies.get(f"s3:{bucket}", []))
    if ":secretsmanager:" in arn:
        documents = [
            d
            for key, ds in policies.resource_policies.items()
            if key.startswith(arn) or arn.startswith(key)
            for d in ds
        ]
        return merge_documents(documents)
    return merge_documents(policies.resource_policies.get(arn, []))


def simulation(policies: Policies, world: World, case: Case, where: str) -> dict:
    principal, principal_account = world.principal(case, where)
    resource, resource_account = world.resource(case, where)
    if resource.startswith(f"arn:{world.settings.naming.partition}:s3:::"):
        bucket = resource.split(":::", 1)[1].split("/", 1)[0]
        resource_account = policies.bucket_accounts.get(bucket, resource_account)
    flags = set(filter(None, case.context.split(",")))
    context: dict[str, str | list[str]] = {
        "aws:PrincipalArn": principal,
        "aws:PrincipalAccount": principal_account,
        # AWS sets it to the account that owns the resource (the requester's, for a resource it creates).
        "aws:ResourceAccount": resource_account,
        "aws:SecureTransport": "true",
        "aws:MultiFactorAuthPresent": "true" if "mfa" in flags else "false",
    }
    if "tagged" in flags:
        context["aws:ResourceTag/env"] = case.resource_env
    if "public" in flags:
        context["lambda:FunctionUrlAuthType"] = "NONE"
        context["lambda:Principal"] = "*"
    if "retag" in flags:
        context["aws:RequestTag/env"] = f"not-{case.resource_env}"
        context["aws:TagKeys"] = ["env"]
    if "reproject" in flags:
        context["aws:RequestTag/project"] = f"not-{world.settings.slug}"
        context["aws:TagKeys"] = ["project"]
    if "buildspec" in flags:
        context["codebuild:source.buildspec"] = "version: 0.2"
    if "via-dynamodb" in flags or "via-s3" in flags:
        service = "dynamodb" if "via-dynamodb" in flags else "s3"
        context["kms:ViaService"] = f"{service}.{world.settings.region}.amazonaws.com"
    if "cfn-role" in flags:
        n = world.settings.naming
        env = world.env(case.principal_env, where)
        context["cloudformation:RoleArn"] = n.role_arn(env.account.id, n.cfn_execution_role(env.name))
    if "boundary" in flags:
        n = world.settings.naming
        env = world.env(case.resource_env, where)
        context["iam:PermissionsBoundary"] = n.policy_arn(env.account.id, n.boundary_policy(env.name))
    action = case.action
    if case.principal == "identity" and world.trust.source == "saml":
        # People arrive through the SAML provider: a federated principal with no identity policy.
        action = "sts:AssumeRoleWithSAML" if action == "sts:AssumeRole" else action
        context["SAML:aud"] = SAML_AUDIENCE[world.settings.naming.partition]
        identity, boundary = [], None
    elif case.principal in ("identity", "outsider"):
        identity = [{"name": "outside-identity", "policy": OUTSIDE_IDENTITY_POLICY}]
        boundary = None
    elif case.principal == BOUNDED_ROLE:
        identity = [{"name": "any-identity-policy", "policy": BOUNDED_ROLE_POLICY}]
        n = world.settings.naming
        env = world.env(case.principal_env, where)
        deployer = policies.roles.get(n.role_arn(env.account.id, n.deployer_role(env.name)))
        if deployer is None or deployer.boundary is None:
            raise AccessError(
                f"{where}: {env.name} has no Deployer Role whose permissions boundary caps {BOUNDED_ROLE}"
            )
        boundary = deployer.boundary
    else:
        role = policies.roles.get(principal)
        identity = [{"name": name, "policy": doc} for name, doc in role.policies] if role else []
        boundary = role.boundary if role else None
    request = {
        "request": {
            "principal": principal,
            "action": action,
            "resource": {"resource": resource, "accountId": resource_account},
            "contextVariables": context,
        },
        "identityPolicies": identity,
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }
    document: dict | None
    if resource_account == SQUATTER_ACCOUNT:
        document = SQUATTER_POLICY
    elif resource.endswith(UNTAGGED_KEY_ID):
        document = default_key_policy(world.settings.naming.partition, resource_account)
    else:
        document = resource_policy(policies, resource)
    if document is not None:
        request["resourcePolicy"] = document
    if boundary is not None:
        request["permissionBoundaryPolicies"] = [{"name": boundary[0], "policy": boundary[1]}]
    return request
