"""The access matrix: every case of ``access/cases.csv`` simulated against the real policies.

``python -m multienv_tools.access_matrix`` (``make check-access``) renders every stack of
``stack_specs`` (the persona stacks included) with their parameters from ``multienv.toml``,
collects each role's identity policies, permissions boundary and trust policy and every
resource policy (bucket, secret, repository, key), and asks ``@cloud-copilot/iam-simulate``
(``access/simulate.cjs``, one node process for all cases) for the decision of each case,
with AWS's evaluation logic: explicit Deny wins, a boundary caps, and a cross-account
request needs both the identity and the resource side. It also runs parliament on every
identity policy. Exit status 1 when any case or finding fails.

``--write-cases`` rewrites the generated rows of the cases file from ``personas.py`` and
keeps the rows under ``# team cases``.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import os
import subprocess
import sys
import time
import tomllib
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from multienv.naming import DEVOPS, LIVE_ALIAS
from multienv.settings import Settings, load_settings

from .attack_catalog import PEER, Layout, attack_cases, judge, report
from .attack_catalog import counts as scope_counts
from .attack_catalog import requests as attack_requests
from .cfn import Resolver, load_template, render_template
from .org_perimeter import ORG_TEMPLATE, perimeter_cases
from .org_perimeter import failures as org_perimeter_failures
from .org_perimeter import render as render_perimeter
from .org_perimeter import requests as org_requests
from .persona_stacks import load_trust
from .personas import (
    CASE_FIELDS,
    IDENTITY,
    PERSONAS,
    PROJECT_ADMIN,
    SAML_AUDIENCE,
    TEAM_MARKER,
    Case,
    Trust,
    default_cases,
    grant,
    render_cases,
    trusted_principal,
)
from .stacks import APP_STACK, BOOTSTRAP_STACK, PERSONAS_STACK, stack_specs
from .stacks import DEVOPS as DEVOPS_KIND

CASES_FILE = Path("access") / "cases.csv"
DRIVER = Path("access") / "simulate.cjs"
SKIPS_FILE = Path("access") / "parliament-skips.toml"
FLAGS = ("mfa", "boundary", "tagged", "cfn-role", "public", "buildspec", "retag")
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


# A key someone else made in the account, with AWS's default key policy (the account's IAM decides).
UNTAGGED_KEY_ID = "0123abcd-untagged"


def default_key_policy(partition: str, account: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableIamPolicies",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


class AccessError(ValueError):
    """A case or a template cannot be turned into a simulation."""


# --------------------------------------------------------------------------- the policies


@dataclass
class Role:
    arn: str
    account: str
    trust: dict
    policies: list[tuple[str, dict]] = field(default_factory=list)
    boundary: tuple[str, dict] | None = None


def parliament_skips(resource: Resource, where: str) -> dict[str, str]:
    """``Metadata: parliament: skip: [{issue: ..., comment: why}]`` of a role or policy: issue -> reason."""
    skips = {}
    for entry in (resource.metadata.get("parliament") or {}).get("skip", []):
        issue, comment = entry.get("issue", ""), str(entry.get("comment", "")).strip()
        if not issue or not comment:
            raise AccessError(f"{where}: every parliament skip needs an issue and a comment saying why")
        skips[issue] = comment
    return skips


@dataclass
class Resource:
    logical_id: str
    type: str
    properties: dict
    name: str  # what Ref gives
    arn: str  # what GetAtt Arn gives ("" when the type has none)
    metadata: dict = field(default_factory=dict)


@dataclass
class RenderedStack:
    """One stack as CloudFormation would create it: where it goes and its resolved resources."""

    name: str
    account_id: str
    resources: list[Resource]

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]


_WITH_ARN = {
    "AWS::IAM::Role",
    "AWS::IAM::ManagedPolicy",
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::ECR::Repository",
    "AWS::Logs::LogGroup",
    "AWS::Lambda::Function",
}


def render_spec(spec) -> RenderedStack:
    """Render a ``StackSpec`` with ``cfn``: properties resolved, plus each resource's name and ARN."""
    template = load_template(spec.template_path)
    rendered = render_template(template, spec.parameters, spec.account_id, spec.region, spec.name)
    resolver = Resolver(template, spec.parameters, spec.account_id, spec.region, spec.name)
    resources = []
    for logical_id, body in rendered["Resources"].items():
        kind = body["Type"]
        name = str(resolver.ref(logical_id)) if kind in _WITH_ARN or kind == "AWS::SecretsManager::Secret" else ""
        if kind == "AWS::SecretsManager::Secret":
            arn = name
        else:
            arn = str(resolver.get_att(logical_id, "Arn")) if kind in _WITH_ARN else ""
        resources.append(Resource(logical_id, kind, body["Properties"], name, arn, body.get("Metadata") or {}))
    return RenderedStack(spec.name, spec.account_id, resources)


