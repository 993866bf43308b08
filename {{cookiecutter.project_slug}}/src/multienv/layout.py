"""The environments as the resolver needs them: names in promotion order, tiers, default and production.

``settings.py`` builds one from ``multienv.toml`` and the build's snapshot records one
(``snapshot.py``); ``env.py`` resolves against either. Imports nothing.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


class Layout:
    """What the resolver knows of ``multienv.toml``: the names in promotion order and each one's tier.

    ``default`` is where a local run lands and ``production`` the environment a workstation may
    reach only on purpose; ``settings.py`` decides both, and the snapshot records its decision.
    """

    __slots__ = ("default", "names", "production", "tiers")

    def __init__(self, names: "tuple[str, ...]", tiers: "Mapping[str, str]", default: str, production: str):
        self.names = names
        self.tiers = tiers
        self.default = default
        self.production = production
