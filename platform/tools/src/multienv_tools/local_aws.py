"""The local AWS a run deploys into: a moto server per run, and what moto's CloudFormation skips.

``Run`` holds the server, the accounts and the output of one ``make local-deploy`` (or of
the local retire and release drills it runs). moto's CloudFormation skips a few resource
types (it says so in a warning) and ignores a few properties: ``apply_skipped`` applies
exactly those through the plain APIs, from the same rendered template, and any other
"no support" warning fails the run, so a new resource type cannot be skipped unnoticed.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from multienv.settings import Settings

from . import cfn, deploy, deploy_target, stacks

# Resource types moto's CloudFormation skips with a warning; applied below instead.
SKIPPED_BY_MOTO = frozenset(
    {
        "AWS::S3::BucketPolicy",
        "AWS::SecretsManager::Secret",
        "AWS::SecretsManager::ResourcePolicy",
        "AWS::IAM::OIDCProvider",
    }
)
RESOURCE_TYPE = re.compile(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
ADMIN_ROLE = "local-admin"


class LocalDeployError(RuntimeError):
    pass


class SkipWarnings(logging.Handler):
    """Collects moto's "not supported" warnings, logged or issued as Python warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.types: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "support" in message.lower():
            found = RESOURCE_TYPE.search(message)
            self.types.append(found.group(0) if found else message.strip())

    def unexpected(self) -> list[str]:
        return sorted({t for t in self.types if t not in SKIPPED_BY_MOTO})

    def problem(self) -> str:
        """What to say when moto skipped a resource type nothing applies ("" when it did not)."""
        unexpected = self.unexpected()
        if not unexpected:
            return ""
        return (
            f"moto skipped resource types nobody applies: {', '.join(unexpected)} "
            f"(known and applied: {', '.join(sorted(SKIPPED_BY_MOTO))})"
        )


@dataclass
class Run:
    settings: Settings
    endpoint: str
    out: TextIO
    checks: list[str] = field(default_factory=list)
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)
    # moto's warnings of resource types it skipped: a deploy that left one unapplied stops the run.
    skipped: SkipWarnings | None = None

    def say(self, message: str) -> None:
        print(message, file=self.out, flush=True)

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            raise LocalDeployError(f"check failed: {what}")
        self.checks.append(what)
        self.say(f"   ok: {what}")

    # --- credentials -----------------------------------------------------------
    def environ(self, credentials: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {"AWS_ENDPOINT_URL": self.endpoint, "AWS_DEFAULT_REGION": self.settings.region}
        env.update(credentials or LOCAL_CREDENTIALS)
        return env

    def client(self, service: str, credentials: Mapping[str, str] | None = None) -> Any:
        env = self.environ(credentials)
        return deploy_target.client(
            None,
            service,
            self.settings.region,
            self.endpoint,
            env["AWS_ACCESS_KEY_ID"],
            env["AWS_SECRET_ACCESS_KEY"],
            env.get("AWS_SESSION_TOKEN"),
        )

    def assume(self, role_arn: str, via: Mapping[str, str] | None = None) -> dict[str, str]:
        """Credentials of a role; in moto they act in the role's account."""
        if role_arn not in self.sessions:
            answer = self.client("sts", via).assume_role(RoleArn=role_arn, RoleSessionName="local-deploy")
            c = answer["Credentials"]
            self.sessions[role_arn] = {
                "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                "AWS_SESSION_TOKEN": c["SessionToken"],
            }
        return self.sessions[role_arn]

    def admin(self, account_id: str) -> dict[str, str]:
        return self.assume(self.settings.naming.role_arn(account_id, ADMIN_ROLE))

    def deploy(self, credentials: Mapping[str, str], *argv: str) -> None:
        """The deploy tool's own entry point, as CI calls it."""
        code = deploy.main(list(argv), environ=self.environ(credentials), out=self.out)
        if code != 0:
            raise LocalDeployError(f"deploy {' '.join(argv)} failed (exit {code})")
        if self.skipped is not None and (problem := self.skipped.problem()):
            raise LocalDeployError(f"deploy {' '.join(argv)}: {problem}")


# --------------------------------------------------------------------------- what moto skips


def prepare_moto() -> None:
    """What moto's CloudFormation in this process needs before the local AWS starts: the two
    corrections below (what AWS does, moto 5.2 does not), and libyaml to read templates."""
    drop_novalue_list_items()
    kms_key_tags_from_cloudformation()
    parse_templates_with_libyaml()


def parse_templates_with_libyaml() -> None:
    """Make moto's CloudFormation read templates with PyYAML's libyaml parser (``yaml.CLoader``), not
    its pure-Python one (``yaml.Loader``): the same constructor and resolver, so the same documents,
    at a fraction of the time (moto's template parsing was a tenth of a local deploy's CPU).

    moto 5.2 calls ``yaml.load(text, Loader=yaml.Loader)`` after registering its tag constructor
    on the module's loaders; its two modules get a ``yaml`` that hands out a loader with that
    constructor already registered. Nothing changes where PyYAML was built without libyaml."""
    from types import SimpleNamespace

    import yaml
    from moto.cloudformation import models, responses
    from moto.cloudformation.utils import yaml_tag_constructor

    if not getattr(yaml, "__with_libyaml__", False) or getattr(models.yaml, "libyaml", False):
        return

    class Loader(yaml.CLoader):
        pass

    Loader.add_multi_constructor("", yaml_tag_constructor)
    libyaml = SimpleNamespace(load=yaml.load, Loader=Loader, add_multi_constructor=lambda *_: None, libyaml=True)
    models.yaml = responses.yaml = libyaml


def drop_novalue_list_items() -> None:
    """Make moto's CloudFormation drop a list item that ``Fn::If`` resolves to ``AWS::NoValue``.

    AWS removes such an item (a policy statement that only some strategies need); moto 5.2
    keeps it as ``null`` and then refuses the policy as malformed. The local AWS runs in this
    process, so its parser is corrected here rather than the templates bent to it."""
    from moto.cloudformation import parsing

    if getattr(parsing.clean_json, "drops_novalue", False):
        return
    original = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, list):
            return [
                cleaned
                for item in resource_json
                if (cleaned := clean_json(item, resources_map)) is not None or item is None
            ]
        return original(resource_json, resources_map)

    clean_json.drops_novalue = True  # type: ignore[attr-defined]
    parsing.clean_json = clean_json


