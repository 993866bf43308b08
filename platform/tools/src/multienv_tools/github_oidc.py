"""Which of this repository's roles a GitHub OIDC token may assume: ``make who-can-assume CLAIMS=<file>``.

    python -m multienv_tools.github_oidc CLAIMS.json    # each role the token may assume, one name a line

The file holds a token's claims as GitHub issues them (``iss``, ``aud``, ``sub``, ``repository``,
``repository_id``, ``repository_owner_id``, ``environment``, ``job_workflow_ref``, ``ref`` ...), or
the same wrapped as ``{"claims": {...}}``. Every role of every stack (``stack_specs``) is rendered
as CloudFormation would create it, and each statement of its trust policy that lets GitHub's
provider call ``sts:AssumeRoleWithWebIdentity`` is asked, with the token's claims as condition keys.

Two evaluators share the work, per statement, and both must say yes:

- the access matrix's simulator (``access/simulate.cjs``, iam-simulate) evaluates the claim keys
  AWS's Service Authorization Reference lists for the action (``SIMULATED``: ``repository_id``,
  ``repository_owner_id``, ``environment``, ``job_workflow_ref``, ``ref``...);
- ``aud`` and ``sub`` are not in that list (STS has always evaluated them; they are the provider's
  standard claims, not listed keys), so iam-simulate drops them from the request and a condition
  on them never matches (``platform/tests/test_github_oidc.py`` holds both outcomes). They are
  evaluated here, with the documented semantics of the two operators the trusts use:
  ``StringEquals`` (exact, case-sensitive) and ``StringLike`` (the same, with ``*`` any run and
  ``?`` one character); several values of one key match when any does, several keys when all do,
  and a claim the token lacks matches nothing. A trust using any other operator or key on these
  two claims is refused rather than guessed at.

``attack_tokens`` writes the attacker's tokens (the repository's own deploys, both subject forms, a
squatter's, another workflow file's, a branch's, a pull request's, another audience's, another
owner's) with the roles each may assume; ``make check-access`` runs them through the same code.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from multienv.settings import GITHUB_ID_PLACEHOLDER, Settings, SettingsError, load_settings

from .pipeline import DEFAULT_REF, DEPLOY_ENVIRONMENT_WORKFLOW, DEPLOY_WORKFLOW, DRIFT_WORKFLOW, stages

ISSUER = "https://token.actions.githubusercontent.com"
PROVIDER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
ACTION = "sts:AssumeRoleWithWebIdentity"
# The GitHub claim keys iam-simulate 0.1.173 knows for the action (its copy of AWS's Service
# Authorization Reference): it evaluates them when they come as context variables.
SIMULATED = frozenset(
    {
        "actor",
        "actor_id",
        "enterprise_id",
        "environment",
        "job_workflow_ref",
        "ref",
        "repository",
        "repository_id",
        "repository_owner_id",
        "workflow",
    }
)
# The standard claims STS evaluates that iam-simulate drops: evaluated here, with these operators.
EVALUATED_HERE = frozenset({"aud", "sub"})


class ClaimsError(ValueError):
    """The claims file cannot be read as a GitHub OIDC token's claims."""


def read_claims(path: Path) -> dict[str, str]:
    """The token's claims from a JSON file, plain or wrapped in ``{"claims": ...}``; values as strings."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ClaimsError(f"{path}: no such file (CLAIMS= names a JSON file of a token's claims)") from None
    except OSError as error:
        raise ClaimsError(f"{path}: cannot be read: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ClaimsError(
            f"{path}: not JSON (line {error.lineno}, column {error.colno}: {error.msg}); "
            'expected an object of claims such as {"sub": "repo:OWNER/REPO:environment:prd", ...}'
        ) from None
    if isinstance(data, Mapping) and isinstance(data.get("claims"), Mapping):
        data = data["claims"]
    if not isinstance(data, Mapping) or not data:
        raise ClaimsError(f"{path}: expected a JSON object of a token's claims" + ' (or {"claims": {...}})')
    return claims_of(data, str(path))


def claims_of(data: Mapping[str, object], where: str = "claims") -> dict[str, str]:
    """Claims with scalar values as strings (GitHub writes IDs as strings; a number is read as one)."""
    claims: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (str, int)):
            claims[str(key)] = str(value)
        elif key in SIMULATED | EVALUATED_HERE:
            raise ClaimsError(f"{where}: claim {key!r} is {type(value).__name__}, not a string")
    return claims


# --------------------------------------------------------------------------- the two operators


def _like(pattern: str, value: str) -> bool:
    """IAM's StringLike: ``*`` any run of characters, ``?`` one, everything else itself, with case."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