@dataclass
class Policies:
    """Every role and resource policy the rendered stacks would create."""

    stacks: list[RenderedStack]
    roles: dict[str, Role] = field(default_factory=dict)
    resource_policies: dict[str, list[dict]] = field(default_factory=dict)  # resource ARN -> documents
    bucket_accounts: dict[str, str] = field(default_factory=dict)
    skips: dict[str, dict[str, str]] = field(default_factory=dict)  # policy name -> parliament issue -> reason
    merged: dict[str, dict | None] = field(default_factory=dict)  # resource ARN -> joined resource policy

    def identity_documents(self) -> Iterable[tuple[str, dict]]:
        seen: set[str] = set()
        for role in self.roles.values():
            for name, document in [*role.policies, *([role.boundary] if role.boundary else [])]:
                key = json.dumps(document, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    yield name, document


def collect_policies(stacks: list[RenderedStack]) -> Policies:
    policies = Policies(stacks)
    managed: dict[str, tuple[str, dict]] = {}
    for stack in stacks:
        for resource in stack.of_type("AWS::IAM::ManagedPolicy"):
            name = resource.properties.get("ManagedPolicyName", resource.logical_id)
            managed[resource.arn] = (name, resource.properties["PolicyDocument"])
            policies.skips[name] = parliament_skips(resource, f"{stack.name}: {resource.logical_id}")
        for resource in stack.of_type("AWS::S3::Bucket"):
            policies.bucket_accounts[resource.name] = stack.account_id

    def managed_policy(arn: str, where: str) -> tuple[str, dict]:
        if arn not in managed:
            raise AccessError(
                f"{where}: policy {arn} is not created by any template (AWS-managed policies are not simulated)"
            )
        return managed[arn]

    for stack in stacks:
        for resource in stack.of_type("AWS::IAM::Role"):
            props = resource.properties
            where = f"{stack.name}: {resource.logical_id}"
            role = Role(resource.arn, stack.account_id, props["AssumeRolePolicyDocument"])
            for inline in props.get("Policies", []):
                name = f"{resource.name}/{inline['PolicyName']}"
                role.policies.append((name, inline["PolicyDocument"]))
                policies.skips[name] = parliament_skips(resource, where)
            for arn in props.get("ManagedPolicyArns", []):
                role.policies.append(managed_policy(arn, where))
            if "PermissionsBoundary" in props:
                role.boundary = managed_policy(props["PermissionsBoundary"], where)
            policies.roles[resource.arn] = role
            policies.resource_policies.setdefault(resource.arn, []).append(role.trust)
    role_by_name = {(r.account, r.arn.rsplit("/", 1)[-1]): r for r in policies.roles.values()}
    for stack in stacks:
        for resource in stack.of_type("AWS::IAM::ManagedPolicy") + stack.of_type("AWS::IAM::Policy"):
            props = resource.properties
            name = props.get("ManagedPolicyName", props.get("PolicyName", resource.logical_id))
            for role_name in props.get("Roles", []):
                role = role_by_name.get((stack.account_id, role_name))
                if role is None:
                    raise AccessError(f"{stack.name}: {resource.logical_id}: attaches to unknown role {role_name}")
                entry = (name, props["PolicyDocument"])
                if entry not in role.policies:
                    role.policies.append(entry)
        for resource in stack.of_type("AWS::S3::BucketPolicy"):
            bucket = resource.properties["Bucket"]
            policies.resource_policies.setdefault(f"s3:{bucket}", []).append(resource.properties["PolicyDocument"])
        for resource in stack.of_type("AWS::SecretsManager::ResourcePolicy"):
            secret = resource.properties["SecretId"]
            policies.resource_policies.setdefault(secret, []).append(resource.properties["ResourcePolicy"])
        for resource in stack.of_type("AWS::ECR::Repository"):
            if "RepositoryPolicyText" in resource.properties:
                policies.resource_policies.setdefault(resource.arn, []).append(
                    resource.properties["RepositoryPolicyText"]
                )
        for resource in stack.of_type("AWS::KMS::Key"):
            policies.resource_policies.setdefault(resource.arn, []).append(resource.properties["KeyPolicy"])
    return policies


def merge_documents(documents: list[dict]) -> dict | None:
    """One resource can carry several policies in these templates (never in AWS): join them."""
    if not documents:
        return None
    statements: list[dict] = []
    for document in documents:
        body = document.get("Statement", [])
        statements += body if isinstance(body, list) else [body]
    return {"Version": "2012-10-17", "Statement": statements}


def attack_layout(settings: Settings, policies: Policies) -> Layout:
    """What the attacker's matrix needs from the rendered stacks: the trust policies and the DevOps key."""
    keys = [r.arn for st in policies.stacks if st.account_id == settings.devops.id for r in st.of_type("AWS::KMS::Key")]
    return Layout(settings, {arn: role.trust for arn, role in policies.roles.items()}, keys[0] if keys else "")


def add_peer_trusts(settings: Settings, policies: Policies, peer_slug: str) -> None:
    """The trust policies of a second project's roles: the same templates rendered with its slug.

    AWS asks a role's trust policy on every ``sts:AssumeRole``; without them the simulator would
    let a same-account identity policy alone decide. The peer's CI roles trust its own repository.
    """
    ours = settings.github_repository
    theirs = f"{ours}-{PEER}"
    peer = settings._replace(slug=peer_slug, github_repository=theirs)
    for spec in stack_specs(peer, SAMPLE_DIGEST):
        if spec.kind == DEVOPS_KIND:
            continue  # its names are written into the template: only the parameterised stacks render as the peer's
        for resource in render_spec(spec).of_type("AWS::IAM::Role"):
            policies.resource_policies.setdefault(resource.arn, []).append(
                resource.properties["AssumeRolePolicyDocument"]
            )
    n, peer_naming = settings.naming, peer.naming
    for env in settings.environments:
        ci = policies.roles.get(n.role_arn(settings.devops.id, n.ci_role(env.name)))
        if ci is not None:
            trust = json.loads(json.dumps(ci.trust).replace(f"repo:{ours}:", f"repo:{theirs}:"))
            arn = peer_naming.role_arn(settings.devops.id, peer_naming.ci_role(env.name))
            policies.resource_policies.setdefault(arn, []).append(trust)


# The application stacks need an artifact's digest to render; any digest gives the same policies.
SAMPLE_DIGEST = "0" * 64


def render_all(settings: Settings) -> list[RenderedStack]:
    rendered = []
    for spec in stack_specs(settings, SAMPLE_DIGEST):
        if not spec.template_path.is_file():
            raise AccessError(f"stack {spec.name}: template {spec.template_path} does not exist")
        rendered.append(render_spec(spec))
    return rendered


# --------------------------------------------------------------------------- cases


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

    def env(self, name: str, where: str):
        try:
            return self.settings.environment(name)
        except ValueError as error:
            raise AccessError(f"{where}: {error}") from None

    def principal(self, case: Case, where: str) -> tuple[str, str]:
        """(ARN, account) of the principal."""
        n = self.settings.naming
        env = self.env(case.principal_env, where)
        devops = self.settings.devops.id
        if case.principal in PERSONAS:
            return n.role_arn(env.account.id, n.persona_role(env.name, case.principal)), env.account.id
        if case.principal == "deployer":
            return n.role_arn(env.account.id, n.deployer_role(env.name)), env.account.id
        if case.principal == "cfn-exec":
            return n.role_arn(env.account.id, n.cfn_execution_role(env.name)), env.account.id
        if case.principal == "ci":
            return n.role_arn(devops, n.ci_role(env.name)), devops
        if case.principal == BOUNDED_ROLE:
            return n.role_arn(env.account.id, n.name(env.name, "bounded")), env.account.id
        if case.principal == "identity":
            return self.identity(case, where)
        if case.principal == "outsider":
            return n.role_arn(devops, n.name(DEVOPS, OUTSIDER)), devops
        if case.principal.startswith("arn:"):
            return case.principal, case.principal.split(":")[4]
        raise AccessError(
            f"{where}: principal {case.principal!r} is not a persona, deployer, cfn-exec, ci, bounded-role,"
            " identity, outsider or an ARN"
        )

    def identity(self, case: Case, where: str) -> tuple[str, str]:
        if case.resource not in PERSONAS:
            raise AccessError(f"{where}: principal identity assumes a persona role: resource must be a persona")
        env = self.env(case.resource_env, where)
        accounts = {a.key: a.id for a in self.settings.accounts}
        pattern = trusted_principal(self.trust, self.settings.naming, accounts, env.account.id, case.resource)
        arn = pattern.replace("/*AWSReservedSSO_", f"/{self.settings.region}/AWSReservedSSO_")
        arn = arn.replace("_*", "_0123456789abcdef")
        return arn, arn.split(":")[4]

    @property
    def identity_account(self) -> str:
        """The account of the people-facing roles ``<slug>-identity-<persona>`` (``[personas]``)."""
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
        s = self.settings
        n = s.naming
        env = self.env(case.resource_env, where)
        account = env.account.id
        devops = s.devops.id
        p, region = n.partition, s.region
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
            "secret": (
                f"arn:{p}:secretsmanager:{region}:{account}:secret:{n.secret_name(env.name, 'app')}-AbCdEf",
                account,
            ),
            "log-group": (f"arn:{p}:logs:{region}:{account}:log-group:{n.log_group(env.name)}", account),
            "new-role": (n.role_arn(account, n.function_role(env.name, "worker")), account),
            "deployer-role": (n.role_arn(account, n.deployer_role(env.name)), account),
            "cfn-exec-role": (n.role_arn(account, n.cfn_execution_role(env.name)), account),
            "ci-role": (n.role_arn(devops, n.ci_role(env.name)), devops),
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
            "foreign-user": (f"arn:{p}:iam::{account}:user/someone", account),
            # The DevOps stack's key (its ID is the renderer's stand-in): no name, no env tag.
            "devops-key": (f"arn:{p}:kms:{region}:{devops}:key/ArtifactKey-id", devops),
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
                for stack in (BOOTSTRAP_STACK, PERSONAS_STACK, APP_STACK)
            },
            "artifact": (
                f"arn:{p}:s3:::{n.artifact_bucket(devops)}/{n.artifact_key(env.name, '0' * 64)}",
                devops,
            ),
            "devops-secret": (
                f"arn:{p}:secretsmanager:{region}:{devops}:secret:{n.secret_name(env.name, 'app')}-AbCdEf",
                devops,
            ),
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
    if "buildspec" in flags:
        context["codebuild:source.buildspec"] = "version: 0.2"
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


