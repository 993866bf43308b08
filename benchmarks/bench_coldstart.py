"""Cold start of a generated repository: bake the defaults, then run the baked project's own benchmark.

The baked ``benchmarks/bench_coldstart.py`` prints the median wall time of resolving the
environment and loading its configuration next to a bare interpreter and, since the
template's requirements include it, dynaconf doing the same job, all in one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument(
        "--environments", default=None, help="bake with this environments answer instead of the default"
    )
    args = parser.parse_args(argv)
    extra = {"environments": args.environments} if args.environments else {}
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as folder:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=folder, extra_context=extra))
        environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        done = subprocess.run(
            [sys.executable, "benchmarks/bench_coldstart.py", "--rounds", str(args.rounds)],
            cwd=project,
            env=environ,
            check=False,
        )
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
