"""The workstation's way to the configuration: read ``config/*.toml``, merge, check key by key.

``config.py`` says what the files mean; this module reads them with ``tomllib`` and checks
the merged result against the platform's keys (below) and the team's (``KEYS`` in
``src/<package>/schema.py``). Every error names the file, the key path and what is allowed.
The build runs the same check and compiles the result into the artifact's snapshot, so a
deployed cold start never imports this module.
"""

from __future__ import annotations

import os
import tomllib

from .config_schema import CONFIG_DIR, SECRETS_MANAGER, SHARED, SSM, ConfigError, Key, TableOf, merge
from .env import environment_of
from .model import LOG_LEVELS, closest
from .settings import settings as load_settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

    from .settings import Settings

# The keys the platform reads and enforces; a team adds its own in src/<package>/schema.py.
PLATFORM_KEYS: dict[str, object] = {
    "service": {"debug": Key(bool, doc="tracebacks and verbose output; never in production")},
    "log": {"level": Key(str, choices=LOG_LEVELS), "json": Key(bool)},
    "features": TableOf(Key(bool, doc="an on/off switch")),
    "secrets": TableOf(
        {
            "store": Key(str, choices=(SSM, SECRETS_MANAGER), doc="where the secret lives"),
            "name": Key(str, doc="an SSM parameter name, a Secrets Manager name or ARN; never the value"),
        }
    ),
}
SCHEMA_MODULE = "schema"

_DESCRIBED = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def team_keys(settings: Settings) -> Mapping[str, object]:
    """``KEYS`` of ``<package>.schema``, the team's own keys (the package is the one multienv.toml names)."""
    import importlib

    name = f"{settings.package}.{SCHEMA_MODULE}"
    try:
        keys: Mapping[str, object] = importlib.import_module(name).KEYS
        return keys
    except (ImportError, AttributeError) as error:
        raise ConfigError(
            f"{name}: cannot read the team's KEYS ({error}): declare them in src/{settings.package}/{SCHEMA_MODULE}.py"
        ) from None


def schema(keys: Mapping[str, object]) -> dict[str, object]:
    """The platform's keys with the team's ``keys`` added; a team key may not redefine a platform key."""
    combined: dict[str, object] = dict(PLATFORM_KEYS)
    for table, spec in keys.items():
        ours = combined.get(table)
        if ours is None:
            combined[table] = spec
            continue
        if not (isinstance(ours, dict) and isinstance(spec, dict)):
            raise ConfigError(f"{SCHEMA_MODULE}.KEYS: [{table}] is the platform's table; choose another name")
        taken = sorted(set(ours) & set(spec))
        if taken:
            raise ConfigError(
                f"{SCHEMA_MODULE}.KEYS: {', '.join(f'{table}.{k}' for k in taken)} is the platform's; "
                "choose another name"
            )
        combined[table] = {**ours, **spec}
    return combined


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:  # noqa: PTH123 - pathlib stays off the workstation's resolve path
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path} is missing: every environment in multienv.toml needs its file (it may hold only comments)"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def _origins(
    data: Mapping[str, object], source: str, into: dict[tuple[str, ...], str], path: tuple[str, ...] = ()
) -> None:
    """Record which file set each key path (a later file overwrites an earlier one)."""
    for key, value in data.items():
        into[(*path, key)] = source
        if isinstance(value, dict):
            _origins(value, source, into, (*path, key))


def _kind(value: object) -> str:
    return {bool: "boolean", int: "integer", float: "float", str: "string", dict: "table", list: "array"}.get(
        type(value), type(value).__name__
    )


