"""What the template writes once into a bake and the generated code never reads again.

``tier_defaults`` lived in the generated runtime (``model.tier_defaults``), so it shipped in every
repository and in every Lambda artifact, although only the bake used it. The rule it follows (the
tiers) stays there; this module only turns it into the text a bake starts with. (The persona table's
titles and the deploy workflow's dispatch targets are the platform's again, ``personas.TITLES`` and
``pipeline.dispatch_targets``: the docs and workflows ``multienv synth`` renders read them.)
"""

from __future__ import annotations

from .vocabulary import model

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
