"""Which environment this process is in, and how that was decided.

``resolve(environ)`` is a pure function over a mapping of environment variables
(``os.environ`` when none is given) and the environments of ``multienv.toml``:

1. ``USER_ENV_NAME``, when set and not blank: a deliberate override, in every runtime.
2. else ``ENV_NAME``: the environment infrastructure or CI assigned.
3. else, on a workstation only: the first development-tier environment.
4. else (CI or AWS compute with neither variable): a refusal, because there the
   environment must be said, never guessed.

A name that is not one of the environments is refused with the closest name, and a
workstation that resolves to production is refused unless ``ALLOW_LOCAL_PRODUCTION=true``.

This module runs on every cold start, so it imports nothing a bare interpreter has not
already loaded: the environments come from the build's snapshot in a deployed artifact
(``snapshot.py``) and from ``multienv.toml`` elsewhere (``settings.py``), and the error
path alone imports what it needs.

``python -m <package>.env [--json]`` prints the result; a refusal exits 2.
"""

import sys

from .layout import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from .settings import Settings

OVERRIDE = "USER_ENV_NAME"
OFFICIAL = "ENV_NAME"
DEFAULT = "default"
ALLOW_LOCAL_PRODUCTION = "ALLOW_LOCAL_PRODUCTION"
# AWS hosts that set no marker of their own (EC2, on-premises runners of a deploy) declare themselves here.
RUNTIME_VARIABLE = "MULTIENV_RUNTIME"

LOCAL = "local"
CI = "ci"
# A CI system sets one of these to a non-empty value other than false or 0.
CI_MARKERS = (
    "CI",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "CODEBUILD_BUILD_ID",
    "JENKINS_URL",
    "CIRCLECI",
    "BITBUCKET_BUILD_NUMBER",
    "BUILDKITE",
)
CI_OFF_VALUES = frozenset({"", "false", "0"})
# AWS compute services and a variable each sets in every process it starts.
AWS_MARKERS = (
    ("AWS_LAMBDA_FUNCTION_NAME", "aws-lambda"),
    ("ECS_CONTAINER_METADATA_URI_V4", "aws-ecs"),
    ("ECS_CONTAINER_METADATA_URI", "aws-ecs"),
    ("AWS_BATCH_JOB_ID", "aws-batch"),
    ("GLUE_VERSION", "aws-glue"),
    ("GLUE_PYTHON_VERSION", "aws-glue"),
)
# Set by Lambda (AWS_Lambda_python3.12), ECS (AWS_ECS_FARGATE, AWS_ECS_EC2) and other AWS-managed hosts.
EXECUTION_ENV = "AWS_EXECUTION_ENV"
EXECUTION_ENV_PREFIXES = (("AWS_Lambda_", "aws-lambda"), ("AWS_ECS_", "aws-ecs"))
# App Runner and EC2 set no marker of their own: their environments set MULTIENV_RUNTIME.
AWS_RUNTIMES = ("aws-ec2", "aws-apprunner", *dict.fromkeys(runtime for _, runtime in AWS_MARKERS))


class ResolutionError(ValueError):
    """The variables do not name an environment this process may run in."""

    def __init__(self, variable: str, message: str):
        self.variable = variable
        super().__init__(message)


class Resolution(tuple[str, str, str, str]):
    """``(env, source, runtime, tier)``; source is USER_ENV_NAME, ENV_NAME or default, runtime local, ci or aws-*."""

    __slots__ = ()
    _fields = ("env", "source", "runtime", "tier")

    def __new__(cls, env: str, source: str, runtime: str, tier: str) -> "Resolution":
        return tuple.__new__(cls, (env, source, runtime, tier))

    @property
    def env(self) -> str:
        return self[0]

    @property
    def source(self) -> str:
        return self[1]

    @property
    def runtime(self) -> str:
        return self[2]

    @property
    def tier(self) -> str:
        return self[3]

    def __repr__(self) -> str:
        return "Resolution(" + ", ".join(f"{k}={v!r}" for k, v in zip(self._fields, self, strict=True)) + ")"

    def as_dict(self) -> "dict[str, str]":
        return {"env": self.env, "source": self.source, "runtime": self.runtime, "tier": str(self.tier)}


def process_environ() -> "Mapping[str, str]":
    """``os.environ``, without importing ``os`` when nothing has yet.

    Until something imports ``os`` nobody can have changed ``os.environ``, and ``posix.environ``
    (already loaded by every interpreter) holds the same variables as bytes.
    """
    if "os" not in sys.modules:
        try:
            import posix
        except ImportError:  # not a POSIX host: os is cheap to need there
            pass
        else:
            encoding = sys.getfilesystemencoding()
            return {
                k.decode(encoding, "surrogateescape"): v.decode(encoding, "surrogateescape")
                for k, v in posix.environ.items()
            }
    import os  # loaded already (the import is a lookup), or the host has no posix

    return os.environ


