"""The attacker's cases simulated and judged: each generated case must be denied unless
``attack_catalog.KNOWN_OPEN`` lists it with its reason, and every listed entry must still match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .attack_catalog import (
    KEY,
    KNOWN_OPEN,
    Attack,
    KnownOpen,
    default_key_policy,
    known_open,
)
from .persona_cases import Case


def requests(attacks: list[Attack], simulate: Callable[[Case, str], dict], first_id: int) -> list[dict]:
    """The simulator's requests for ``attacks``: ``simulate`` turns a case into one, the technique adds its context.

    KMS asks the key policy on every call: a key no template here renders gets AWS's default one.
    """
    out = []
    key_policies: dict[str, dict] = {}
    for index, attack in enumerate(attacks):
        request = simulate(attack.case, attack.label)
        request["request"]["contextVariables"].update(attack.context())
        if attack.target.kind == KEY and "resourcePolicy" not in request:
            account = attack.target.account
            if account not in key_policies:
                key_policies[account] = default_key_policy(attack.target.arn.split(":")[1], account)
            request["resourcePolicy"] = key_policies[account]
        out.append({"id": first_id + index, "simulation": request})
    return out


@dataclass
class Verdict:
    """What the simulator said about the generated cases."""

    failed: list[tuple[Attack, dict]] = field(default_factory=list)
    open: dict[KnownOpen, int] = field(default_factory=dict)
    stale: list[KnownOpen] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stale


def judge(
    attacks: list[Attack], answers: list[dict], strategy: str, entries: Iterable[KnownOpen] = KNOWN_OPEN
) -> Verdict:
    """Every generated case must be denied; a known-open entry must still match an allowed case."""
    entries = [e for e in entries if not e.strategies or strategy in e.strategies]
    verdict = Verdict(open=dict.fromkeys(entries, 0))
    for attack, answer in zip(attacks, answers, strict=True):
        if answer["decision"] in ("ExplicitlyDenied", "ImplicitlyDenied"):
            continue
        entry = known_open(attack, strategy, entries) if answer["decision"] == "Allowed" else None
        if entry is None:
            verdict.failed.append((attack, answer))
        else:
            verdict.open[entry] += 1
    verdict.stale = [entry for entry, n in verdict.open.items() if n == 0]
    return verdict


def report(verdict: Verdict, out) -> None:
    for attack, answer in verdict.failed:
        print(
            f"FAIL generated: {attack.principal.arn} {attack.technique.action} {attack.target.arn}: "
            f"expected deny, got {answer['decision']} ({attack.label})",
            file=out,
        )
        if answer.get("errors"):
            print(f"     simulator: {str(answer['errors'])[:600]}", file=out)
        for statement in answer.get("deciding", []):
            kind, policy, sid, effect = (statement[k] for k in ("kind", "policy", "sid", "effect"))
            print(f"     decided by {kind} policy {policy} statement {sid} ({effect})", file=out)
    for entry, n in verdict.open.items():
        if n:
            print(f"OPEN generated: {n} cases allowed, known open: {entry.pattern}: {entry.reason}", file=out)
    for entry in verdict.stale:
        print(
            f"FAIL known-open entry {entry.pattern!r} matches no allowed case: the hole is closed, remove it", file=out
        )
