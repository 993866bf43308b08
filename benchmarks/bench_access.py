"""How long a baked project's `make check-access` takes, and what one simulator process saves.

Bakes the default project, then measures (medians of several runs):
- `make check-access` end to end (render, simulate every case, parliament);
- the simulator alone for the first N cases: one node process for all of them, against the
  baseline of one node process per case, measured in the same run.

Targets: `make check-access` of the defaults at most CHECK_ACCESS_TARGET seconds, and one process
for the sample at least ONE_PROCESS_TARGET times faster than one process per case.

Usage: python benchmarks/bench_access.py [--runs 5] [--sample 40] [--check]
Needs the template's `make install` (iam-simulate in .venv/access-node, or NODE_MODULES).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_report import Target, add_check_option, verdict
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
CHECK_ACCESS_TARGET = 15.0  # seconds, of the defaults' make check-access (about 7 s measured)
ONE_PROCESS_TARGET = 5.0  # one node process for the sample against one per case


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", type=int, default=40)
    add_check_option(parser)
    args = parser.parse_args()
    node_modules = Path(os.environ.get("NODE_MODULES", VENV / "access-node" / "node_modules"))
    if not (node_modules / "@cloud-copilot" / "iam-simulate").is_dir():
        print(f"no iam-simulate in {node_modules}: run make install", file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    with tempfile.TemporaryDirectory() as out:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=out))

        def check_access():
            subprocess.run(
                ["make", "check-access", f"VENV={VENV}", f"NODE_MODULES={node_modules}"],
                cwd=project,
                env=env,
                check=True,
                capture_output=True,
            )

        # The requests exactly as check-access builds them, for the simulator-only comparison.
        script = (
            "import json, sys\n"
            "from multienv_tools import access_matrix as am\n"
            "from multienv.settings import load_settings\n"
            "s = load_settings()\n"
            "w = am.World(s, am.load_trust(s))\n"
            "p = am.collect_policies(am.render_all(s))\n"
            "cases = am.read_cases(s.root / am.CASES_FILE)\n"
            "print(json.dumps([{'id': i, 'simulation': am.simulation(p, w, c, '')} for i, (n, c) in enumerate(cases)]))\n"
        )
        built = subprocess.run(
            [str(VENV / "bin" / "python"), "-c", script],
            cwd=project,
            env={**env, "PYTHONPATH": "src:tools"},
            check=True,
            capture_output=True,
            text=True,
        )
        requests = json.loads(built.stdout)
        sample = requests[: args.sample]
        node_env = {**env, "NODE_PATH": str(node_modules)}
        driver = project / "access" / "simulate.cjs"

        def simulate(batch):
            subprocess.run(
                ["node", str(driver)], input=json.dumps(batch), text=True, env=node_env, check=True, capture_output=True
            )

        whole = timed(check_access, args.runs)
        one_process = timed(lambda: simulate(sample), args.runs)
        per_case = timed(lambda: [simulate([r]) for r in sample], args.runs)
        all_cases = timed(lambda: simulate(requests), args.runs)

    print(f"make check-access, {len(requests)} cases: median {whole:.2f} s over {args.runs} runs")
    print(f"simulator, all {len(requests)} cases in one node process: median {all_cases:.2f} s")
    print(
        f"simulator, {len(sample)} cases: one process {one_process:.2f} s; one process per case (baseline) "
        f"{per_case:.2f} s; ratio {per_case / one_process:.1f}x"
    )
    return verdict(
        [
            Target("make check-access", whole, CHECK_ACCESS_TARGET, " s"),
            Target(
                "one process per case / one process", per_case / one_process, ONE_PROCESS_TARGET, "x", at_least=True
            ),
        ],
        args.check,
    )


if __name__ == "__main__":
    sys.exit(main())
