"""The sample function: it reports the environment it runs in, as the resolver sees it."""

from __future__ import annotations

from typing import Any

from multienv.config import load_config
from multienv.env import resolve


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """On Lambda the runtime is ``aws-lambda``, so ``ENV_NAME`` (set by ``infra/app.yaml``) decides.

    The answer also says which configuration loaded: the release's smoke test checks both.
    """
    resolution = resolve()
    config = load_config(resolution.env)
    return {**resolution.as_dict(), "config": {"env": config.env, "tier": config.tier.value}}
