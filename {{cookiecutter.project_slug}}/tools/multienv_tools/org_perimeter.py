"""The organization-level perimeter (``org/perimeter.yaml``): its parameters and the cases that prove it.

IAM inside an account cannot stop the account's own administrator, cannot see whom a trust
policy names, and cannot tell one GitHub tenant from another. A service control policy (SCP)
and a resource control policy (RCP) attached in AWS Organizations can. The template takes
every name from here (``parameters``), so it derives nothing itself;
``python -m multienv_tools.org_perimeter --org-id o-... --targets ou-...`` prints the command that
deploys it in the management account.

``perimeter_cases`` are what ``make check-access`` simulates: each is a request the accounts'
IAM alone allows (checked without the perimeter) and the perimeter denies (checked with it),
or a request the perimeter must leave alone (this repository's own jobs, the administrators).
"""

from __future__ import annotations

import argparse
import shlex
import sys
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
FULL_AWS_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
ANY_ACTION = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


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
        "PlatformArns": ",".join(platform_arns(settings)),
        "AdministratorRoles": ",".join(n.role_arn("*", name) for name in administrators),
    }


def stack_name(settings: Settings) -> str:
    return settings.naming.stack(DEVOPS, "org-perimeter")


def render(settings: Settings, org_id: str = SAMPLE_ORG_ID, targets: tuple[str, ...] = ("r-ab12",)) -> dict[str, dict]:
    """The two policies as AWS would store them: ``{"scp": document, "rcp": document}``."""
    template = shared_template(settings.root / ORG_TEMPLATE)
    rendered = render_template(
        template, parameters(settings, org_id, list(targets)), settings.devops.id, settings.region, stack_name(settings)
    )
    kinds = {"SERVICE_CONTROL_POLICY": "scp", "RESOURCE_CONTROL_POLICY": "rcp"}
    return {
        kinds[body["Properties"]["Type"]]: body["Properties"]["Content"]
        for body in rendered["Resources"].values()
        if body["Type"] == "AWS::Organizations::Policy"
    }


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
    context: dict[str, str | list[str]] = field(default_factory=dict)

    @property
    def principal_account(self) -> str:
        return self.principal.split(":")[4]

    def simulation(self, perimeter: dict[str, dict] | None) -> dict:
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
                            {"name": "perimeter-scp", "policy": perimeter["scp"]},
                        ],
                    }
                ]
            request["resourceControlPolicies"] = [
                {"orgIdentifier": "ou-perimeter", "policies": [{"name": "perimeter-rcp", "policy": perimeter["rcp"]}]}
            ]
        return request


def _trust(principal: dict, action: str = "sts:AssumeRole") -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": action}]}


def perimeter_cases(settings: Settings) -> list[OrgCase]:
    """What the perimeter closes, and what it leaves open, in every account of the project."""
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
    for env in settings.environments:
        homes.setdefault(env.account.id, env.name)
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
        admin = n.role_arn(account, "account-admin")
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


def requests(cases: list[OrgCase], perimeter: dict[str, dict], first_id: int) -> list[dict]:
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
