"""Cold start of the deployed artifact: import the handler, resolve the environment, load its configuration.

The artifact is built and unzipped as Lambda unpacks it. Every job is a fresh process of this
interpreter (``sys.executable``, never a launcher shim), the jobs interleaved round by round so that
load on the machine falls on each alike; the medians are compared in the same run:

- the artifact against an interpreter that has imported what the AWS Lambda Python runtime imports
  before it imports a handler (``multienv_tools.lambda_runtime.PRELOADS``: os, json, logging, ...,
  read from the runtime's ``bootstrap.py``), site enabled as there: the deployed cold start;
- the artifact under ``python -S`` against ``python -S -c pass``: the same path with nothing preloaded;
- the artifact and a workstation checkout (``multienv.toml`` and ``config/*.toml`` read and checked)
  against ``python -c pass``, site enabled;
- ``import tomllib`` alone, the floor under any loader that reads TOML;
- dynaconf and pydantic-settings doing the same job on the same files, when they are installed
  (neither is a dependency of this project).

Targets: at most 5 ms over Lambda's preloads for the artifact, at most 20 ms over ``python -c pass``
on a workstation, and dynaconf at least 20 times the artifact's overhead. ``--check`` exits 1 when a
measured target is missed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from multienv.settings import load_settings

from . import app_artifact, lambda_runtime

ROOT = Path.cwd()  # run at the root of a service repository (multienv bench-...)

DEPLOYED_TARGET_MS = 5.0
WORKSTATION_TARGET_MS = 20.0
DYNACONF_RATIO_TARGET = 20.0

PRELOADED = lambda_runtime.preload_statement()
DYNACONF = """
import os
from dynaconf import Dynaconf
env = os.environ.get("USER_ENV_NAME") or os.environ["ENV_NAME"]
config = Dynaconf(settings_files=["config/shared.toml", "config/" + env + ".toml"], merge_enabled=True)
config.service.request_timeout_seconds
"""
PYDANTIC_SETTINGS = """
import os
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, TomlConfigSettingsSource
env = os.environ.get("USER_ENV_NAME") or os.environ["ENV_NAME"]
class Service(BaseModel):
    debug: bool
    request_timeout_seconds: int
    max_retries: int
class Log(BaseModel):
    level: str
    json_: bool = Field(alias="json")
class Secret(BaseModel):
    store: str
    name: str
class Config(BaseSettings):
    service: Service
    log: Log
    features: dict[str, bool]
    secrets: dict[str, Secret]
    @classmethod
    def settings_customise_sources(cls, settings_cls, **sources):
        files = ["config/shared.toml", "config/" + env + ".toml"]
        return (TomlConfigSettingsSource(settings_cls, toml_file=files, deep_merge=True),)