class _Checker:
    def __init__(self, origins: dict[tuple[str, ...], str], files: tuple[str, ...]):
        self.origins = origins
        self.files = files

    def where(self, path: tuple[str, ...]) -> str:
        for depth in range(len(path), 0, -1):
            if path[:depth] in self.origins:
                return str(self.origins[path[:depth]])
        return " or ".join(str(f) for f in self.files)

    def fail(self, path: tuple[str, ...], message: str) -> ConfigError:
        return ConfigError(f"{self.where(path)}: {'.'.join(path)}: {message}")

    def value(self, spec: object, raw: object, path: tuple[str, ...]) -> object:
        if isinstance(spec, dict):
            return self.table(spec, raw, path)
        if isinstance(spec, TableOf):
            if not isinstance(raw, dict):
                raise self.fail(path, f"must be a table, not {_kind(raw)} {raw!r}")
            return {key: self.value(spec.value, item, (*path, key)) for key, item in raw.items()}
        assert isinstance(spec, Key), f"{'.'.join(path)}: a schema entry is a Key, a TableOf or a table"  # noqa: S101
        wanted = (int, float) if spec.type is float else spec.type
        if not isinstance(raw, wanted) or (spec.type is not bool and isinstance(raw, bool)):
            raise self.fail(path, f"must be {_DESCRIBED[spec.type]}, not {_kind(raw)} {raw!r}")
        if spec.choices is not None and raw not in spec.choices:
            raise self.fail(path, f"{raw!r} is not one of {', '.join(map(str, spec.choices))}")
        # Key refuses a minimum on anything but int and float, and raw is of the key's type here.
        if spec.minimum is not None and isinstance(raw, (int, float)) and raw < spec.minimum:
            raise self.fail(path, f"{raw!r} is below the minimum of {spec.minimum}")
        return raw

    def table(self, spec: Mapping[str, object], raw: object, path: tuple[str, ...]) -> dict[str, object]:
        if not isinstance(raw, dict):
            raise self.fail(path, f"must be a table, not {_kind(raw)} {raw!r}")
        for key in raw:
            if key not in spec:
                close = closest(key, spec)
                hint = f"; did you mean {close!r}?" if close else ""
                allowed = ", ".join(sorted(spec))
                raise self.fail((*path, key), f"is not a known key (the keys here are {allowed}){hint}")
        checked = {}
        for key, item in spec.items():
            if key not in raw:
                raise ConfigError(
                    f"{self.where(path)}: {'.'.join((*path, key))}: is missing; "
                    f"set it in {' or '.join(str(p) for p in self.files)}"
                )
            checked[key] = self.value(item, raw[key], (*path, key))
        return checked


def _check_rules(config: Mapping[str, Any], checker: _Checker, settings: Settings) -> None:
    """Rules across keys: production is never in debug, and secrets stay inside their environment."""
    env = config["env"]
    if settings.environment(env).tier.is_production:
        if config["service"]["debug"]:
            raise checker.fail(("service", "debug"), f"must be false in {env}, the production environment")
        if config["log"]["level"] == "DEBUG":
            raise checker.fail(("log", "level"), f"DEBUG logs are not allowed in {env}, the production environment")
    # The application's secrets live in the environment's own account, under its own path
    # (naming.py): the names its function role and permissions boundary allow, and no other.
    naming = settings.naming
    account = settings.environment(env).account.id
    for key, ref in config["secrets"].items():
        if ref["store"] == SSM:
            allowed: tuple[str, ...] = (naming.ssm_prefix(env),)
        else:
            allowed = (naming.secret_prefix(env), naming.secret_arn_prefix(account, env))
        if not any(ref["name"].startswith(prefix) and len(ref["name"]) > len(prefix) for prefix in allowed):
            raise checker.fail(
                ("secrets", key, "name"),
                f"{ref['name']!r} is outside the {ref['store']} names of {env}: it must start with "
                f"{' or '.join(repr(a) for a in allowed)} (a secret of {env}'s own account, {account})",
            )
        if ref["store"] == SECRETS_MANAGER and ref["name"] == naming.deploy_secret(env):
            raise checker.fail(
                ("secrets", key, "name"),
                f"{ref['name']!r} is the name of {env}'s Deployer Role secret in the DevOps account; "
                f"the function's own secrets take any other name under {naming.secret_prefix(env)!r}",
            )


def config_folder(settings: Settings, config_dir: str | Path | None = None) -> str:
    """``config/`` beside ``multienv.toml``, or ``config_dir``."""
    return os.path.join(settings.folder, CONFIG_DIR) if config_dir is None else os.fspath(config_dir)  # noqa: PTH118


def sources(settings: Settings, config_dir: str | Path | None = None) -> list[str]:
    """The files the configuration of every environment is made of, shared first."""
    folder = config_folder(settings, config_dir)
    return [os.path.join(folder, f"{name}.toml") for name in (SHARED, *settings.names)]  # noqa: PTH118


def load(
    env: str | None = None,
    *,
    keys: Mapping[str, object] | None = None,
    settings: Settings | None = None,
    config_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The checked configuration of ``env`` (the resolved one when None) as plain data."""
    settings = load_settings() if settings is None else settings
    env = environment_of(env, environ, settings)
    keys = team_keys(settings) if keys is None else keys
    folder = config_folder(settings, config_dir)
    files = (os.path.join(folder, f"{SHARED}.toml"), os.path.join(folder, f"{env}.toml"))  # noqa: PTH118
    origins: dict[tuple[str, ...], str] = {}
    merged: dict[str, object] = {}
    for path in files:
        data = _read(path)
        _origins(data, path, origins)
        merged = merge(merged, data)
    checker = _Checker(origins, files)
    config = {"env": env, "tier": settings.environment(env).tier.value, **checker.table(schema(keys), merged, ())}
    _check_rules(config, checker, settings)
    return config
