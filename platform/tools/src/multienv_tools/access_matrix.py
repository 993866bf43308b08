"""The access matrix: every case simulated against the real policies.

The cases: the platform's, ``access/generated-cases.csv`` (``multienv synth`` renders them from
``multienv.toml``); the team's own, ``access/cases.csv``; and each function role's reads of the
secrets and parameters ``config/<env>.toml`` references (``persona_cases.secret_cases``, made here
from the configuration as it is, so a new reference is checked with no step in between).

``python -m multienv_tools.access_matrix`` (``make check-access``) renders every stack of
``stack_specs`` (the persona stacks included) with their parameters from ``multienv.toml``,
collects each role's identity policies, permissions boundary and trust policy and every
resource policy (bucket, secret, repository, key), and asks ``@cloud-copilot/iam-simulate``
(``access/simulate.cjs``, one node process fed as the cases are built) for the decision of each case,
with AWS's evaluation logic: explicit Deny wins, a boundary caps, and a cross-account
request needs both the identity and the resource side. It also runs parliament on every
identity policy. Exit status 1 when any case or finding fails.

``--only KIND[,KIND...]`` simulates only the cases of those principals (a persona, ``deployer``,
``cfn-exec``, ``ci`` (with GitHub's tokens), ``drift``, ``drift-reader``, ``bounded-role``, ``app-role``,
``identity``, ``outsider``) and, with
``org-perimeter``, the perimeter's: a quicker answer while a policy is being changed. It skips
parliament and never counts as the full check.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from multienv.settings import Settings, load_settings

from .access_cases import (
    BOUNDED_ROLE,
    OUTSIDER,
    World,
    read_cases,
    simulation,
)
from .access_lint import in_background, parliament_findings, read_skips
from .access_policies import (
    AccessError,
    add_peer_trusts,
    attack_layout,
    collect_policies,
    render_all,
)
from .attack_expansion import attack_cases
from .attack_expansion import counts as scope_counts
from .attack_verdict import judge, report
from .attack_verdict import requests as attack_requests
from .github_oidc import attack_tokens
from .github_oidc import checks as github_checks
from .github_oidc import failures as github_failures
from .github_oidc import submit as github_submit
from .github_oidc import verdicts as github_verdicts
from .org_perimeter import ORG_TEMPLATE, iam_actions, perimeter_cases
from .org_perimeter import failures as org_perimeter_failures
from .org_perimeter import render as render_perimeter
from .org_perimeter import requests as org_requests
from .persona_cases import CASE_FIELDS, GENERATED_CASES_FILE, TEAM_CASES_FILE, Case, secret_cases
from .persona_stacks import load_trust
from .persona_trust import IDENTITY
from .personas import PERSONAS
from .simulator import Simulator

CASES_FILE = Path(TEAM_CASES_FILE)


SKIPS_FILE = Path("access") / "parliament-skips.toml"

# What --only selects by: the principal of a case (designed or generated), or the perimeter's cases.
ORG_PERIMETER = "org-perimeter"
KINDS = (
    *PERSONAS,
    "deployer",
    "cfn-exec",
    "ci",
    "drift",
    "drift-reader",
    BOUNDED_ROLE,
    "app-role",
    "data-export",
    "data-import",
    IDENTITY,
    OUTSIDER,
    ORG_PERIMETER,
)


def parse_only(text: str | None) -> frozenset[str] | None:
    """``--only``'s kinds; an unknown one is refused with the allowed ones."""
    if text is None:
        return None
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"--only: {', '.join(map(repr, unknown)) or repr(text)} is not a kind; use {', '.join(KINDS)}")
    return frozenset(kinds)


# --------------------------------------------------------------------------- main


def _decision(raw: str) -> str:
    return "allow" if raw == "Allowed" else ("deny" if raw in ("ExplicitlyDenied", "ImplicitlyDenied") else raw)


def designed_cases(settings: Settings, world: World, cases_path: Path) -> list[tuple[str, Case]]:
    """``(where, case)`` of every designed case: the generated file's, the team's file's (``cases_path``),
    and the configuration's secret reads; ``where`` names the line, or the configuration file."""
    generated = settings.root / GENERATED_CASES_FILE
    if not generated.is_file():
        raise AccessError(f"{generated}: missing: `make synth` renders it from multienv.toml (then commit it)")
    if not cases_path.is_file():
        raise AccessError(
            f"{cases_path}: missing: the team's cases file, at least the header row {','.join(CASE_FIELDS)}"
        )
    cases = [(f"{path}:{n}", case) for path in (generated, cases_path) for n, case in read_cases(path)]
    return cases + [
        (f"config/{case.principal_env}.toml [secrets.{case.resource.split(':', 1)[1]}]", case)
        for case in secret_cases(secret_references(world))
    ]


