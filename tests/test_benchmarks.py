"""The benchmarks' verdicts: a missed target is said so, and fails the run under --check."""

from __future__ import annotations

import os
import statistics
import sys
import tomllib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_report import Target, verdict

CASES = [
    # (value, limit, at_least, met)
    (1.9, 2.0, False, True),
    (2.0, 2.0, False, True),
    (2.1, 2.0, False, False),
    (9.9, 5.0, True, True),
    (4.9, 5.0, True, False),
]


@pytest.mark.parametrize("value,limit,at_least,met", CASES)
def test_a_target_is_met_on_the_right_side_of_its_limit(value, limit, at_least, met):
    target = Target("x", value, limit, at_least=at_least)
    assert target.met is met
    assert str(target).endswith("met" if met else "MISSED")


def test_check_fails_the_run_only_when_a_target_is_missed(capsys):
    missed = [Target("fast", 1.0, 2.0), Target("slow", 3.0, 2.0, " s")]
    assert verdict(missed, check=True) == 1
    assert verdict(missed, check=False) == 0
    assert verdict(missed[:1], check=True) == 0
    out = capsys.readouterr().out
    assert "slow: 3.00 s (target: at most 2 s): MISSED" in out
    assert "verdict: missed: slow" in out


# The service's make check beside the last release (benchmarks/bench_service_check.py).
import bench_service_check as service_check  # noqa: E402

RELEASES = """
[[release]]
version = "1.0.0"
commit = "1111111111111111111111111111111111111111"

[[release]]
version = "2.0.0"
commit = "2222222222222222222222222222222222222222"
{after}
"""
PICKS = [
    # (what follows 2.0.0 in releases.toml, the release benched)
    ("", "2.0.0"),
    ('[[release]]\nversion = "3.0.0"\ncommit = ""', "2.0.0"),  # being prepared: not released yet
    ('[[release]]\nversion = "3.0.0"\ncommit = "3333333333333333333333333333333333333333"', "3.0.0"),
]


@pytest.mark.parametrize("after,version", PICKS)
def test_the_release_benched_is_the_newest_with_a_commit(tmp_path, after, version):
    path = tmp_path / "releases.toml"
    path.write_text(RELEASES.format(after=after))
    assert service_check.last_release(path) == (version, version[0] * 40)


def test_another_release_is_picked_by_its_version_and_an_unknown_one_is_refused(tmp_path):
    path = tmp_path / "releases.toml"
    path.write_text(RELEASES.format(after='[[release]]\nversion = "3.0.0"\ncommit = ""'))
    assert service_check.last_release(path, version="1.0.0") == ("1.0.0", "1" * 40)
    with pytest.raises(service_check.BenchError, match=r"--release 3\.0\.0: .* released: 1\.0\.0, 2\.0\.0$"):
        service_check.last_release(path, version="3.0.0")


def test_with_nothing_released_the_error_names_the_file(tmp_path):
    path = tmp_path / "releases.toml"
    path.write_text('[[release]]\nversion = "1.0.0"\ncommit = ""\n')
    with pytest.raises(service_check.BenchError, match=r"releases\.toml: no \[\[release\]\] with both"):
        service_check.last_release(path)


def test_the_release_benched_is_the_template_s_last_one_and_baked_from_its_commit(tmp_path):
    """releases.toml of this tree is the one source; the tree taken out is that commit's, which names
    that version as its own newest release."""
    assert Path(__file__).resolve().parents[1] / "releases.toml" == service_check.RELEASES
    version, commit = service_check.last_release()
    tree = service_check.release_template(commit, tmp_path / "release")
    assert tomllib.loads((tree / "releases.toml").read_text())["release"][-1]["version"] == version
    assert (tree / "cookiecutter.json").is_file()
    assert (tree / "platform" / "tools" / "src" / "multienv_tools").is_dir()  # what its wheels are built from


def measured(label: str, cold: list[float], edit: list[float]) -> service_check.Bake:
    bake = service_check.Bake(label, Path("/nowhere"), [], {})
    bake.times = {"cold": cold, "one edit": edit}
    bake.cpu = {"cold": [2 * value for value in cold], "one edit": [3 * value for value in edit]}
    return bake


REPORTS = [
    # (release cold runs, this tree's cold runs, its one-edit runs, targets missed)
    ([40, 38, 90], [20, 19, 60], [4, 5, 30], []),  # medians 40, 20, 5: half and a quarter exactly
    ([40, 38, 90], [20.5, 19, 60], [4, 5, 30], ["cold"]),
    ([40, 38, 90], [20, 19, 60], [4, 5.1, 30], ["one edit"]),
    ([40, 38, 90], [40, 38, 90], [30, 29, 31], ["cold", "one edit"]),  # today: nothing has moved yet
]