def pack(requests: list[dict]) -> tuple[dict[str, dict], list[dict]]:
    """The policies of a batch by reference: each document crosses the pipe once, however many cases use it."""
    documents: dict[str, dict] = {}
    refs: dict[int, str] = {}
    # Kept alive until the batch is written, so an ``id`` is never reused for another document.
    held: list[dict] = []

    def ref(document: dict) -> str:
        key = refs.get(id(document))
        if key is None:
            key = refs[id(document)] = str(len(documents))
            documents[key] = document
            held.append(document)
        return key

    def named(policies: list[dict]) -> list[dict]:
        return [{"name": p["name"], "ref": ref(p["policy"])} for p in policies]

    packed = []
    for request in requests:
        simulation = dict(request["simulation"])
        simulation["identityPolicies"] = named(simulation["identityPolicies"])
        if "permissionBoundaryPolicies" in simulation:
            simulation["permissionBoundaryPolicies"] = named(simulation["permissionBoundaryPolicies"])
        for key in ("serviceControlPolicies", "resourceControlPolicies"):
            simulation[key] = [
                {"orgIdentifier": o["orgIdentifier"], "policies": named(o["policies"])} for o in simulation.get(key, [])
            ]
        if "resourcePolicy" in simulation:
            simulation["resourcePolicyRef"] = ref(simulation.pop("resourcePolicy"))
        packed.append({"id": request["id"], "simulation": simulation})
    return documents, packed


