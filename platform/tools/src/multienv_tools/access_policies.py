"""The policies the access matrix simulates: every stack of ``stack_specs`` rendered, each role's
identity policies, permissions boundary and trust policy, and every resource policy collected.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from multienv.settings import Settings

from .attack_catalog import PEER
from .attack_world import Layout
from .cfn import Resolver, render_template, shared_template
from .stacks import DEVOPS as DEVOPS_KIND
from .stacks import stack_specs


class AccessError(ValueError):
    """A case or a template cannot be turned into a simulation."""


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
    template = shared_template(spec.template_path)
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
                attached = role_by_name.get((stack.account_id, role_name))
                if attached is None:
                    raise AccessError(f"{stack.name}: {resource.logical_id}: attaches to unknown role {role_name}")
                entry = (name, props["PolicyDocument"])
                if entry not in attached.policies:
                    attached.policies.append(entry)
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
