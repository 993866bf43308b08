"""How two environments' configurations differ, key by key, with the file each value comes from.

Both configurations are loaded and checked by ``config.load_config``, exactly as the service
loads them; a key path is reported when its value differs or when only one environment has it.
Secrets are compared as what the configuration holds, their references (store and name):
nothing is fetched.

``python -m multienv_tools.config_diff A B`` (``make config-diff A=dev B=prd``) prints the
differences and exits 0; an unknown environment exits 2 with the allowed names, a
configuration that does not load exits 1 with its error. A developer's tool: it lives with the
tooling, not in the artifact.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from multienv.config import CONFIG_DIR, SHARED, ConfigError, load_config
from multienv.env import ResolutionError, check_name
from multienv.settings import SETTINGS_FILE, Settings, SettingsError
from multienv.settings import settings as load_settings

# Keys that are not in the files: the environment's own name, and its tier from multienv.toml.
NAME_KEY = "env"
TIER_KEY = "tier"


@dataclass(frozen=True)
class Side:
    value: object
    source: str  # the file that sets the value, relative to the project root

    def shown(self) -> str:
        return f"{json.dumps(self.value)} ({self.source})"


@dataclass(frozen=True)
class Difference:
    key: str  # dotted key path, e.g. service.debug or secrets.db.name
    a: Side | None  # None: the key is not set in that environment
    b: Side | None


def leaves(data: Mapping, path: tuple[str, ...] = ()) -> dict[str, object]:
    """Every non-table value of a nested mapping, by dotted key path."""
    found: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            found.update(leaves(value, (*path, key)))
        else:
            found[".".join((*path, key))] = value
    return found


def _file_leaves(path: Path) -> dict[str, object]:
    with path.open("rb") as handle:
        return leaves(tomllib.load(handle))


def sides(env: str, settings: Settings, config_dir: Path | None = None, keys: Mapping | None = None) -> dict[str, Side]:
    """The checked configuration of ``env``, key path by key path, each with the file it comes from.

    A key comes from the environment's file when that file sets it, else from the shared file
    (the loader's merge: the environment file wins key by key).
    """
    config = load_config(env, keys=keys, settings=settings, config_dir=config_dir)
    folder = settings.root / CONFIG_DIR if config_dir is None else Path(config_dir)
    own_file = folder / f"{env}.toml"
    own = _file_leaves(own_file)

    def relative(path: Path) -> str:
        return path.relative_to(settings.root).as_posix() if path.is_relative_to(settings.root) else str(path)

    values = leaves(config.as_dict())
    values.pop(NAME_KEY, None)
    result = {TIER_KEY: Side(str(values.pop(TIER_KEY)), SETTINGS_FILE)}
    for key, value in values.items():
        result[key] = Side(value, relative(own_file if key in own else folder / f"{SHARED}.toml"))
    return result


def differences(
    a: str, b: str, settings: Settings, config_dir: Path | None = None, keys: Mapping | None = None
) -> list[Difference]:
    """Every key path whose value differs between ``a`` and ``b``, or that only one of them has.

    ``keys``: the service's schema (``schema.KEYS`` of the package multienv.toml names when None).
    """
    left, right = sides(a, settings, config_dir, keys), sides(b, settings, config_dir, keys)
    found = []
    for key in sorted(set(left) | set(right)):
        one, other = left.get(key), right.get(key)
        if one is None or other is None or one.value != other.value:
            found.append(Difference(key, one, other))
    return found


def render(a: str, b: str, found: list[Difference]) -> str:
    if not found:
        return f"{a} and {b}: the same configuration"
    width = max(len(d.key) for d in found)
    lines = [f"{a} vs {b}: {len(found)} key(s) differ"]
    for d in found:
        left = d.a.shown() if d.a else "(not set)"
        right = d.b.shown() if d.b else "(not set)"
        lines.append(f"  {d.key:<{width}}  {a}: {left}")
        lines.append(f"  {'':<{width}}  {b}: {right}")
    return "\n".join(lines)


def main(a: str, b: str, out=sys.stdout) -> int:
    try:
        settings = load_settings()
        problems = []
        for variable, name in (("A", a), ("B", b)):
            try:
                check_name(name, variable, settings)
            except ResolutionError as error:
                problems.append(str(error))
        if problems:
            print("error: " + "\nerror: ".join(problems), file=sys.stderr)
            return 2
        found = differences(a, b, settings)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(render(a, b, found), file=out)
    return 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m multienv_tools.config_diff", description=__doc__.splitlines()[0])
    parser.add_argument("a", metavar="A", help="an environment of multienv.toml")
    parser.add_argument("b", metavar="B", help="another one")
    arguments = parser.parse_args()
    sys.exit(main(arguments.a, arguments.b))
