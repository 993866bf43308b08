"""How large each rendered policy is against the limit AWS sets for its kind.

``python -m multienv_tools.policy_sizes`` renders every stack of ``stack_specs`` as CloudFormation
would, and the organization perimeter's SCPs and RCPs (``org/perimeter.yaml``), and prints, per
kind of policy, the largest one as a share of its limit. The policy
contract tests read ``largest`` to keep every policy under ``HEADROOM`` of its limit, so a
policy that grows with the number of environments is caught long before AWS refuses it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from multienv.settings import load_settings

from .cfn import policies, render
from .org_perimeter import ORG_TEMPLATE, POLICY_LIMIT, documents
from .org_perimeter import size as perimeter_size
from .stacks import stack_specs

# AWS quotas on policy documents, in characters without whitespace (IAM) or bytes (resource policies).
LIMITS = {
    "managed": 6144,  # a customer-managed policy, the permissions boundary included
    "inline": 10240,  # all inline policies of one role together
    "trust": 2048,  # a role's trust policy (the default quota)
    "bucket": 20480,
    "key": 32768,
    "secret": 20480,
    "repository": 10240,
    # AWS Organizations: every character counts, whitespace included (org_perimeter.size).
    "scp": POLICY_LIMIT,
    "rcp": POLICY_LIMIT,
}
# The share of its limit a policy may use: room for the team's own statements and more environments.
HEADROOM = 0.60

_WHITESPACE = re.compile(r"\s")


def size(document: object) -> int:
    """The size AWS counts: the JSON text without whitespace."""
    return len(_WHITESPACE.sub("", json.dumps(document)))


@dataclass(frozen=True)
class Measure:
    kind: str
    name: str
    where: str
    size: int

    @property
    def limit(self) -> int:
        return LIMITS[self.kind]

    @property
    def share(self) -> float:
        return self.size / self.limit


def measures(rendered: Iterable[tuple[str, Mapping]]) -> list[Measure]:
    """One measure per policy of each rendered stack (``(stack name, render output)``)."""
    found: list[Measure] = []
    for where, doc in rendered:
        inline: dict[str, int] = {}
        for policy in policies(doc):
            if policy.kind == "identity":
                role = policy.name.split("/", 1)[0]
                inline[role] = inline.get(role, 0) + size(policy.document)
            else:
                found.append(Measure(policy.kind, policy.name, where, size(policy.document)))
        found += [Measure("inline", role, where, total) for role, total in inline.items()]
    return found


def largest(found: Iterable[Measure]) -> dict[str, Measure]:
    """The largest policy of each kind."""
    best: dict[str, Measure] = {}
    for measure in found:
        if measure.kind not in best or measure.size > best[measure.kind].size:
            best[measure.kind] = measure
    return best


def perimeter_measures(settings) -> list[Measure]:
    """One measure per SCP and RCP of the organization perimeter, where the project has one."""
    if not (settings.root / ORG_TEMPLATE).is_file():
        return []
    where = ORG_TEMPLATE.as_posix()
    return [Measure(kind, name, where, perimeter_size(document)) for kind, name, document in documents(settings)]


def measure_settings(settings) -> list[Measure]:
    stacks = measures((spec.name, render(spec)) for spec in stack_specs(settings, "0" * 64))
    return stacks + perimeter_measures(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    worst = 0.0
    for kind, measure in sorted(largest(measure_settings(load_settings())).items()):
        worst = max(worst, measure.share)
        print(
            f"{kind:10} {measure.size:6} of {measure.limit:6} ({measure.share:5.1%})  {measure.name} ({measure.where})"
        )
    return 0 if worst <= HEADROOM else 1


if __name__ == "__main__":
    sys.exit(main())
