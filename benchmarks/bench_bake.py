"""Median wall time of a command-line bake of the defaults, next to a one-file template.

Both are measured in this run, on this machine, so the ratio is what matters:
the cost this template adds over cookiecutter's own floor. Target: ratio <= 2.0.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
COOKIECUTTER = Path(sys.executable).parent / "cookiecutter"
ROUNDS = 15


def one_file_template(root: Path) -> Path:
    template = root / "one-file"
    (template / "{{cookiecutter.project_slug}}").mkdir(parents=True)
    (template / "cookiecutter.json").write_text(json.dumps({"project_slug": "one-file"}))
    (template / "{{cookiecutter.project_slug}}" / "README.md").write_text("# {{ cookiecutter.project_slug }}\n")
    return template


def median_bake(template: Path, root: Path, label: str) -> float:
    config = root / "config.yaml"
    config.write_text(f"cookiecutters_dir: {root / 'cache'}\nreplay_dir: {root / 'replay'}\n")
    times = []
    for i in range(ROUNDS):
        out = root / f"{label}-{i}"
        start = time.perf_counter()
        subprocess.run(
            [str(COOKIECUTTER), str(template), "--no-input", "--output-dir", str(out), "--config-file", str(config)],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        baseline_template = one_file_template(root)
        median_bake(baseline_template, root, "warmup")  # page cache, bytecode
        baseline = median_bake(baseline_template, root, "baseline")
        ours = median_bake(TEMPLATE, root, "defaults")
    print(f"rounds per case:            {ROUNDS}")
    print(f"one-file template (median): {baseline * 1000:7.1f} ms")
    print(f"defaults bake (median):     {ours * 1000:7.1f} ms")
    print(f"ratio:                      {ours / baseline:7.2f}  (target <= 2.0)")


if __name__ == "__main__":
    main()
