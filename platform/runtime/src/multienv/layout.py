"""What the resolver knows of ``multienv.toml``, apart from the resolver and the settings that build it.

Imports nothing: the resolver, the settings and the snapshot all use it, so none of them has to
import another to share it.
"""

TYPE_CHECKING = False  # typing itself is not imported: the deployed cold start loads nothing extra
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