def kms_key_tags_from_cloudformation() -> None:
    """Make moto's CloudFormation accept an ``AWS::KMS::Key``'s ``Tags`` as CloudFormation writes them.

    CloudFormation's tags are ``{Key, Value}``; moto 5.2 passes them on to the KMS API's
    ``create_key``, which expects ``{TagKey, TagValue}``, and fails with ``KeyError: 'TagKey'``.
    Applied by ``prepare_moto``, as the others."""
    from moto.kms.models import Key

    original = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(original, "api_tags", False):
        return

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any, *args, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        tags = [
            {"TagKey": tag["Key"], "TagValue": tag["Value"]} if "Key" in tag else tag
            for tag in properties.get("Tags", [])
        ]
        converted = {**cloudformation_json, "Properties": {**properties, "Tags": tags}}
        return original(cls, resource_name, converted, *args, **kwargs)

    create_from_cloudformation_json.api_tags = True  # type: ignore[attr-defined]
    Key.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]  # moto's method, patched


def physical_ids(client: Any, spec: stacks.StackSpec) -> dict[str, dict[str, str]]:
    found = client.describe_stack_resources(StackName=spec.name)["StackResources"]
    return {r["LogicalResourceId"]: {"Ref": r["PhysicalResourceId"]} for r in found if r.get("PhysicalResourceId")}


