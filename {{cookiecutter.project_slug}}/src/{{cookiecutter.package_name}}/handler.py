"""The sample function: it reports the environment it runs in, as the resolver sees it.

What it imports runs on every cold start: the resolver and the configuration read the build's
snapshot there, so keep heavy imports (boto3, parsers) inside the functions that need them.
"""

from multienv.env import resolve

from . import schema

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def handler(event: "dict[str, Any]", context: "Any") -> "dict[str, Any]":
    """On Lambda the runtime is ``aws-lambda``, so ``ENV_NAME`` (set by ``infra/app.yaml``) decides.

    The answer also says which configuration loaded: the release's smoke test checks both.
    """
    resolution = resolve()
    config = schema.load(resolution.env)
    loaded = {"env": config.env, "tier": config.tier, "request_timeout_seconds": config.service.request_timeout_seconds}
    return {**resolution.as_dict(), "config": loaded}