def check(
    settings: Settings,
    cases_path: Path,
    node_modules: Path,
    out=sys.stdout,
    exhaustive: bool = False,
    only: frozenset[str] | None = None,
) -> int:
    started = time.perf_counter()
    policies = collect_policies(render_all(settings))
    # parliament works on its own core while the requests are built; the simulator decides them
    # as they come (started after the fork, so the child holds none of its threads).
    skips = read_skips(settings.root / SKIPS_FILE)
    lint = None if only else in_background(parliament_findings, policies, skips, "MEDIUM", settings.names)
    world = World(settings, load_trust(settings))
    with Simulator(node_modules, settings.root) as simulator:
        cases = designed_cases(settings, world, cases_path)
        skipped_cases = [(where, c, world.skip_reason(c, where)) for where, c in cases]
        for where, case, reason in skipped_cases:
            if reason:
                print(f"skip {where}: {case.principal} {case.action} {case.resource}: {reason}", file=out)
        cases = [(w, c) for w, c, reason in skipped_cases if not reason and (not only or c.principal in only)]
        for where, case in cases:
            simulator.submit(simulation(policies, world, case, where))
        layout = attack_layout(settings, policies)
        add_peer_trusts(settings, policies, layout.peer.slug)
        attacks = attack_cases(layout, exhaustive, kinds=only or None)
        for request in attack_requests(attacks, lambda case, where: simulation(policies, world, case, where), 0):
            simulator.submit(request["simulation"])
        perimeter = render_perimeter(settings) if (settings.root / ORG_TEMPLATE).is_file() else None
        wanted = perimeter and (not only or ORG_PERIMETER in only)
        org_cases = perimeter_cases(settings, iam_actions(node_modules)) if wanted else []
        for request in org_requests(org_cases, perimeter, 0):
            simulator.submit(request["simulation"])
        # GitHub's tokens, the repository's own and an attacker's, against every role trusting GitHub's jobs.
        tokens = attack_tokens(settings) if not only or "ci" in only else []
        trusts = {arn: (role.account, role.trust) for arn, role in policies.roles.items()}
        planned = github_submit(github_checks(trusts), [t.claims for t in tokens], simulator)
        if only and not (cases or attacks or org_cases or tokens):
            raise ValueError(f"--only {','.join(sorted(only))}: no case of this project has these principals")
        answers, (findings, skipped) = simulator.answers(meanwhile=lint or (lambda: ([], 0)))
    attack_answers = answers[len(cases) : len(cases) + len(attacks)]
    # A selection can leave out the case a known-open entry matches: staleness is the full run's.
    attack_verdict = judge(attacks, attack_answers, settings.strategy.value)
    if only:
        attack_verdict.stale = []
    report(attack_verdict, out)
    org_failures = org_perimeter_failures(org_cases, answers[len(cases) + len(attacks) :])
    for line in org_failures:
        print(line, file=out)
    token_failures = github_failures(tokens, github_verdicts(planned, answers))
    for line in token_failures:
        print(line, file=out)
    answers = answers[: len(cases)]
    failures = 0
    for (where, case), answer in zip(cases, answers, strict=True):
        actual = _decision(answer["decision"])
        if actual == case.expect:
            continue
        failures += 1
        principal, _ = world.principal(case, "")
        resource, _ = world.resource(case, "")
        print(
            f"FAIL {where}: {principal} {case.action} {resource}: "
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
    failures += len(attack_verdict.failed) + len(attack_verdict.stale) + len(org_failures) + len(token_failures)
    generated += f"), {len(org_cases)} org-perimeter cases (each with and without it), {len(tokens)} GitHub tokens"
    generated += " (the roles each may assume"
    verdict = "all as expected" if not failures else f"{failures} FAILED"
    skipped_count = sum(1 for *_, reason in skipped_cases if reason)
    if skipped_count:
        verdict += f" ({skipped_count} not simulated, see skip lines)"
    lint_note = (
        "parliament not run"
        if only
        else f"{sum(1 for _ in policies.identity_documents())} identity policies through parliament, "
        f"{len(findings)} findings ({skipped} skipped with a reason)"
    )
    selection = f" (only {', '.join(sorted(only))}: not the full check)" if only else ""
    print(
        f"access matrix{selection}: {len(cases)} designed cases ({allowed} allow, {len(cases) - allowed} deny), "
        f"{len(attacks)} generated ({generated}), {verdict}; "
        f"{len(policies.roles)} roles, {lint_note}; {elapsed:.1f} s",
        file=out,
    )
    return 1 if failures or findings else 0


def secret_references(world: World) -> dict[str, list[tuple[str, str]]]:
    """Each environment's ``(key, store)`` of the secrets its configuration references."""
    return {env: [(key, store) for key, (store, _) in refs.items()] for env, refs in world.references().items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check-access", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=None, help=f"the team's cases file (default: {CASES_FILE})")
    parser.add_argument("--node-modules", type=Path, default=None, help="where npm installed iam-simulate")
    parser.add_argument(
        "--exhaustive",
        action="store_true",
        help="every attack technique against every target (default: each technique once per principal and scope)",
    )
    parser.add_argument(
        "--only",
        metavar="KIND[,KIND...]",
        help=f"only the cases of these principals, quicker, not the full check (kinds: {', '.join(KINDS)})",
    )
    args = parser.parse_args(argv)
    try:
        only = parse_only(args.only)
        settings = load_settings()
        cases_path = args.cases or settings.root / CASES_FILE
        node_modules = args.node_modules or settings.root / "access" / "node_modules"
        return check(settings, cases_path, node_modules, exhaustive=args.exhaustive, only=only)
    except (AccessError, ValueError) as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