def apply_skipped(
    run: Run, spec: stacks.StackSpec, credentials: Mapping[str, str], bucket_policy: bool = False
) -> list[str]:
    """Apply what moto's CloudFormation skipped or ignored in a deployed stack, from its template.

    The bucket policy only when asked: moto treats every condition but StringEquals as met,
    so it would read the policy's conditioned Deny statements (no TLS, other environments'
    roles) as unconditional and refuse every object request. It is applied after the last
    object request and then checked as stored.
    """
    cfn_client = run.client("cloudformation", credentials)
    deployed = cfn_client.describe_stacks(StackName=spec.name)["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in deployed.get("Parameters", [])}
    # The parameters the deploy tool chooses at deploy time, as deployed. (moto stores a
    # CommaDelimitedList's value as a Python list's repr: the spec's own values stand.)
    chosen = (stacks.DEPLOYER_ACCESS, stacks.CREATE_OIDC_PROVIDER)
    spec = spec.with_parameters(**{k: v for k, v in parameters.items() if k in chosen and k in spec.parameters})
    physical = physical_ids(cfn_client, spec)
    template = cfn.load_template(spec.template_path)
    applied: list[str] = []

    def rendered() -> dict[str, Any]:
        return cfn.render_template(template, spec.parameters, spec.account_id, spec.region, spec.name, physical)

    secretsmanager = run.client("secretsmanager", credentials)
    for logical_id, resource in rendered()["Resources"].items():
        if resource["Type"] != "AWS::SecretsManager::Secret":
            continue
        props = resource["Properties"]
        try:
            arn = secretsmanager.describe_secret(SecretId=props["Name"])["ARN"]
        except secretsmanager.exceptions.ResourceNotFoundException:
            arn = secretsmanager.create_secret(
                Name=props["Name"],
                Description=props.get("Description", ""),
                KmsKeyId=props["KmsKeyId"],
                SecretString=secrets.token_urlsafe(24),
                Tags=props.get("Tags", []),
            )["ARN"]
        physical[logical_id] = {"Ref": arn}
        applied.append(f"secret {props['Name']}")

    resources = rendered()["Resources"]
    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource["Properties"]
        if kind == "AWS::SecretsManager::ResourcePolicy":
            secretsmanager.put_resource_policy(
                SecretId=props["SecretId"],
                ResourcePolicy=json.dumps(props["ResourcePolicy"]),
                BlockPublicPolicy=bool(props.get("BlockPublicPolicy", False)),
            )
            applied.append(f"secret policy {logical_id}")
        elif kind == "AWS::S3::BucketPolicy" and bucket_policy:
            run.client("s3", credentials).put_bucket_policy(
                Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"])
            )
            applied.append(f"bucket policy {props['Bucket']}")
        elif kind == "AWS::S3::Bucket":
            s3 = run.client("s3", credentials)
            if "PublicAccessBlockConfiguration" in props:
                s3.put_public_access_block(
                    Bucket=props["BucketName"], PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
                )
            if "VersioningConfiguration" in props:
                s3.put_bucket_versioning(
                    Bucket=props["BucketName"], VersioningConfiguration=props["VersioningConfiguration"]
                )
            if "OwnershipControls" in props:
                s3.put_bucket_ownership_controls(
                    Bucket=props["BucketName"], OwnershipControls=props["OwnershipControls"]
                )
            applied.append(f"bucket settings {props['BucketName']}")
        elif kind == "AWS::ECR::Repository" and "RepositoryPolicyText" in props:
            run.client("ecr", credentials).set_repository_policy(
                repositoryName=props["RepositoryName"], policyText=json.dumps(props["RepositoryPolicyText"])
            )
            applied.append(f"repository policy {props['RepositoryName']}")
        elif kind == "AWS::IAM::Role" and (props.get("Policies") or props.get("ManagedPolicyArns")):
            # moto's CloudFormation stores inline policies as parsed documents, which its own
            # IAM enforcement cannot read; the plain API stores them as AWS does.
            iam = run.client("iam", credentials)
            for inline in props.get("Policies", []):
                iam.put_role_policy(
                    RoleName=props["RoleName"],
                    PolicyName=inline["PolicyName"],
                    PolicyDocument=json.dumps(inline["PolicyDocument"]),
                )
            if props.get("Policies"):
                applied.append(f"inline policies of {props['RoleName']}")
            # moto ignores a role's ManagedPolicyArns. AWS attaches them when it creates the
            # role; attaching here, by ARN, fails on a policy the stack did not create. The
            # template keeps them on the role rather than in each policy's Roles: what a role
            # carries is then read in one place, by reviewers and by the access matrix.
            for arn in cfn.as_list(props.get("ManagedPolicyArns")):
                iam.attach_role_policy(RoleName=props["RoleName"], PolicyArn=arn)
            if props.get("ManagedPolicyArns"):
                applied.append(f"managed policies of {props['RoleName']}")
        elif kind == "AWS::IAM::OIDCProvider":
            iam = run.client("iam", credentials)
            arn = cfn.Resolver(template, spec.parameters, spec.account_id, spec.region).get_att(logical_id, "Ref")
            known = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
            if arn not in known:
                iam.create_open_id_connect_provider(
                    Url=props["Url"], ClientIDList=props["ClientIdList"], ThumbprintList=props.get("ThumbprintList", [])
                )
            applied.append("GitHub OIDC provider")
    return applied
