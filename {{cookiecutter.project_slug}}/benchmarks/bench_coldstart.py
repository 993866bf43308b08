"""Cold start: what resolving the environment and loading its configuration adds to a fresh interpreter.

Every job runs as ``python -c "..."`` in a new process, the jobs interleaved round by round so
that load on the machine falls on each alike, and the medians are printed side by side:

- bare: ``python -c pass``, the baseline;
- tomllib: ``import tomllib`` alone, what any TOML-reading loader pays;
- stdlib floor: ``import tomllib, dataclasses, pathlib``, every standard module the path needs;
- ours: resolve the environment and load ``config/shared.toml`` + ``config/<env>.toml``, checked;
- dynaconf: the same two files merged by dynaconf, when dynaconf is importable (it is not a
  dependency of this project).

Targets: at most 5 ms over bare, and at least 10 times less overhead than dynaconf.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"
sys.path.insert(0, str(ROOT / "src"))

from multienv.settings import load_settings  # noqa: E402

OURS = "from multienv.config import load_config; load_config().service"
# The standard-library modules the path needs (TOML parser, the schema's dataclasses, paths):
# what any loader built on them pays before running a line of its own.
STDLIB_FLOOR = "import tomllib, dataclasses, pathlib"
DYNACONF = """
import os
from dynaconf import Dynaconf
env = os.environ.get("USER_ENV_NAME") or os.environ["ENV_NAME"]
config = Dynaconf(settings_files=["config/shared.toml", "config/" + env + ".toml"], merge_enabled=True)
config.service.request_timeout_seconds
"""


def job_environment(env_name: str) -> dict[str, str]:
    """This process's variables with the environment named explicitly, so every runtime resolves alike."""
    # Bytecode caches are written on the warm-up run, as on any deployed host: compiling is not cold start.
    dropped = ("USER_ENV_NAME", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    environ = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**environ, "ENV_NAME": env_name, "PYTHONPATH": str(ROOT / "src")}


def run_once(code: str, environ: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=environ, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="runs of each job (default 30)")
    args = parser.parse_args(argv)

    settings = load_settings()
    environ = job_environment(settings.default_environment.name)
    jobs = {
        "bare interpreter": "pass",
        "import tomllib": "import tomllib",
        "stdlib floor": STDLIB_FLOOR,
        "resolve + load config": OURS,
    }
    if importlib.util.find_spec("dynaconf") is not None:
        jobs["dynaconf, same files"] = DYNACONF

    for code in jobs.values():  # warm the bytecode caches; a failing job stops here
        run_once(code, environ)
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(args.rounds):
        for name, code in jobs.items():
            times[name].append(run_once(code, environ))

    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    bare = medians["bare interpreter"]
    print(
        f"cold start, median of {args.rounds} runs, Python {sys.version.split()[0]}, environment {environ['ENV_NAME']}"
    )
    for name, median in medians.items():
        extra = "" if name == "bare interpreter" else f"  +{median - bare:6.1f} ms over bare"
        print(f"  {name:<24} {median:7.1f} ms{extra}")
    ours = medians["resolve + load config"] - bare
    floor = medians["stdlib floor"] - bare
    print(
        f"  ours over bare: {ours:.1f} ms (target: at most 5 ms), of which {ours - floor:.1f} ms is this package's code"
    )
    if "dynaconf, same files" in medians:
        theirs = medians["dynaconf, same files"] - bare
        print(f"  overhead ratio dynaconf / ours: {theirs / max(ours, 0.01):.1f}x (target: at least 10x)")
    else:
        print("  dynaconf is not installed: no comparison")
    return 0


if __name__ == "__main__":
    sys.exit(main())