def run_simulations(requests: list[dict], node_modules: Path, root: Path, workers: int | None = None, meanwhile=None):
    """Every request's answer, in order; the batch is split over one node process per core.

    With ``meanwhile`` (a function), returns ``(answers, meanwhile())``, called while the processes run.
    """
    env = {**os.environ, "NODE_PATH": str(Path(node_modules).resolve())}
    driver = root / DRIVER
    workers = max(1, min(workers or os.cpu_count() or 1, len(requests) // 500 or 1))
    documents, packed = pack(requests)
    # Interleaved, so each process gets its share of every kind of case.
    shares = [packed[index::workers] for index in range(workers)]
    processes = []
    try:
        for share in shares:
            process = subprocess.Popen(
                # A larger young generation: the engine allocates briefly-lived objects by the million.
                ["node", "--max-semi-space-size=32", str(driver)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            processes.append((process, json.dumps({"policies": documents, "requests": share})))
    except FileNotFoundError:
        raise AccessError("node is not on PATH: install Node.js 20 or newer, then run make install") from None
    answers: dict[int, dict] = {}
    errors = []
    # One thread per process feeds its stdin and drains its stdout, so all of them run at once.
    with ThreadPoolExecutor(max_workers=len(processes)) as pool:
        running = pool.map(lambda item: item[0].communicate(item[1]), processes)
        extra = meanwhile() if meanwhile is not None else None
        outputs = list(running)
    for (process, _), (stdout, stderr) in zip(processes, outputs, strict=True):
        if process.returncode != 0:
            errors.append(stderr.strip())
            continue
        answers.update((answer["id"], answer) for answer in json.loads(stdout))
    if errors:
        raise AccessError(f"{driver} failed (run make install?):\n" + "\n".join(errors))
    ordered = [answers[request["id"]] for request in requests]
    return (ordered, extra) if meanwhile is not None else ordered


# --------------------------------------------------------------------------- parliament


@dataclass(frozen=True)
class Skip:
    policy: str
    issue: str
    reason: str


def read_skips(path: Path) -> list[Skip]:
    """``access/parliament-skips.toml``: excused findings, each with its reason."""
    if not path.is_file():
        return []
    with path.open("rb") as handle:
        entries = tomllib.load(handle).get("skip", [])
    skips = []
    for index, entry in enumerate(entries):
        missing = [key for key in ("policy", "issue", "reason") if not str(entry.get(key, "")).strip()]
        if missing:
            raise AccessError(f"{path}: skip[{index}] needs {', '.join(missing)}: every skip says which and why")
        skips.append(Skip(entry["policy"], entry["issue"], entry["reason"]))
    return skips


def parliament_findings(policies: Policies, skips: list[Skip], minimum: str = "MEDIUM") -> tuple[list[str], int]:
    """Findings at ``minimum`` severity or above, and how many a documented skip excused."""
    with warnings.catch_warnings():
        # parliament imports pkg_resources, which warns on import (setuptools is pinned below 81, which drops it).
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        from parliament import analyze_policy_string, enhance_finding
        from parliament.cli import is_finding_filtered

    problems = []
    skipped = 0
    used: set[Skip] = set()
    for name, document in policies.identity_documents():
        result = analyze_policy_string(json.dumps(document), ignore_private_auditors=True)
        for finding in map(enhance_finding, result.findings):
            if is_finding_filtered(finding, minimum):
                continue
            if finding.issue in policies.skips.get(name, {}):
                skipped += 1
                continue
            matching = [s for s in skips if s.issue == finding.issue and fnmatch.fnmatchcase(name, s.policy)]
            if matching:
                used.update(matching)
                skipped += 1
                continue
            detail = finding.detail
            if isinstance(detail, list) and len(detail) > 3:
                detail = [*detail[:3], f"... {len(detail) - 3} more"]
            problems.append(f"parliament: {name}: {finding.severity} {finding.issue}: {detail}")
    for skip in skips:
        if skip not in used:
            problems.append(f"parliament skip for {skip.policy} {skip.issue} matches no finding: remove it")
    return problems, skipped


# --------------------------------------------------------------------------- main


def _decision(raw: str) -> str:
    return "allow" if raw == "Allowed" else ("deny" if raw in ("ExplicitlyDenied", "ImplicitlyDenied") else raw)


def check(settings: Settings, cases_path: Path, node_modules: Path, out=sys.stdout, exhaustive: bool = False) -> int:
    started = time.perf_counter()
    policies = collect_policies(render_all(settings))
    world = World(settings, load_trust(settings))
    cases = read_cases(cases_path)
    skipped_cases = [(n, c, world.skip_reason(c, f"{cases_path}:{n}")) for n, c in cases]
    for number, case, reason in skipped_cases:
        if reason:
            print(f"skip {cases_path}:{number}: {case.principal} {case.action} {case.resource}: {reason}", file=out)
    cases = [(n, c) for n, c, reason in skipped_cases if not reason]
    requests = [
        {"id": index, "simulation": simulation(policies, world, case, f"{cases_path}:{number}")}
        for index, (number, case) in enumerate(cases)
    ]
    layout = attack_layout(settings, policies)
    add_peer_trusts(settings, policies, layout.peer.slug)
    attacks = attack_cases(layout, exhaustive)
    requests += attack_requests(attacks, lambda case, where: simulation(policies, world, case, where), len(requests))
    perimeter = render_perimeter(settings) if (settings.root / ORG_TEMPLATE).is_file() else None
    org_cases = perimeter_cases(settings) if perimeter else []
    requests += org_requests(org_cases, perimeter, len(requests))
    # parliament runs here while the simulator's processes work.
    answers, (findings, skipped) = run_simulations(
        requests,
        node_modules,
        settings.root,
        meanwhile=lambda: parliament_findings(policies, read_skips(settings.root / SKIPS_FILE)),
    )
    attack_answers = answers[len(cases) : len(cases) + len(attacks)]
    attack_verdict = judge(attacks, attack_answers, settings.strategy.value)
    report(attack_verdict, out)
    org_failures = org_perimeter_failures(org_cases, answers[len(cases) + len(attacks) :])
    for line in org_failures:
        print(line, file=out)
    answers = answers[: len(cases)]
    failures = 0
    for (number, case), answer in zip(cases, answers, strict=True):
        actual = _decision(answer["decision"])
        if actual == case.expect:
            continue
        failures += 1
        principal, _ = world.principal(case, "")
        resource, _ = world.resource(case, "")
        print(
            f"FAIL {cases_path}:{number}: {principal} {case.action} {resource}: "
            f"expected {case.expect}, got {answer['decision']} ({case.why})",
            file=out,
        )
        if answer.get("errors"):
            print(f"     simulator: {json.dumps(answer['errors'])[:600]}", file=out)
        if answer["decision"] == "ImplicitlyDenied" and not answer.get("deciding"):
            print("     no statement allows it (implicit deny)", file=out)
        for statement in answer.get("deciding", []):
            kind, policy, sid, effect = (statement[k] for k in ("kind", "policy", "sid", "effect"))
            print(f"     decided by {kind} policy {policy} statement {sid} ({effect})", file=out)
    for finding in findings:
        print(f"FAIL {finding}", file=out)
    allowed = sum(1 for _, c in cases if c.expect == "allow")
    elapsed = time.perf_counter() - started
    generated = ", ".join(f"{scope} {n}" for scope, n in scope_counts(attacks).items())
    opened = sum(attack_verdict.open.values())
    if opened:
        generated += f"; {opened} known open"
    failures += len(attack_verdict.failed) + len(attack_verdict.stale) + len(org_failures)
    generated += f"), {len(org_cases)} org-perimeter cases (each with and without it"
    verdict = "all as expected" if not failures else f"{failures} FAILED"
    skipped_count = sum(1 for *_, reason in skipped_cases if reason)
    if skipped_count:
        verdict += f" ({skipped_count} not simulated, see skip lines)"
    print(
        f"access matrix: {len(cases)} designed cases ({allowed} allow, {len(cases) - allowed} deny), "
        f"{len(attacks)} generated ({generated}), {verdict}; "
        f"{len(policies.roles)} roles, {sum(1 for _ in policies.identity_documents())} identity policies "
        "through parliament, "
        f"{len(findings)} findings ({skipped} skipped with a reason); {elapsed:.1f} s",
        file=out,
    )
    return 1 if failures or findings else 0


def write_cases(settings: Settings, cases_path: Path) -> int:
    team = ""
    if cases_path.is_file():
        text = cases_path.read_text(encoding="utf-8")
        marker = f"{TEAM_MARKER}\n"
        if marker in text:
            team = text.split(marker, 1)[1]
    cases = default_cases((e.name, e.tier) for e in settings.environments)
    cases_path.write_text(render_cases(cases, team), encoding="utf-8")
    print(f"{cases_path}: {len(cases)} generated cases written, team cases kept")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check-access", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=None, help=f"cases file (default: {CASES_FILE})")
    parser.add_argument("--node-modules", type=Path, default=None, help="where npm installed iam-simulate")
    parser.add_argument("--write-cases", action="store_true", help="rewrite the generated cases, keep team cases")
    parser.add_argument(
        "--exhaustive",
        action="store_true",
        help="every attack technique against every target (default: each technique once per principal and scope)",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        cases_path = args.cases or settings.root / CASES_FILE
        if args.write_cases:
            return write_cases(settings, cases_path)
        node_modules = args.node_modules or settings.root / "access" / "node_modules"
        return check(settings, cases_path, node_modules, exhaustive=args.exhaustive)
    except (AccessError, ValueError) as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
