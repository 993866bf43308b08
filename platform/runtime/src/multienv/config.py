"""The configuration of one environment: ``config/shared.toml`` deep-merged with ``config/<env>.toml``.

The environment file wins key by key; tables merge, everything else is replaced. The result
is checked key by key: the platform's own keys (``config_files.PLATFORM_KEYS``: ``service.debug``,
``[log]``, ``[features]``, ``[secrets]``) and the team's (``KEYS`` in ``src/<package>/schema.py``,
beside the handler). An unknown key, a missing key or a wrong type is an error that names the
file, the key path and what is allowed. Secrets are never values here, only references (a
table with ``store`` and ``name``) to names in this environment's own namespace of the naming
scheme, in its own account; ``secrets.py`` fetches them when first used.

Two ways in, one result. A deployed artifact carries the build's snapshot (``snapshot.py``):
the files already checked, as Python literals, so a cold start reads no TOML and imports
nothing a bare interpreter has not loaded. Everywhere else the files are read and checked
(``config_files.py``). A test proves both give the same configuration for every environment.

``python -m <package>.config [--env NAME]`` prints the result as JSON.
"""

import sys

from .config_schema import CONFIG_DIR as CONFIG_DIR
from .config_schema import SECRETS_MANAGER as SECRETS_MANAGER
from .config_schema import SHARED as SHARED
from .config_schema import SSM as SSM
from .config_schema import ConfigError as ConfigError
from .config_schema import Key as Key
from .config_schema import TableOf as TableOf
from .config_schema import merge as merge

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, KeysView, Mapping
    from pathlib import Path
    from typing import Any, ClassVar

    from .settings import Settings


class Table:
    """A checked table, read as attributes (``config.service.debug``) or as a mapping (``config.secrets["app"]``).

    Read-only; ``as_dict()`` gives plain data back (for JSON, for comparisons).
    """

    __slots__ = ("_data",)
    _data: "Mapping[str, object]"

    def __init__(self, data: "Mapping[str, object]"):
        object.__setattr__(self, "_data", data)

    # A value is Any: its type is what the schema says, known when the files are checked, not to mypy.
    def __getattr__(self, name: str) -> "Any":
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no key {name!r} here: the keys are {', '.join(self._data) or '(none)'}") from None

    def __getitem__(self, key: str) -> "Any":
        value = self._data[key]
        return Table(value) if isinstance(value, dict) else value

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("the configuration is read-only: change config/*.toml instead")

    def __iter__(self) -> "Iterator[str]":
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def keys(self) -> "KeysView[str]":
        return self._data.keys()

    def values(self) -> "list[Any]":
        return [self[key] for key in self._data]

    def items(self) -> "list[tuple[str, Any]]":
        return [(key, self[key]) for key in self._data]

    def get(self, key: str, default: object = None) -> "Any":
        return self[key] if key in self._data else default

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Table):
            other = other._data
        return self._data == other

    # Unhashable, as Python makes a class that defines __eq__ alone; said for mypy, which assumes object's hash.
    __hash__: "ClassVar[None]"  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def as_dict(self) -> "dict[str, object]":
        return {k: Table(v).as_dict() if isinstance(v, dict) else v for k, v in self._data.items()}


class Config(Table):
    """The configuration of one environment: ``env`` and ``tier``, then the tables of the files."""


# A reference to a secret: a table with ``store`` (ssm or secretsmanager) and ``name``.
SecretRef = Table


def load_config(
    env: "str | None" = None,
    *,
    keys: "Mapping[str, object] | None" = None,
    settings: "Settings | None" = None,
    config_dir: "Path | None" = None,
    environ: "Mapping[str, str] | None" = None,
) -> Config:
    """The checked configuration of ``env`` (the resolved environment when None).

    ``keys``: the team's schema (``schema.KEYS`` of the package named in multienv.toml when None).
    With neither ``settings`` nor ``config_dir`` given, a deployed artifact's snapshot answers.
    """
    if settings is None and config_dir is None:
        from . import snapshot
        from .env import environment_of

        checked = snapshot.configs()
        if checked is not None:
            return Config(checked[environment_of(env, environ, snapshot.layout())])
    from . import config_files

    return Config(config_files.load(env, keys=keys, settings=settings, config_dir=config_dir, environ=environ))


def main(argv: "list[str] | None" = None) -> int:
    if __name__ == "__main__":
        # Run as `python -m multienv.config`: hand over to the package's own copy of this module,
        # whose error classes are the ones raised inside the package.
        from .config import main as package_main

        return package_main(argv)
    import argparse
    import json

    from .env import ResolutionError, check_name
    from .settings import SettingsError
    from .snapshot import SnapshotError

    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}.config",
        description="Print the configuration of the current environment (secrets as references only).",
    )
    parser.add_argument("--env", metavar="NAME", help="an environment from multienv.toml instead of the resolved one")
    args = parser.parse_args(argv)
    try:
        if args.env is not None:
            check_name(args.env, "--env")
        config = load_config(args.env)
    except (ConfigError, ResolutionError, SettingsError, SnapshotError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(config.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