def detect_runtime(environ: "Mapping[str, str]") -> str:
    """``local``, ``ci`` or ``aws-<service>``; an explicit ``MULTIENV_RUNTIME`` wins, a CI marker beats an AWS one.

    CI comes first because CI systems run on AWS compute too (CodeBuild runs in containers).
    """
    declared = environ.get(RUNTIME_VARIABLE, "").strip()
    if declared:
        if declared not in AWS_RUNTIMES:
            raise ResolutionError(
                RUNTIME_VARIABLE,
                f"{RUNTIME_VARIABLE}={declared!r} is not a runtime this project knows: "
                f"set it to one of {', '.join(AWS_RUNTIMES)}, or unset it",
            )
        return declared
    for marker in CI_MARKERS:
        if environ.get(marker, "").strip().lower() not in CI_OFF_VALUES:
            return CI
    for marker, runtime in AWS_MARKERS:
        if environ.get(marker, "").strip():
            return runtime
    execution_env = environ.get(EXECUTION_ENV, "").strip()
    if execution_env:
        return next((runtime for prefix, runtime in EXECUTION_ENV_PREFIXES if execution_env.startswith(prefix)), "aws")
    return LOCAL


def layout_of(settings: "Settings | Layout | None") -> Layout:
    """The layout of ``settings``; when None, the snapshot's in a deployed artifact, else ``multienv.toml``'s."""
    if settings is None:
        from . import snapshot

        return snapshot.layout()
    return settings if isinstance(settings, Layout) else settings.layout


def suggestion(value: str, settings: "Settings | Layout") -> "str | None":
    """The environment a mistyped name most likely meant, or None when none is close."""
    layout = layout_of(settings)
    from .model import KNOWN_TIERS, closest  # only on the error path

    folded = value.strip().lower()
    tier = KNOWN_TIERS.get(folded)
    if tier is not None and not any(name.lower() == folded for name in layout.names):
        same_tier = [name for name in layout.names if layout.tiers[name] == tier]
        if len(same_tier) == 1:
            return same_tier[0]
    return closest(value, layout.names)


def check_name(value: str, variable: str, settings: "Settings | Layout | None" = None) -> str:
    """``value`` when it is exactly one of the environments, else a ``ResolutionError`` naming ``variable``."""
    layout = layout_of(settings)
    if value in layout.tiers:
        return value
    allowed = ", ".join(layout.names)
    if not value.strip():
        raise ResolutionError(variable, f"{variable} is set but empty: set it to one of {allowed}, or unset it")
    hint = suggestion(value, layout)
    did_you_mean = f"; did you mean {hint!r}?" if hint else ""
    raise ResolutionError(
        variable,
        f"{variable}={value!r} is not an environment of this project: the environments are {allowed}{did_you_mean}",
    )


def resolve(environ: "Mapping[str, str] | None" = None, settings: "Settings | Layout | None" = None) -> Resolution:
    """The environment the variables in ``environ`` select; ``ResolutionError`` when they select none."""
    environ = process_environ() if environ is None else environ
    layout = layout_of(settings)
    runtime = detect_runtime(environ)

    override = environ.get(OVERRIDE, "")
    if override.strip():
        name, source = check_name(override.strip(), OVERRIDE, layout), OVERRIDE
    elif OFFICIAL in environ:
        name, source = check_name(environ[OFFICIAL].strip(), OFFICIAL, layout), OFFICIAL
    elif runtime == LOCAL:
        name, source = layout.default, DEFAULT
    else:
        raise ResolutionError(
            OFFICIAL,
            f"{OFFICIAL} must be set in the {runtime} runtime: set it to one of {', '.join(layout.names)} "
            f"(only a workstation falls back to {layout.default})",
        )

    if name == layout.production and runtime == LOCAL:
        allow = environ.get(ALLOW_LOCAL_PRODUCTION, "")
        if allow.strip().lower() != "true":
            seen = f" ({ALLOW_LOCAL_PRODUCTION} is {allow!r}, not 'true')" if allow else ""
            raise ResolutionError(
                source,
                f"{source}={name!r} selects the production environment on a workstation, which is refused{seen}: "
                f"if you mean it, also set {ALLOW_LOCAL_PRODUCTION}=true",
            )
    return Resolution(name, source, runtime, layout.tiers[name])


def environment_of(env: "str | None", environ: "Mapping[str, str] | None", layout: "Settings | Layout | None") -> str:
    """``env`` checked against ``layout``'s names, or the environment ``environ`` resolves to when None.

    A wrong name is a ``ConfigError`` that lists the allowed ones."""
    from .config_schema import ConfigError  # imports nothing

    if env is None:
        return resolve(environ, layout).env
    try:
        check_name(env, "environment", layout)
    except ResolutionError as error:
        raise ConfigError(str(error)) from None
    return env


def main(argv: "list[str] | None" = None) -> int:
    if __name__ == "__main__":
        # Run as `python -m multienv.env`: hand over to the package's own copy of this module, whose
        # error classes are the ones raised inside the package.
        from .env import main as package_main

        return package_main(argv)
    import argparse
    import json

    from .settings import SettingsError
    from .snapshot import SnapshotError

    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}.env", description="Print the environment this process resolves to."
    )
    parser.add_argument("--json", action="store_true", help="print env, source, runtime and tier as JSON")
    args = parser.parse_args(argv)
    try:
        resolution = resolve()
    except (ResolutionError, SettingsError, SnapshotError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(resolution.as_dict()) if args.json else resolution.env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
