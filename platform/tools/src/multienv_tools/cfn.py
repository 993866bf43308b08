"""Read the CloudFormation templates under ``infra/`` and resolve them for one stack.

``render(spec)`` returns the template of a ``StackSpec`` with its parameters, pseudo
parameters, conditions and references filled in: the policies exactly as AWS would see
them. The policy contract tests, the access matrix and the local deploy read policies
through it, so nobody re-derives a name or an account ID from the templates' text.

References to resources resolve to the names and ARNs AWS gives them: a role to its
name, a key to ``physical[logical_id]`` when a deployed stack says so, else to a stand-in
that names the logical ID. Needs PyYAML (a dev dependency), imported lazily.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multienv.naming import partition as partition_of

NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_SHORT_FORMS = (
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Equals",
    "Not",
    "And",
    "Or",
)


class TemplateError(ValueError):
    """A template uses something this reader cannot resolve, or refers to what does not exist."""


def load_template(path: Path, text: str | None = None) -> dict[str, Any]:
    """Parse a CloudFormation YAML template, short-form tags (``!Ref``, ``!Sub``...) included; a
    fresh copy the caller may change (``text``, when given, is the file's content already read)."""
    import yaml

    # libyaml when present: 10x faster. The ignore: mypy takes no call for a base class ("dynamic base class").
    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    def construct(tag: str):
        def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
            if isinstance(node, yaml.ScalarNode):
                value: Any = loader.construct_scalar(node)
                if tag == "GetAtt":
                    value = value.split(".", 1)
            elif isinstance(node, yaml.SequenceNode):
                value = loader.construct_sequence(node, deep=True)
            else:
                value = loader.construct_mapping(node, deep=True)
            key = tag if tag in ("Ref", "Condition") else f"Fn::{tag}"
            return {key: value}

        return _construct

    for tag in (*_SHORT_FORMS, "Ref", "Condition"):
        Loader.add_constructor(f"!{tag}", construct(tag))
    if text is None:
        text = Path(path).read_text(encoding="utf-8")
    return yaml.load(text, Loader=Loader)  # noqa: S506 - SafeLoader subclass with CFN tags only


_PARSED: dict[tuple[str, str], dict[str, Any]] = {}


def shared_template(path: Path) -> Mapping[str, Any]:
    """The parsed template, parsed once per distinct text: a renderer reads it and never changes it.

    Rendering every stack parses the same few files dozens of times; keyed by the file's text,
    an edited file is parsed again. Whoever wants to change a template takes ``load_template``.
    """
    text = Path(path).read_text(encoding="utf-8")
    key = (str(path), text)
    if key not in _PARSED:
        _PARSED[key] = load_template(path, text)
    return _PARSED[key]


@dataclass(frozen=True)
class Policy:
    """One policy document found in a rendered template."""

    resource: str  # logical ID
    resource_type: str
    kind: str  # trust, identity, boundary, bucket, key, repository, secret
    name: str  # the policy's name, or the role/resource it sits on
    document: dict[str, Any]


class Resolver:
    """Resolves intrinsic functions of one template for one stack."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str],
        account_id: str,
        region: str,
        stack_name: str = "stack",
        physical: Mapping[str, Mapping[str, str]] | None = None,
    ):
        self.template = template
        self.account_id = account_id
        self.region = region
        self.partition = partition_of(region)
        self.stack_name = stack_name
        self.physical = physical or {}
        self.parameters = self._parameters(parameters)
        self.conditions: dict[str, bool] = {}
        # A resource's resolved properties, for its name and ARN: resolved once, however many refer to it.
        self._properties: dict[str, Any] = {}
        for name in template.get("Conditions", {}) or {}:
            self.condition(name)

    def _parameters(self, given: Mapping[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        declared = self.template.get("Parameters", {}) or {}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise TemplateError(f"parameters {unknown} are not declared by the template")
        for name, spec in declared.items():
            value: Any  # a string given or a default; a list once split (CommaDelimitedList)
            if name in given:
                value = given[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no value and no default")
            allowed = spec.get("AllowedValues")
            if allowed is not None and str(value) not in [str(a) for a in allowed]:
                raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
            pattern = spec.get("AllowedPattern")
            if pattern is not None and not re.fullmatch(pattern, str(value)):
                raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")
            if spec.get("Type") == "CommaDelimitedList":
                value = [v.strip() for v in str(value).split(",")]
            values[name] = value
        return values

    def pseudo(self, name: str) -> Any:
        table = {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name not in table:
            raise TemplateError(f"pseudo parameter {name} is not supported here")
        return table[name]

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            definitions = self.template.get("Conditions", {}) or {}
            if name not in definitions:
                raise TemplateError(f"condition {name} is not defined")
            self.conditions[name] = bool(self.resolve(definitions[name]))
        return self.conditions[name]

    # --- references ---------------------------------------------------------
    def _resource(self, logical_id: str) -> Mapping[str, Any]:
        resources = self.template.get("Resources", {})
        if logical_id not in resources:
            raise TemplateError(f"{logical_id} is neither a parameter nor a resource")
        return resources[logical_id]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical and "Ref" in self.physical[name]:
            return self.physical[name]["Ref"]
        return self._attribute(name, "Ref")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id in self.physical and attribute in self.physical[logical_id]:
            return self.physical[logical_id][attribute]
        return self._attribute(logical_id, attribute)

    def _attribute(self, logical_id: str, attribute: str) -> str:
        resource = self._resource(logical_id)
        kind = resource["Type"]
        if logical_id not in self._properties:
            self._properties[logical_id] = self.resolve(resource.get("Properties", {}))
        props = self._properties[logical_id]
        arn = f"arn:{self.partition}"
        region, account = self.region, self.account_id
        stand_in = self.physical.get(logical_id, {}).get("Ref", f"{logical_id}-id")
        # A key's ID names its stack too: every environment's data stack makes a DataKey, and where
        # environments share an account their keys (and key policies) must stay apart.
        key_id = stand_in if logical_id in self.physical or not self.stack_name else f"{self.stack_name}-{stand_in}"
        names = {
            "AWS::IAM::Role": (props.get("RoleName"), f"{arn}:iam::{account}:role/{props.get('RoleName')}"),
            "AWS::IAM::ManagedPolicy": (
                f"{arn}:iam::{account}:policy/{props.get('ManagedPolicyName')}",
                f"{arn}:iam::{account}:policy/{props.get('ManagedPolicyName')}",
            ),
            "AWS::KMS::Key": (key_id, f"{arn}:kms:{region}:{account}:key/{key_id}"),
            "AWS::KMS::Alias": (props.get("AliasName"), None),
            "AWS::S3::Bucket": (props.get("BucketName"), f"{arn}:s3:::{props.get('BucketName')}"),
            "AWS::ECR::Repository": (
                props.get("RepositoryName"),
                f"{arn}:ecr:{region}:{account}:repository/{props.get('RepositoryName')}",
            ),
            "AWS::SecretsManager::Secret": (
                f"{arn}:secretsmanager:{region}:{account}:secret:{props.get('Name')}",
                None,
            ),
            "AWS::Logs::LogGroup": (
                props.get("LogGroupName"),
                f"{arn}:logs:{region}:{account}:log-group:{props.get('LogGroupName')}:*",
            ),
            "AWS::Lambda::Function": (
                props.get("FunctionName"),
                f"{arn}:lambda:{region}:{account}:function:{props.get('FunctionName')}",
            ),
            "AWS::IAM::OIDCProvider": (
                f"{arn}:iam::{account}:oidc-provider/{str(props.get('Url', '')).removeprefix('https://')}",
                None,
            ),
        }
        if kind not in names:
            raise TemplateError(f"{logical_id}: references to {kind} are not supported here")
        ref, resource_arn = names[kind]
        if attribute == "Ref":
            return ref
        if attribute == "Arn" and resource_arn is not None:
            return resource_arn
        raise TemplateError(f"{logical_id}.{attribute} ({kind}) is not supported here")

    # --- intrinsic functions ------------------------------------------------
    def sub(self, text: str, variables: Mapping[str, Any] | None = None) -> str:
        variables = variables or {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            value = self.ref(name)
            if isinstance(value, list):
                raise TemplateError(f"Sub variable {name} is a list and cannot be put in a string")
            return str(value)

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), *_ = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Condition" and isinstance(value, str):
                return self.condition(value)
            if key.startswith("Fn::"):
                return self._function(key[4:], value)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _function(self, name: str, args: Any) -> Any:
        if name == "Sub":
            if isinstance(args, str):
                return self.sub(args)
            text, variables = args
            return self.sub(text, self.resolve(variables))
        if name == "GetAtt":
            logical_id, attribute = args if isinstance(args, list) else args.split(".", 1)
            return self.get_att(logical_id, attribute)
        if name == "If":
            condition, when_true, when_false = args
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Equals":
            left, right = (self.resolve(a) for a in args)
            return str(left) == str(right)
        if name == "Not":
            return not self.resolve(args[0])
        if name == "And":
            return all(self.resolve(a) for a in args)
        if name == "Or":
            return any(self.resolve(a) for a in args)
        if name == "Join":
            separator, items = args
            return separator.join(str(i) for i in self.resolve(items))
        if name == "Select":
            index, items = args
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Split":
            separator, text = args
            return str(self.resolve(text)).split(separator)
        if name == "FindInMap":
            table, first, second = (self.resolve(a) for a in args)
            # A copy: a rendered template never shares a value with the parsed one.
            return copy.deepcopy(self.template["Mappings"][table][first][second])
        raise TemplateError(f"Fn::{name} is not supported here")


def render_template(
    template: Mapping[str, Any],
    parameters: Mapping[str, str],
    account_id: str,
    region: str,
    stack_name: str = "stack",
    physical: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """The template's resources with every intrinsic function resolved; resources whose
    condition is false are left out."""
    resolver = Resolver(template, parameters, account_id, region, stack_name, physical)
    resources: dict[str, Any] = {}
    for logical_id, resource in (template.get("Resources", {}) or {}).items():
        condition = resource.get("Condition")
        if condition is not None and not resolver.condition(condition):
            continue
        rendered = copy.deepcopy(dict(resource))
        rendered["Properties"] = resolver.resolve(resource.get("Properties", {}))
        resources[logical_id] = rendered
    outputs = {}
    for name, output in (template.get("Outputs", {}) or {}).items():
        condition = output.get("Condition")
        if condition is not None and not resolver.condition(condition):
            continue
        outputs[name] = resolver.resolve(output["Value"])
    return {"Resources": resources, "Outputs": outputs, "Conditions": dict(resolver.conditions)}


def render(spec, physical: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
    """Render the template of a ``stacks.StackSpec`` with its parameters and target."""
    return render_template(
        shared_template(spec.template_path),
        spec.parameters,
        spec.account_id,
        spec.region,
        spec.name,
        physical,
    )


_RESOURCE_POLICIES = {
    "AWS::S3::BucketPolicy": ("bucket", "PolicyDocument", "Bucket"),
    "AWS::KMS::Key": ("key", "KeyPolicy", None),
    "AWS::ECR::Repository": ("repository", "RepositoryPolicyText", "RepositoryName"),
    "AWS::SecretsManager::ResourcePolicy": ("secret", "ResourcePolicy", "SecretId"),
}


def policies(rendered: Mapping[str, Any]) -> Iterator[Policy]:
    """Every policy document of a rendered template, with what kind of policy it is."""
    for logical_id, resource in rendered["Resources"].items():
        kind = resource["Type"]
        props = resource["Properties"]
        if kind == "AWS::IAM::Role":
            role = props["RoleName"]
            yield Policy(logical_id, kind, "trust", role, props["AssumeRolePolicyDocument"])
            for inline in props.get("Policies", []):
                yield Policy(logical_id, kind, "identity", f"{role}/{inline['PolicyName']}", inline["PolicyDocument"])
        elif kind == "AWS::IAM::ManagedPolicy":
            yield Policy(logical_id, kind, "managed", props["ManagedPolicyName"], props["PolicyDocument"])
        elif kind in _RESOURCE_POLICIES:
            policy_kind, field, name_field = _RESOURCE_POLICIES[kind]
            if field in props:
                name = props.get(name_field, logical_id) if name_field else logical_id
                yield Policy(logical_id, kind, policy_kind, str(name), props[field])


def statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def principals(statement: Mapping[str, Any], kind: str = "AWS") -> list[str]:
    """The principals of a statement of one kind (AWS, Service, Federated); ``*`` as given."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if not isinstance(principal, Mapping):
        return []
    return [str(p) for p in as_list(principal.get(kind))]
