"""What the template writes once into a bake and the generated code never reads again.

These lived in the generated packages (``model.tier_defaults``, ``personas.TITLES``,
``pipeline.dispatch_targets``), so they shipped in every repository, and the first in every
Lambda artifact, although only the bake used them. The rules they follow stay there: the tiers,
the personas and the pipeline's stages are the generated repository's; this module only turns
them into the text a bake starts with.
"""

from __future__ import annotations

from collections.abc import Iterable

from .vocabulary import model, personas, pipeline

Tier = model.Tier


def tier_defaults(tier: Tier) -> dict[str, dict[str, object]]:
    """Configuration values that follow from a tier, written into ``config/<env>.toml`` at bake time.

    Debug output and DEBUG logs stay where no real user or data is (sandbox and development);
    production logs warnings and above. The runtime refuses debug in production whatever a file says.
    """
    debug = tier.rank <= Tier.DEVELOPMENT.rank
    if debug:
        level = "DEBUG"
    elif tier.is_production:
        level = "WARNING"
    else:
        level = "INFO"
    return {"service": {"debug": debug}, "log": {"level": level}}


# The persona table of the generated docs/personas.md, by the persona roles' name suffixes.
PERSONA_TITLES = {
    personas.PROJECT_ADMIN: "Project Administrator",
    personas.DEVOPS_ENGINEER: "DevOps Engineer",
    personas.SOFTWARE_DEVELOPER: "Software Developer",
    personas.QA_ENGINEER: "QA Engineer",
}


def dispatch_targets(environments: Iterable[tuple[str, str]]) -> list[str]:
    """The deploy workflow's manual-run choices: the promotion chain, or one environment outside it."""
    return [pipeline.PROMOTE, *(s.environment for s in pipeline.stages(environments) if not s.in_chain)]
