"""The persona stacks: one per environment, in that environment's account.

``personas.py`` decides who gets what; this module turns that into the parameters of
``infra/personas.yaml`` for each environment of ``multienv.toml``, including who may
assume the roles (the ``[personas]`` table of ``multienv.toml``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from multienv.naming import PERSONAS as PERSONA_NAMES
from multienv.naming import PERSONAS_STACK
from multienv.settings import Settings

from .persona_parameters import persona_key, stack_arns, stack_parameters
from .persona_trust import Trust, parse_trust
from .stack_spec import INFRA, PLATFORM_STACKS, StackSpec, environment_stack

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
    shared = env.account.id == settings.devops.id or any(
        e.account.id == env.account.id for e in settings.environments if e.name != env.name
    )
    accounts = {a.key: a.id for a in settings.accounts}
    parameters = stack_parameters(
        settings.naming, env.name, env.tier, env.account.id, shared, trust, accounts, settings.has_data
    )
    parameters["PlatformStackArns"] = ",".join(stack_arns(settings.naming, env.name, PLATFORM_STACKS))
    return environment_stack(settings, env.name, PERSONAS, PERSONAS_STACK, PERSONAS_TEMPLATE, parameters)


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
