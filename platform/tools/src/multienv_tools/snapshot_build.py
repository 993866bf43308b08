"""Writes the snapshot a deployed artifact reads instead of ``multienv.toml`` and ``config/*.toml``.

The build calls ``write_snapshot(root, dest)`` (or ``snapshot_member`` to add it to a zip): every
environment's configuration is read and checked here, exactly as on a workstation, and the
result is written as Python literals with the sha256 of the files it came from. ``snapshot.py``
reads it on a cold start. Never shipped: it needs ``tomllib`` and the checks.
"""

from __future__ import annotations

import importlib.util
import pprint
from pathlib import Path

from multienv import config_files, snapshot
from multienv.config import ConfigError
from multienv.settings import SETTINGS_FILE, load_settings

HEADER = '''"""{project}: multienv.toml and config/*.toml as checked by the build. Written by the build; do not edit.

Read by {package}.snapshot instead of the files on a deployed cold start. SOURCES holds the files it was
made from, DIGEST their sha256; where those files sit beside the package and differ, the snapshot is refused.
"""
'''


def team_keys(root: Path, package: str) -> dict:
    """``KEYS`` of ``src/<package>/schema.py`` under ``root``: the checkout being built, not whatever is imported."""
    path = root / "src" / package / f"{config_files.SCHEMA_MODULE}.py"
    spec = importlib.util.spec_from_file_location(f"{package}.{config_files.SCHEMA_MODULE}", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ConfigError(f"{path} is missing: the service declares its configuration keys there")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.KEYS


def render(root: Path) -> str:
    """The snapshot module's text for the checkout at ``root``; ``ConfigError`` or ``SettingsError`` if wrong."""
    root = Path(root)
    settings = load_settings(root / SETTINGS_FILE)
    keys = team_keys(root, settings.package)
    files = [root / SETTINGS_FILE, *map(Path, config_files.sources(settings))]
    read = {path.relative_to(root).as_posix(): path.read_bytes() for path in files}
    layout = settings.layout
    values = {
        "DIGEST": snapshot.digest(read.items()),
        "LAYOUT": {
            "names": layout.names,
            "tiers": {name: str(tier) for name, tier in layout.tiers.items()},  # a Tier is a StrEnum: its value
            "default": layout.default,
            "production": layout.production,
        },
        "CONFIG": {env: config_files.load(env, keys=keys, settings=settings) for env in settings.names},
        "SOURCES": read,
    }
    package = snapshot.__name__.rpartition(".")[0]
    lines = [HEADER.format(project=settings.project_name, package=package)]
    lines += [f"{name} = {pprint.pformat(value, width=110, sort_dicts=False)}\n" for name, value in values.items()]
    return "\n".join(lines)


def snapshot_member(root: Path) -> tuple[str, str]:
    """``(name inside the artifact, text)`` of the snapshot: beside ``snapshot.py``, in the runtime package."""
    package = snapshot.__name__.rpartition(".")[0]
    return f"{package.replace('.', '/')}/{snapshot.MODULE}.py", render(root)


def write_snapshot(root: Path, dest: Path) -> Path:
    """Write the snapshot of the checkout at ``root`` into the artifact folder ``dest``; return its path."""
    name, text = snapshot_member(root)
    target = Path(dest) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