@pytest.mark.parametrize("release_cold,cold,edit,missed", REPORTS)
def test_the_report_prints_both_bakes_and_fails_only_on_a_missed_target(capsys, release_cold, cold, edit, missed):
    bakes = [measured("release 2.0.0 (c92a5f20)", release_cold, [9, 9, 9]), measured("this tree", cold, edit)]
    assert service_check.report(bakes, "release 2.0.0", 3, ("1.00", "2.00"), check=True) == (1 if missed else 0)
    assert service_check.report(bakes, "release 2.0.0", 3, ("1.00", "2.00"), check=False) == 0
    out = capsys.readouterr().out.split("make check of a default bake")[1]  # the first report
    release_row, new_row = (line for line in out.splitlines() if line.startswith(("  release", "  this tree")))
    release_cold, cold, edit = (statistics.median(runs) for runs in (release_cold, cold, edit))
    assert release_row.split()[3:7] == [f"{release_cold:.1f}s", f"({2 * release_cold:.1f})", "9.0s", "(27.0)"]
    assert new_row.split()[2:6] == [f"{cold:.1f}s", f"({2 * cold:.1f})", f"{edit:.1f}s", f"({3 * edit:.1f})"]
    cpu_ratios = f"cold this tree / release {cold / release_cold:.2f}x, one edit / cold {3 * edit / (2 * cold):.2f}x"
    assert cpu_ratios in out
    assert f"{os.cpu_count()} cores, load average (1, 5, 15 min) 1.00 before, 2.00 after" in out
    names = {"cold": "cold: this tree / release 2.0.0", "one edit": "one edit / cold, this tree"}
    for case, name in names.items():
        (line,) = (line for line in out.splitlines() if line.startswith(name))
        assert line.endswith("MISSED" if case in missed else "met"), line
    expected = "missed: " + ", ".join(names[case] for case in missed) if missed else "every target met"
    assert out.strip().splitlines()[-1] == f"verdict: {expected}"


FAKE_MAKEFILE = """\
check:
\t@test ! -e .make/check/stamp || { echo stale stamp; exit 1; }
\tcat src/service/handler.py >> seen.log && echo ---- >> seen.log
clean:
\techo clean >> seen.log
"""


def test_a_cold_run_starts_from_no_stamps_and_an_edit_is_seen_by_make_check_then_undone(tmp_path):
    """On a project of one Makefile: what each case hands `make check`, and what it leaves behind."""
    original = "def handle(event, context):\n    return {}\n"
    handler = tmp_path / "src" / "service" / "handler.py"
    handler.parent.mkdir(parents=True)
    handler.write_text(original)
    (tmp_path / "Makefile").write_text(FAKE_MAKEFILE)
    (tmp_path / ".make" / "check").mkdir(parents=True)
    (tmp_path / ".make" / "check" / "stamp").touch()  # a stamp `make clean` would leave
    bake = service_check.Bake("fake", tmp_path, [], dict(os.environ))
    bake.measure("cold", 0)
    bake.measure("one edit", 7)
    edited = f"{original}\n\n_EDITED_BY_THE_BENCHMARK = 7\n"
    assert (tmp_path / "seen.log").read_text() == f"clean\n{original}----\n{edited}----\n"
    assert handler.read_text() == original
    assert [len(runs) for runs in bake.times.values()] == [1, 1] == [len(runs) for runs in bake.cpu.values()]
    (tmp_path / "Makefile").write_text(FAKE_MAKEFILE.replace("cat src", "false && cat src"))
    with pytest.raises(service_check.BenchError, match=r"^fake: make check failed in "):
        bake.measure("one edit", 8)
    assert handler.read_text() == original


FAKE_WHEELS = """\
import pathlib, sys
folder = pathlib.Path(sys.argv[1])
folder.mkdir(parents=True)
(folder / "requirements-platform.txt").write_text("multienv @ file:///built-from-" + pathlib.Path(__file__).parents[1].name)
"""
FAKE_INSTALL = """\
$(VENV)/.installed-dev: $(PLATFORM_REQUIREMENTS)
\tmkdir -p $(@D) && cat $(PLATFORM_REQUIREMENTS) > $@
"""


def test_each_bake_runs_on_its_own_environment_with_the_platform_its_own_template_builds(tmp_path):
    """The release's checks must run its own installed platform, not this tree's: the wheels come from
    the bake's template tree, its own make installs them, and every later make is handed the same
    ``PLATFORM_REQUIREMENTS`` (else the pins make writes from multienv.toml would reinstall)."""
    template, project = tmp_path / "release-template", tmp_path / "project"
    (template / "platform").mkdir(parents=True)
    (template / "platform" / "wheels.py").write_text(FAKE_WHEELS)
    project.mkdir()
    (project / "Makefile").write_text(FAKE_INSTALL)
    args = service_check.own_environment(template, project, tmp_path / "scratch", [], dict(os.environ))
    requirements = tmp_path / "scratch" / "wheels" / "requirements-platform.txt"
    assert args == [f"VENV={project / '.venv'}", f"PLATFORM_REQUIREMENTS={requirements}"]
    assert (project / ".venv" / ".installed-dev").read_text() == "multienv @ file:///built-from-release-template"
    (template / "platform" / "wheels.py").write_text("raise SystemExit('no backend')")
    with pytest.raises(service_check.BenchError, match=r"^building the platform of .*release-template failed"):
        service_check.own_environment(template, project, tmp_path / "again", [], dict(os.environ))
