"""Median wall time of a command-line bake of the defaults, next to a one-file template.

Both are measured in this run, on this machine, so the ratio is what matters:
the cost this template adds over cookiecutter's own floor. Target: ratio <= 3.0 (docs/design.md,
"Python hooks that call the template package"). --compare TEMPLATE bakes another checkout in the
same interleaved run, for a before/after.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_report import Target, add_check_option, verdict

TEMPLATE = Path(__file__).resolve().parents[1]
COOKIECUTTER = Path(sys.executable).parent / "cookiecutter"
ROUNDS = 21
RATIO_TARGET = 3.0


def one_file_template(root: Path) -> Path:
    template = root / "one-file"
    (template / "{{cookiecutter.project_slug}}").mkdir(parents=True)
    (template / "cookiecutter.json").write_text(json.dumps({"project_slug": "one-file"}))
    (template / "{{cookiecutter.project_slug}}" / "README.md").write_text("# {{ cookiecutter.project_slug }}\n")
    return template


def bake_once(template: Path, out: Path, config: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(COOKIECUTTER), str(template), "--no-input", "--output-dir", str(out), "--config-file", str(config)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"bakes of each template (default {ROUNDS})")
    parser.add_argument(
        "--compare", type=Path, metavar="TEMPLATE", help="also bake this template (another checkout), interleaved"
    )
    add_check_option(parser)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = root / "config.yaml"
        config.write_text(f"cookiecutters_dir: {root / 'cache'}\nreplay_dir: {root / 'replay'}\n")
        baseline_template = one_file_template(root)
        bake_once(baseline_template, root / "warmup-baseline", config)  # page cache
        bake_once(TEMPLATE, root / "warmup-defaults", config)
        if args.compare:
            bake_once(args.compare, root / "warmup-compare", config)
        baseline_times, our_times, compare_times = [], [], []
        # Interleaved, so that load on the machine falls on both alike.
        for i in range(args.rounds):
            baseline_times.append(bake_once(baseline_template, root / f"baseline-{i}", config))
            our_times.append(bake_once(TEMPLATE, root / f"defaults-{i}", config))
            if args.compare:
                compare_times.append(bake_once(args.compare, root / f"compare-{i}", config))
    baseline, ours = statistics.median(baseline_times), statistics.median(our_times)
    print(f"rounds per case:            {args.rounds} (interleaved)")
    print(f"one-file template (median): {baseline * 1000:7.1f} ms  (the baseline)")
    print(f"defaults bake (median):     {ours * 1000:7.1f} ms")
    if args.compare:
        other = statistics.median(compare_times)
        print(f"{args.compare} (median): {other * 1000:7.1f} ms, this one {(ours - other) * 1000:+.1f} ms")
    return verdict([Target("bake time / one-file bake", ours / baseline, RATIO_TARGET, "x")], args.check)


if __name__ == "__main__":
    sys.exit(main())
