"""The sample function: it reports the environment it runs in, as the deployment set it."""

from __future__ import annotations

import os
from typing import Any

from .settings import settings


def current_environment(environ: dict[str, str] | None = None) -> str:
    """The environment named by ``ENV_NAME``, checked against ``multienv.toml``."""
    environ = dict(os.environ) if environ is None else environ
    name = environ.get("ENV_NAME", "")
    return settings().environment(name).name


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    env = settings().environment(current_environment())
    return {"env": env.name, "tier": env.tier.value, "account": env.account.key}