OPERATORS = {"StringEquals": lambda pattern, value: pattern == value, "StringLike": _like}


def condition_holds(operator: str, key: str, expected: str | list[str], claims: Mapping[str, str]) -> bool:
    """One condition on a claim evaluated here: any of the values matches, an absent claim matches nothing."""
    claim = key.split(":", 1)[1]
    if claim not in claims:
        return False
    values = expected if isinstance(expected, list) else [expected]
    return any(OPERATORS[operator](str(v), claims[claim]) for v in values)


# --------------------------------------------------------------------------- the trust statements


@dataclass
class Check:
    """One trust statement of one role: the part the simulator decides, and the part decided here."""

    role: str  # ARN
    account: str
    statement: dict  # without the conditions on EVALUATED_HERE keys
    local: list[tuple[str, str, str | list[str]]]  # (operator, key, values)
    denies: list[dict] = field(default_factory=list)

    def local_holds(self, claims: Mapping[str, str]) -> bool:
        return all(condition_holds(op, key, values, claims) for op, key, values in self.local)

    def simulation(self, claims: Mapping[str, str]) -> dict:
        context = {f"{PROVIDER}:{k}": v for k, v in claims.items() if k in SIMULATED}
        trust = {"Version": "2012-10-17", "Statement": [self.statement, *self.denies]}
        return {
            "request": {
                "principal": self.statement["Principal"]["Federated"],
                "action": ACTION,
                "resource": {"resource": self.role, "accountId": self.account},
                "contextVariables": context,
            },
            "identityPolicies": [],
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
            "resourcePolicy": trust,
        }


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _is_github_federation(statement: Mapping) -> bool:
    federated = (
        (statement.get("Principal") or {}).get("Federated") if isinstance(statement.get("Principal"), Mapping) else None
    )
    actions = _listed(statement.get("Action", []))
    return (
        bool(federated)
        and any(str(f).endswith(f":oidc-provider/{PROVIDER}") for f in _listed(federated))
        and (ACTION in actions or "sts:*" in actions or "*" in actions)
    )


def _split(statement: Mapping, where: str) -> tuple[dict, list[tuple[str, str, str | list[str]]]]:
    """The statement without its conditions on ``aud``/``sub``, and those conditions."""
    kept: dict[str, dict] = {}
    local = []
    for operator, block in (statement.get("Condition") or {}).items():
        for key, values in block.items():
            provider, _, claim = key.partition(":")
            if provider == PROVIDER and claim in EVALUATED_HERE:
                if operator not in OPERATORS:
                    raise ClaimsError(
                        f"{where}: {operator} on {key}: only {', '.join(OPERATORS)} are evaluated for this claim"
                    )
                local.append((operator, key, values))
            else:
                if provider == PROVIDER and claim not in SIMULATED:
                    raise ClaimsError(f"{where}: condition key {key} is evaluated neither by the simulator nor here")
                kept.setdefault(operator, {})[key] = values
    reduced = {k: v for k, v in statement.items() if k != "Condition"}
    if kept:
        reduced["Condition"] = kept
    return reduced, local


def checks(roles: Mapping[str, tuple[str, dict]]) -> list[Check]:
    """``{role ARN: (account, trust policy)}`` -> one ``Check`` per statement trusting GitHub's jobs."""
    found = []
    for arn, (account, trust) in roles.items():
        statements = _listed(trust.get("Statement", []))
        denies = [s for s in statements if s.get("Effect") == "Deny" and _is_github_federation(s)]
        for deny in denies:
            if _split(deny, arn)[1]:
                raise ClaimsError(f"{arn}: a Deny on aud or sub in a trust is not evaluated here")
        for statement in statements:
            if statement.get("Effect") == "Allow" and _is_github_federation(statement):
                reduced, local = _split(statement, arn)
                found.append(Check(arn, account, reduced, local, denies))
    return found


def role_trusts(settings: Settings) -> dict[str, tuple[str, dict]]:
    """Every role the stacks create, with its account and trust policy, as CloudFormation would create it."""
    from .access_policies import collect_policies, render_all

    policies = collect_policies(render_all(settings))
    return {arn: (role.account, role.trust) for arn, role in policies.roles.items()}


def requests(all_checks: list[Check], claims: Mapping[str, str]) -> list[tuple[Check, dict | None]]:
    """Per check, the simulation to run, or None where the token fails the conditions decided here
    (or comes from another issuer, which GitHub's provider never accepts)."""
    foreign = claims.get("iss", ISSUER) != ISSUER
    return [(c, None if foreign or not c.local_holds(claims) else c.simulation(claims)) for c in all_checks]


