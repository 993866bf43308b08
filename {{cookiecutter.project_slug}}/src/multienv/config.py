"""The configuration of one environment: ``config/shared.toml`` deep-merged with ``config/<env>.toml``.

The environment file wins key by key; tables merge, everything else is replaced. The result
is checked against the dataclasses below: an unknown key, a missing key or a wrong type is
an error that names the file and the key path. Secrets are never values here, only
references (``SecretRef``) to names in this environment's own namespace of the naming
scheme; ``secrets.py`` fetches them when first used. Standard library only.

``python -m <package>.config [--env NAME]`` prints the result as JSON.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .env import ResolutionError, check_name, resolve
from .model import LOG_LEVELS, Tier
from .settings import Settings, SettingsError
from .settings import settings as load_settings

CONFIG_DIR = "config"
SHARED = "shared"
SSM = "ssm"
SECRETS_MANAGER = "secretsmanager"


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or says something the schema does not allow."""


# --------------------------------------------------------------------------- the schema


@dataclass(frozen=True)
class Service:
    debug: bool  # tracebacks and verbose output; never in production
    request_timeout_seconds: int = field(metadata={"min": 1})
    max_retries: int = field(metadata={"min": 0})


@dataclass(frozen=True)
class Log:
    level: str = field(metadata={"choices": LOG_LEVELS})
    json: bool


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives: an SSM parameter name or a Secrets Manager name or ARN. Never its value."""

    store: str = field(metadata={"choices": (SSM, SECRETS_MANAGER)})
    name: str


@dataclass(frozen=True)
class Config:
    env: str = field(metadata={"derived": True})
    tier: Tier = field(metadata={"derived": True})
    service: Service
    log: Log
    features: dict[str, bool]  # on/off switches
    secrets: dict[str, SecretRef]

    def as_dict(self) -> dict:
        return asdict(self)


_RECORDS = {cls.__name__: cls for cls in (Service, Log, SecretRef)}
_SCALARS = {"str": (str, "a string"), "bool": (bool, "true or false"), "int": (int, "an integer")}


# --------------------------------------------------------------------------- reading and merging


def _read(path: Path, required: bool) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        if not required:
            raise
        raise ConfigError(
            f"{path} is missing: every environment in multienv.toml needs its file (it may hold only comments)"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def _origins(data: Mapping, source: Path, into: dict[tuple[str, ...], Path], path: tuple[str, ...] = ()) -> None:
    """Record which file set each key path (a later file overwrites an earlier one)."""
    for key, value in data.items():
        into[(*path, key)] = source
        if isinstance(value, dict):
            _origins(value, source, into, (*path, key))


def merge(base: Mapping, override: Mapping) -> dict:
    """``override`` deep-merged onto ``base``: tables merge key by key, any other value replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# --------------------------------------------------------------------------- checking


def _kind(value: object) -> str:
    return {bool: "boolean", int: "integer", float: "float", str: "string", dict: "table", list: "array"}.get(
        type(value), type(value).__name__
    )


