"""The persona stacks: one per environment, in that environment's account.

``personas.py`` decides who gets what; this module turns that into the parameters of
``infra/personas.yaml`` for each environment of ``multienv.toml``, including who may
assume the roles (the ``[personas]`` table of ``multienv.toml``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .naming import PERSONAS as PERSONA_NAMES
from .personas import Trust, parse_trust, persona_key, stack_parameters
from .settings import Settings
from .stacks import INFRA, PERSONAS_STACK, StackSpec

PERSONAS_TEMPLATE = f"{INFRA}/personas.yaml"
PERSONAS = "personas"  # stack kind


def load_trust(settings: Settings) -> Trust:
    """Who may assume the persona roles, from ``[personas]`` in ``multienv.toml``."""
    with Path(settings.path).open("rb") as handle:
        table = tomllib.load(handle).get("personas", {})
    accounts = {a.key: a.id for a in settings.accounts}
    return parse_trust(table, accounts, settings.devops.key, str(settings.path))


def persona_spec(settings: Settings, env_name: str, trust: Trust | None = None) -> StackSpec:
    trust = load_trust(settings) if trust is None else trust
    env = settings.environment(env_name)
    naming = settings.naming
    others = [e.name for e in settings.environments if e.name != env.name]
    return StackSpec(
        kind=PERSONAS,
        name=naming.stack(env.name, PERSONAS_STACK),
        template_path=settings.root / PERSONAS_TEMPLATE,
        account_id=env.account.id,
        region=settings.region,
        env=env.name,
        parameters=stack_parameters(
            naming, env.name, env.tier, env.account.id, others, trust, {a.key: a.id for a in settings.accounts}
        ),
    )


def persona_specs(settings: Settings) -> list[StackSpec]:
    trust = load_trust(settings)
    return [persona_spec(settings, env.name, trust) for env in settings.environments]


def trusted_principals(spec: StackSpec) -> dict[str, str]:
    """Persona -> who may assume its role, for the personas that get a role in this stack."""
    found = {}
    for persona in PERSONA_NAMES:
        key = persona_key(persona)
        if spec.parameters[f"{key}RoleName"]:
            found[persona] = spec.parameters[f"{key}TrustedPrincipal"]
    return found