def allowed_roles(decided: Iterable[tuple[Check, str | None]]) -> list[str]:
    """The role names some statement of whose trust allows the token, sorted."""
    return sorted({c.role.rsplit("/", 1)[-1] for c, decision in decided if decision == "Allowed"})


def submit(all_checks: list[Check], tokens: list[Mapping[str, str]], simulator) -> list[list[tuple[Check, int | None]]]:
    """Queue every simulation the tokens need; per token, each check with its request number (None: not asked)."""
    return [
        [(c, simulator.submit(sim) if sim is not None else None) for c, sim in requests(all_checks, claims)]
        for claims in tokens
    ]


def verdicts(planned: list[list[tuple[Check, int | None]]], answers: list[dict]) -> list[list[str]]:
    """For each token, the roles it may assume, from the simulator's answers to ``submit``'s requests."""
    return [allowed_roles((c, answers[n]["decision"] if n is not None else None) for c, n in plan) for plan in planned]


def who_can_assume(all_checks: list[Check], tokens: list[Mapping[str, str]], simulator) -> list[list[str]]:
    """For each token, the roles it may assume (``submit``, then the simulator's answers)."""
    planned = submit(all_checks, tokens, simulator)
    return verdicts(planned, simulator.answers())


# --------------------------------------------------------------------------- the attacker's tokens


def token(
    settings: Settings,
    *,
    env: str | None,
    workflow: str = DEPLOY_ENVIRONMENT_WORKFLOW,
    ref: str = DEFAULT_REF,
    immutable: bool = False,
    repository: str | None = None,
    repository_id: str | None = None,
    owner_id: str | None = None,
    audience: str = AUDIENCE,
    event: str = "push",
    sub: str | None = None,
) -> dict[str, str]:
    """A token's claims as GitHub issues them for a job of ``workflow`` (the called file, for a job of a
    reusable workflow) in ``env`` (None: no environment), on ``ref``; this repository's unless told."""
    repository = repository or settings.github_repository
    owner, _, name = repository.partition("/")
    owner_id = owner_id or settings.github_owner_id or GITHUB_ID_PLACEHOLDER
    repository_id = repository_id or settings.github_repository_id or GITHUB_ID_PLACEHOLDER
    where = f"{owner}@{owner_id}/{name}@{repository_id}" if immutable else repository
    context = f"environment:{env}" if env else ("pull_request" if event == "pull_request" else f"ref:{ref}")
    caller = DEPLOY_WORKFLOW if workflow == DEPLOY_ENVIRONMENT_WORKFLOW else workflow
    claims = {
        "iss": ISSUER,
        "aud": audience,
        "sub": sub or f"repo:{where}:{context}",
        "repository": repository,
        "repository_id": repository_id,
        "repository_owner": owner,
        "repository_owner_id": owner_id,
        "repository_visibility": "private",
        "actor": "octocat",
        "actor_id": "583231",
        "workflow": Path(caller).stem,
        "workflow_ref": f"{repository}/{caller}@{ref}",
        "job_workflow_ref": f"{repository}/{workflow}@{ref}",
        "ref": ref,
        "ref_type": "branch",
        "event_name": event,
        "runner_environment": "github-hosted",
    }
    if env:
        claims["environment"] = env
    return claims


@dataclass(frozen=True)
class AttackToken:
    why: str
    claims: dict[str, str]
    expect: tuple[str, ...]  # role names, sorted