class _Checker:
    def __init__(self, origins: dict[tuple[str, ...], Path], files: tuple[Path, ...]):
        self.origins = origins
        self.files = files

    def where(self, path: tuple[str, ...]) -> str:
        for depth in range(len(path), 0, -1):
            if path[:depth] in self.origins:
                return str(self.origins[path[:depth]])
        return " or ".join(str(f) for f in self.files)

    def fail(self, path: tuple[str, ...], message: str) -> ConfigError:
        return ConfigError(f"{self.where(path)}: {'.'.join(path)}: {message}")

    def value(self, type_name: str, raw: object, path: tuple[str, ...], metadata: Mapping) -> object:
        if type_name in _RECORDS:
            return self.record(_RECORDS[type_name], raw, path)
        if type_name.startswith("dict[str, "):
            inner = type_name.removeprefix("dict[str, ").removesuffix("]")
            if not isinstance(raw, dict):
                raise self.fail(path, f"must be a table, not {_kind(raw)} {raw!r}")
            return {key: self.value(inner, item, (*path, key), {}) for key, item in raw.items()}
        python_type, described = _SCALARS[type_name]
        if not isinstance(raw, python_type) or (python_type is int and isinstance(raw, bool)):
            raise self.fail(path, f"must be {described}, not {_kind(raw)} {raw!r}")
        if "choices" in metadata and raw not in metadata["choices"]:
            raise self.fail(path, f"{raw!r} is not one of {', '.join(metadata['choices'])}")
        if "min" in metadata and raw < metadata["min"]:
            raise self.fail(path, f"{raw!r} is below the minimum of {metadata['min']}")
        return raw

    def record(self, cls: type, raw: object, path: tuple[str, ...], **derived: object) -> object:
        if not isinstance(raw, dict):
            raise self.fail(path, f"must be a table, not {_kind(raw)} {raw!r}")
        schema = [f for f in fields(cls) if not f.metadata.get("derived")]
        known = {f.name for f in schema}
        for key in raw:
            if key not in known:
                allowed = ", ".join(sorted(known))
                raise self.fail((*path, key), f"is not a known key (the keys here are {allowed})")
        values = dict(derived)
        for f in schema:
            if f.name not in raw:
                raise ConfigError(
                    f"{self.where(path)}: {'.'.join((*path, f.name))}: is missing; "
                    f"set it in {' or '.join(str(p) for p in self.files)}"
                )
            values[f.name] = self.value(str(f.type), raw[f.name], (*path, f.name), f.metadata)
        return cls(**values)


def _check_rules(config: Config, checker: _Checker, settings: Settings) -> None:
    """Rules across keys: production is never in debug, and secrets stay inside their environment."""
    if config.tier.is_production:
        if config.service.debug:
            raise checker.fail(("service", "debug"), f"must be false in {config.env}, the production environment")
        if config.log.level == "DEBUG":
            raise checker.fail(
                ("log", "level"), f"DEBUG logs are not allowed in {config.env}, the production environment"
            )
    naming = settings.naming
    account = settings.environment(config.env).account.id
    for key, ref in config.secrets.items():
        if ref.store == SSM:
            allowed: tuple[str, ...] = (naming.ssm_prefix(config.env),)
        else:
            allowed = (naming.secret_prefix(config.env), naming.secret_arn_prefix(account, config.env))
        if not any(ref.name.startswith(prefix) and len(ref.name) > len(prefix) for prefix in allowed):
            raise checker.fail(
                ("secrets", key, "name"),
                f"{ref.name!r} is outside the {ref.store} names of {config.env}: it must start with "
                f"{' or '.join(repr(a) for a in allowed)}",
            )


# --------------------------------------------------------------------------- loading


def load_config(
    env: str | None = None,
    *,
    settings: Settings | None = None,
    config_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """The checked configuration of ``env`` (the resolved environment when None)."""
    settings = load_settings() if settings is None else settings
    if env is None:
        env = resolve(environ, settings).env
    else:
        try:
            check_name(env, "environment", settings)
        except ResolutionError as error:
            raise ConfigError(str(error)) from None
    folder = settings.root / CONFIG_DIR if config_dir is None else Path(config_dir)
    files = (folder / f"{SHARED}.toml", folder / f"{env}.toml")
    origins: dict[tuple[str, ...], Path] = {}
    merged: dict = {}
    for path in files:
        data = _read(path, required=True)
        _origins(data, path, origins)
        merged = merge(merged, data)
    checker = _Checker(origins, files)
    config = checker.record(Config, merged, (), env=env, tier=settings.environment(env).tier)
    _check_rules(config, checker, settings)
    return config


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}.config",
        description="Print the configuration of the current environment (secrets as references only).",
    )
    parser.add_argument("--env", metavar="NAME", help="an environment from multienv.toml instead of the resolved one")
    parser.add_argument("--diff", nargs=2, metavar=("A", "B"), help="every key that differs between two environments")
    args = parser.parse_args(argv)
    if args.diff:
        from .config_diff import main as diff_main

        return diff_main(*args.diff)
    try:
        if args.env is not None:
            check_name(args.env, "--env", load_settings())
        config = load_config(args.env)
    except (ConfigError, ResolutionError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(config.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
