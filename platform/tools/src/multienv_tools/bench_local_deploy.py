"""Local deploy: what `make local-deploy` costs next to merely starting the local AWS.

Both jobs run as fresh processes, interleaved round by round so that load on the machine falls
on each alike; the medians are printed side by side:

- baseline: import boto3 and moto, start the moto server on 127.0.0.1 and stop it;
- local deploy: every stack of this repository's strategy, the artifact, the checks and the
  IAM demonstration (``python -m multienv_tools.local_deploy``).

Target: the local deploy's median at most TARGET_SECONDS; ``--check`` exits 1 when it is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path.cwd()  # run at the root of a service repository (multienv bench-...)
BASELINE = (
    "import boto3; from moto.server import ThreadedMotoServer; "
    "server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False); server.start(); server.stop()"
)
# The defaults (four environments, full_isolation) on a shared 2-core machine: `make local-deploy`
# 7.6-11.6 s, a median of 10.4 s here (docs/infrastructure.md quotes the range and this target).
TARGET_SECONDS = 15.0
JOBS = {
    "start and stop the local AWS": [sys.executable, "-c", BASELINE],
    "local deploy": [sys.executable, "-m", "multienv_tools.local_deploy"],
}


def run_once(command: list[str]) -> float:
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
    }
    start = time.perf_counter()
    subprocess.run(command, env=environ, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each job (default 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)
    for command in JOBS.values():  # warm the bytecode caches; a failing job stops here
        run_once(command)
    times: dict[str, list[float]] = {name: [] for name in JOBS}
    for _ in range(args.rounds):
        for name, command in JOBS.items():
            times[name].append(run_once(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    baseline = medians["start and stop the local AWS"]
    print(f"local deploy, median of {args.rounds} runs, Python {sys.version.split()[0]}")
    for name, median in medians.items():
        print(f"  {name:<30} {median:6.2f} s  ({median / baseline:.1f}x the baseline)")
    deploy = medians["local deploy"]
    met = deploy <= TARGET_SECONDS
    print(f"target: local deploy at most {TARGET_SECONDS:g} s: {'met' if met else 'MISSED'} ({deploy:.2f} s)")
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