def attack_tokens(settings: Settings) -> list[AttackToken]:
    """The tokens an attacker (or the repository itself) can present, each with the roles it may assume."""
    n = settings.naming
    repo = settings.github_repository
    owner, _, name = repo.partition("/")
    # IDs no one of this repository has: a squatter on a freed name, another owner.
    other_owner_id, other_repo_id = "987654321", "876543210"
    out: list[AttackToken] = []
    for stage in stages((e.name, e.tier) for e in settings.environments):
        env = stage.environment
        own = (n.ci_role(env),)
        branch = "refs/heads/feature"
        out += [
            AttackToken(f"{env}: the repository's own deploy on {DEFAULT_REF}", token(settings, env=env), own),
            AttackToken(f"{env}: the same, with the immutable subject", token(settings, env=env, immutable=True), own),
            AttackToken(
                f"{env}: a squatter on {repo} (other IDs), name subject",
                token(settings, env=env, owner_id=other_owner_id, repository_id=other_repo_id),
                (),
            ),
            AttackToken(
                f"{env}: a squatter on {repo} (other IDs), immutable subject",
                token(settings, env=env, owner_id=other_owner_id, repository_id=other_repo_id, immutable=True),
                (),
            ),
            AttackToken(
                f"{env}: a new repository of the same owner under the freed name {repo}",
                token(settings, env=env, repository_id=other_repo_id),
                (),
            ),
            AttackToken(
                f"{env}: another workflow file naming environment {env}",
                token(settings, env=env, workflow=".github/workflows/evil.yml"),
                (),
            ),
            AttackToken(
                f"{env}: deploy-environment.yml called from a branch",
                token(settings, env=env, ref=branch, immutable=True),
                () if stage.is_production else own,
            ),
            AttackToken(
                f"{env}: deploy-environment.yml of {DEFAULT_REF} called by a branch's workflow",
                {
                    **token(settings, env=env, ref=branch),
                    "job_workflow_ref": f"{repo}/{DEPLOY_ENVIRONMENT_WORKFLOW}@{DEFAULT_REF}",
                },
                () if stage.is_production else own,
            ),
            AttackToken(
                f"{env}: another audience", token(settings, env=env, audience=f"https://github.com/{owner}"), ()
            ),
            AttackToken(
                f"{env}: another owner's repository of the same name",
                token(settings, env=env, repository=f"someone-else/{name}", owner_id=other_owner_id),
                (),
            ),
            AttackToken(
                f"{env}: a token of another issuer", {**token(settings, env=env), "iss": "https://attacker.example"}, ()
            ),
        ]
    out += [
        AttackToken(
            "a pull request's job (no environment)",
            token(settings, env=None, ref="refs/pull/7/merge", event="pull_request"),
            (),
        ),
        AttackToken(
            "a pull request's job calling deploy-environment.yml for the first environment",
            token(settings, env=settings.names[0], ref="refs/pull/7/merge", event="pull_request"),
            (),
        ),
        AttackToken(
            f"the drift workflow on {DEFAULT_REF}",
            token(settings, env=None, workflow=DRIFT_WORKFLOW, event="schedule"),
            (n.drift_role(),),
        ),
        AttackToken(
            f"the drift workflow on {DEFAULT_REF}, immutable subject",
            token(settings, env=None, workflow=DRIFT_WORKFLOW, event="schedule", immutable=True),
            (n.drift_role(),),
        ),
        AttackToken(
            "the drift workflow run from a branch",
            token(settings, env=None, workflow=DRIFT_WORKFLOW, event="workflow_dispatch", ref="refs/heads/feature"),
            (),
        ),
        AttackToken(
            f"another workflow file on {DEFAULT_REF} without an environment",
            token(settings, env=None, workflow=".github/workflows/evil.yml"),
            (),
        ),
        AttackToken(
            "the drift workflow of a squatter on the same name",
            token(
                settings,
                env=None,
                workflow=DRIFT_WORKFLOW,
                owner_id=other_owner_id,
                repository_id=other_repo_id,
                immutable=True,
            ),
            (),
        ),
    ]
    return [AttackToken(t.why, t.claims, tuple(sorted(t.expect))) for t in out]


def failures(attacks: list[AttackToken], verdicts: list[list[str]]) -> list[str]:
    def names(roles) -> str:
        return ", ".join(roles) or "nothing"

    return [
        f"FAIL github token: {a.why}: may assume {names(got)}, expected {names(a.expect)}"
        f" (sub {a.claims.get('sub')}, job_workflow_ref {a.claims.get('job_workflow_ref')})"
        for a, got in zip(attacks, verdicts, strict=True)
        if tuple(got) != a.expect
    ]


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    from .access_policies import AccessError
    from .simulator import Simulator

    parser = argparse.ArgumentParser(prog="who-can-assume", description=__doc__.splitlines()[0])
    parser.add_argument("claims", type=Path, help="JSON file of a GitHub OIDC token's claims")
    parser.add_argument("--node-modules", type=Path, default=None, help="where npm installed iam-simulate")
    args = parser.parse_args(argv)
    try:
        claims = read_claims(args.claims)
        settings = load_settings()
        all_checks = checks(role_trusts(settings))
        node_modules = args.node_modules or settings.root / "access" / "node_modules"
        with Simulator(node_modules, settings.root) as simulator:
            (roles,) = who_can_assume(all_checks, [claims], simulator)
    except (ClaimsError, SettingsError, AccessError) as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    for role in roles:
        print(role)
    return 0


if __name__ == "__main__":
    sys.exit(main())
