"""What one stack is: its name, template, target account and region, and parameters.

Shared by ``stacks.py`` (the platform and application stacks) and ``persona_stacks.py``
(the persona stacks), so neither imports the other to build a stack.

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from multienv.naming import BOOTSTRAP_STACK, PERSONAS_STACK
from multienv.settings import Settings

INFRA = "infra"

# The stacks the account's administrator deploys: nothing under the boundary may change them. The
# data stack is the administrator's too; the Deployer Role's own Deny keeps it off it (the boundary,
# at 60% of its limit at the largest shape, has no room for its ARN), and its store and key are
# retained whoever deletes the stack (docs/design.md, "Each environment's own data").
PLATFORM_STACKS = (BOOTSTRAP_STACK, PERSONAS_STACK)


@dataclass(frozen=True)
class StackSpec:
    """One stack: its name, template, target account and region, environment and parameters."""

    kind: str
    name: str
    template_path: Path
    account_id: str
    region: str
    env: str | None
    parameters: dict[str, str] = field(default_factory=dict)

    def with_parameters(self, **overrides: str) -> StackSpec:
        return replace(self, parameters={**self.parameters, **overrides})


def environment_stack(
    settings: Settings, env_name: str, kind: str, stack: str, template: str, parameters: dict[str, str]
) -> StackSpec:
    """A stack of one environment, ``<slug>--<env>-<stack>``, in that environment's account."""
    env = settings.environment(env_name)
    return StackSpec(
        kind=kind,
        name=settings.naming.stack(env.name, stack),
        template_path=settings.root / template,
        account_id=env.account.id,
        region=settings.region,
        env=env.name,
        parameters=parameters,
    )
