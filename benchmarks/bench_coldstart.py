"""Cold start of a generated repository: bake, then run the platform's benchmark on it.

``multienv bench-coldstart`` (the platform's ``multienv_tools/bench_coldstart.py``) builds and unzips the artifact and prints, in one
interleaved run, its cold start over what the AWS Lambda Python runtime has imported before it
imports a handler (the deployed budget: 5 ms), under ``python -S`` and with site, a workstation's (the TOML
files read and checked), and dynaconf and pydantic-settings doing the same job, with targets
and a verdict. This interpreter runs it, so the template's environment provides the two
libraries compared against.
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
    parser.add_argument("--check", action="store_true", help="exit 1 when a measured target is missed")
    parser.add_argument(
        "--environments", default=None, help="bake with this environments answer instead of the default"
    )
    args = parser.parse_args(argv)
    extra = {"environments": args.environments} if args.environments else {}
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as folder:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=folder, extra_context=extra))
        environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        command = [sys.executable, "-m", "multienv_tools.bench_coldstart", "--rounds", str(args.rounds)]
        done = subprocess.run([*command, *(["--check"] if args.check else [])], cwd=project, env=environ, check=False)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
