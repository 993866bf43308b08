"""The access matrix: every case of ``access/cases.csv`` simulated against the real policies.

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

``--write-cases`` rewrites the generated rows of the cases file from ``personas.py`` and
keeps the rows under ``# team cases``.
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
from .persona_cases import TEAM_MARKER, Case, default_cases, render_cases, secret_cases
from .persona_stacks import load_trust
from .persona_trust import IDENTITY
from .personas import PERSONAS
from .simulator import Simulator

CASES_FILE = Path("access") / "cases.csv"


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
        cases = read_cases(cases_path)
        stale = [] if only else missing_secret_cases(world, cases)
        skipped_cases = [(n, c, world.skip_reason(c, f"{cases_path}:{n}")) for n, c in cases]
        for number, case, reason in skipped_cases:
            if reason:
                print(f"skip {cases_path}:{number}: {case.principal} {case.action} {case.resource}: {reason}", file=out)
        cases = [(n, c) for n, c, reason in skipped_cases if not reason and (not only or c.principal in only)]
        for number, case in cases:
            simulator.submit(simulation(policies, world, case, f"{cases_path}:{number}"))
        layout = attack_layout(settings, policies)
        add_peer_trusts(settings, policies, layout.peer.slug)
        attacks = [a for a in attack_cases(layout, exhaustive) if not only or a.principal.kind in only]
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
    for line in stale:
        print(line, file=out)
    failures += len(stale)
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


def missing_secret_cases(world: World, cases: list[tuple[int, Case]]) -> list[str]:
    """The generated secret cases the configuration asks for and the file lacks (a reference added
    after the last ``make access-cases``): each one a failure, so no secret goes unchecked."""
    present = {case for _, case in cases}
    return [
        f"FAIL {case.principal} {case.principal_env} {case.action} {case.resource} {case.resource_env}: "
        f"config/{case.resource_env}.toml references it and access/cases.csv has no such case "
        "(run make access-cases)"
        for case in secret_cases(secret_references(world))
        if case not in present
    ]


def write_cases(settings: Settings, cases_path: Path) -> int:
    team = ""
    if cases_path.is_file():
        text = cases_path.read_text(encoding="utf-8")
        marker = f"{TEAM_MARKER}\n"
        if marker in text:
            team = text.split(marker, 1)[1]
    cases = default_cases(
        ((e.name, e.tier, e.account.id) for e in settings.environments),
        secret_references(World(settings, None)),
        settings.data_stores,
    )
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
        if args.write_cases:
            return write_cases(settings, cases_path)
        node_modules = args.node_modules or settings.root / "access" / "node_modules"
        return check(settings, cases_path, node_modules, exhaustive=args.exhaustive, only=only)
    except (AccessError, ValueError) as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