Config().service.request_timeout_seconds
"""


def unzipped_artifact(folder: Path) -> Path:
    """``deploy build`` into ``folder``, unzipped beside it, as Lambda unpacks it."""
    zipped = folder / "app.zip"
    app_artifact.build(load_settings(ROOT / "multienv.toml"), zipped)
    target = folder / "artifact"
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(target)
    return target


def run_once(command: list[str], cwd: Path, environ: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=environ, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="runs of each job (default 30)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a measured target is missed")
    args = parser.parse_args(argv)

    settings = load_settings(ROOT / "multienv.toml")
    sys.path[:0] = [str(ROOT / "src")]  # the service, as the workstation runs it
    handler = f"from {settings.package}.handler import handler; handler(dict(), None)"
    env = settings.names[0]
    python = sys.executable
    # As on Lambda: the function's variables, bytecode written on the warm-up run (compiling is not a cold start).
    kept = {k: v for k, v in os.environ.items() if k not in ("USER_ENV_NAME", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    deployed = {**kept, "ENV_NAME": env, "AWS_LAMBDA_FUNCTION_NAME": f"{settings.slug}-{env}-app"}
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as folder:
        artifact = unzipped_artifact(Path(folder))
        jobs: dict[str, tuple[list[str], Path, dict[str, str]]] = {
            "Lambda's preloads": ([python, "-c", PRELOADED], artifact, deployed),
            "artifact on Lambda": ([python, "-c", f"{PRELOADED}; {handler}"], artifact, deployed),
            "python -S -c pass": ([python, "-S", "-c", "pass"], artifact, deployed),
            "artifact, -S": ([python, "-S", "-c", handler], artifact, deployed),
            "python -c pass": ([python, "-c", "pass"], artifact, deployed),
            "artifact": ([python, "-c", handler], artifact, deployed),
            "workstation (TOML)": ([python, "-c", handler], ROOT, {**deployed, "PYTHONPATH": str(ROOT / "src")}),
            # The floor under any TOML reader: what the workstation path costs before a line of ours.
            "import tomllib": ([python, "-c", "import tomllib"], artifact, deployed),
        }
        others = (("dynaconf", "dynaconf", DYNACONF), ("pydantic-settings", "pydantic_settings", PYDANTIC_SETTINGS))
        for name, module, code in others:
            if importlib.util.find_spec(module) is not None:
                jobs[name] = ([python, "-c", code], artifact, deployed)
        for command, cwd, environ in jobs.values():  # warm the bytecode caches; a failing job stops here
            run_once(command, cwd, environ)
        times: dict[str, list[float]] = {name: [] for name in jobs}
        for _ in range(args.rounds):
            for name, (command, cwd, environ) in jobs.items():
                times[name].append(run_once(command, cwd, environ))

    median = {name: statistics.median(values) * 1000 for name, values in times.items()}

    def baseline(name: str) -> str:
        if name == "artifact on Lambda":
            return "Lambda's preloads"
        return "python -S -c pass" if name.endswith("-S") else "python -c pass"

    over = {name: value - median[baseline(name)] for name, value in median.items()}
    version = sys.version.split()[0]
    print(f"cold start, median of {args.rounds} interleaved runs, {python} (Python {version}), ENV_NAME={env}")
    for name, value in median.items():
        extra = "" if name.startswith("python ") else f"  +{over[name]:6.1f} ms over {baseline(name)}"
        print(f"  {name:<22} {value:7.1f} ms{extra}")

    deployed_over, workstation_over = over["artifact on Lambda"], over["workstation (TOML)"]
    results = [
        (
            "artifact over Lambda's preloads",
            deployed_over,
            f"<= {DEPLOYED_TARGET_MS:g} ms",
            deployed_over <= DEPLOYED_TARGET_MS,
        ),
        ("artifact over python -S -c pass", over["artifact, -S"], "(no target)", None),
        (
            "workstation over python -c pass",
            workstation_over,
            f"<= {WORKSTATION_TARGET_MS:g} ms",
            workstation_over <= WORKSTATION_TARGET_MS,
        ),
    ]
    for name in ("dynaconf", "pydantic-settings"):
        if name not in over:
            print(f"  {name} is not installed: no comparison")
            continue
        ratio = over[name] / max(over["artifact"], 0.01)
        if name == "dynaconf":
            target, ok = f">= {DYNACONF_RATIO_TARGET:g}x", ratio >= DYNACONF_RATIO_TARGET
        else:
            target, ok = "(no target)", None
        results.append((f"{name} overhead / artifact's", ratio, target, ok))
        against_workstation = over[name] / over["workstation (TOML)"]
        results.append((f"{name} overhead / workstation's", against_workstation, "(no target)", None))
    floor = over["import tomllib"]
    results.append(("workstation over import tomllib", over["workstation (TOML)"] - floor, "(no target)", None))
    print()
    print(f"  {'what':<40} {'measured':>10}  {'target':<11} verdict")
    missed = False
    for what, value, target, ok in results:
        shown = f"{value:.1f} ms" if target.startswith("<=") or what.endswith(("tomllib", "pass")) else f"{value:.1f}x"
        print(f"  {what:<40} {shown:>10}  {target:<11} {'-' if ok is None else verdict(ok)}")
        missed = missed or ok is False
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
