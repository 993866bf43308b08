"""``multienv synth [--check]``: the platform's files of a repository, rendered from its ``multienv.toml``.

The platform's stacks (``infra/devops.yaml``, ``infra/workload-bootstrap.yaml``, ``infra/personas.yaml``,
``infra/stacksets/...``, ``org/perimeter.yaml``), ``requirements-platform.txt``, its documentation
(``docs/*.md``, ``org/README.md``), its workflows (``.github/workflows/*.yml``) and the access
matrix's generated cases (``access/generated-cases.csv``) are the platform's, not the team's: their
sources ship in this package (``rendered/``, at the path each file takes in a repository; ``.j2`` is
Jinja over the settings, anything else is copied as it is; the cases are written by
``persona_cases``, the code that defines them, see ``COMPUTED``). They are rendered into the
repository and committed, so that reviewers read every IAM and CI change in a pull request, and each
one starts with a header, in the file's own comment syntax (an HTML comment in Markdown), that says
it is generated, by which platform version, from what, and that ``make synth`` writes it again.

- ``multienv synth`` writes them.
- ``multienv synth --check`` writes nothing and exits 1 naming each file that is missing or differs
  from what this platform renders (edited by hand, or ``multienv.toml`` changed since), with the first
  lines of the difference.
- Both refuse (exit 1) when the installed platform is not the version ``[platform]`` of
  ``multienv.toml`` names: its files would be another release's.

The template's post-gen hook calls ``write`` from the template's checkout at bake time, so a bake
and ``multienv synth`` render the same bytes: this module imports only the standard library, jinja2,
the runtime ``multienv``, ``pipeline`` and ``persona_cases`` (standard library and the runtime too).
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from multienv.settings import SETTINGS_FILE, Environment, Settings, SettingsError, load_settings

from . import persona_cases, pipeline

SOURCES = Path(__file__).resolve().parent / "rendered"
JINJA_SUFFIX = ".j2"
COMMAND = "make synth"
# The distributions a repository installs, and where each lives in the template's repository.
DISTRIBUTIONS = (("multienv", "platform/runtime"), ("multienv-tools", "platform/tools"))
VERSION_PATTERN = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
SOURCE_PATTERN = re.compile(r"^git\+(https|ssh|file)://[^@\s#]+$")
REF_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
# Lines of unified diff shown per differing file: enough to see where it starts to differ.
DIFF_LINES = 12


class SynthError(ValueError):
    """``multienv.toml``'s ``[platform]`` is wrong, or the installed platform is another version."""


@dataclass(frozen=True)
class Platform:
    """``[platform]`` of ``multienv.toml``: the release a repository runs and where it comes from."""

    version: str
    source: str
    ref_override: str = ""
    distributions: tuple[tuple[str, str], ...] = DISTRIBUTIONS

    @property
    def ref(self) -> str:
        """The git ref installed: the release's tag, unless ``ref`` names a commit to use instead."""
        return self.ref_override or f"v{self.version}"


def platform_of(data: Mapping, path: str) -> Platform:
    """``[platform]`` of the parsed ``multienv.toml`` at ``path``, checked: every problem at once."""
    table = data.get("platform")
    if not isinstance(table, Mapping):
        raise SynthError(
            f'{path}: platform: is missing: add [platform] with version = "<x.y.z>" and '
            'source = "git+https://github.com/<owner>/multienv-template"'
        )
    problems = []
    rules = {
        "version": (VERSION_PATTERN, "a release version x.y.z (the template's releases.toml lists them)"),
        "source": (SOURCE_PATTERN, "a git URL without a ref: git+https://github.com/<owner>/multienv-template"),
        "ref": (REF_PATTERN, "a commit or tag of that repository, or absent (then v<version>)"),
    }
    for key, (pattern, allowed) in rules.items():
        value = table.get(key, "" if key == "ref" else None)
        if key == "ref" and value == "":
            continue
        if not isinstance(value, str) or not pattern.match(value):
            problems.append(f"{path}: platform.{key}: {value!r} is not {allowed}")
    for key in table:
        if key not in rules:
            problems.append(f"{path}: platform.{key}: is not a key of [platform] (the keys: {', '.join(rules)})")
    if problems:
        raise SynthError("\n".join(problems))
    return Platform(version=table["version"], source=table["source"], ref_override=table.get("ref", ""))


def installed_version() -> str:
    """The version of the platform installed in this environment ("" when it is not installed)."""
    from importlib import metadata

    try:
        return metadata.version("multienv-tools")
    except metadata.PackageNotFoundError:
        return ""


def _from_settings(name: str) -> property:
    """A property of the plan that is its ``Settings``' own: decided there, and only there."""
    return property(lambda plan: getattr(plan.settings, name), doc=f"``Settings.{name}``")


@dataclass(frozen=True)
class StackPlan:
    """What the rendered files' Jinja reads as ``plan``: the settings, and the platform's rules over them.

    Every fact is ``Settings``' (``multienv.toml`` as loaded) or a rule of the platform's own modules
    (``pipeline``, ``personas``, ``persona_cases``); the Jinja holds layout only."""

    settings: Settings

    project_name = _from_settings("project_name")
    project_slug = _from_settings("slug")
    package_name = _from_settings("package")
    region = _from_settings("region")
    github_repository = _from_settings("github_repository")
    github_owner_id = _from_settings("github_owner_id")
    github_repository_id = _from_settings("github_repository_id")
    strategy = _from_settings("strategy")
    accounts = _from_settings("accounts")
    devops = _from_settings("devops")
    environments = _from_settings("environments")
    default_environment = _from_settings("default_environment")
    production = _from_settings("production")
    naming = _from_settings("naming")
    data_stores = _from_settings("data_stores")
    has_table = _from_settings("has_table")
    has_bucket = _from_settings("has_bucket")
    has_data = _from_settings("has_data")

    @property
    def env_names(self) -> list[str]:
        return list(self.settings.names)

    def environment(self, name: str) -> Environment:
        return self.settings.environment(name)

    def environments_in(self, account) -> list[Environment]:
        return self.settings.environments_in(account)

    @property
    def account_ids_given(self) -> bool:
        """Every account of ``[accounts]`` has a real ID (none is a ``0000000000NN`` placeholder)."""
        return not self.settings.uses_placeholders

    @property
    def pipeline(self):  # the module: DEFAULT_REF and the workflow names the CI roles trust
        return pipeline

    @property
    def data_table_key(self) -> list[dict[str, str]]:
        """The table's key attributes, partition key first (``stacks.TABLE_KEY``)."""
        from .stacks import TABLE_KEY

        return [{"name": n, "type": t, "key_type": k} for n, t, k in TABLE_KEY]

    @property
    def ci_stages(self) -> list:
        return pipeline.stages((e.name, e.tier) for e in self.environments)

    @property
    def ci_dispatch_targets(self) -> list[str]:
        return pipeline.dispatch_targets((e.name, e.tier) for e in self.environments)

    def persona_rows(self) -> list[tuple[str, list[str]]]:
        """(persona title, its grant in each environment): the table of docs/personas.md."""
        from . import personas

        return personas.table(e.tier for e in self.environments)

    def platform_case_count(self) -> int:
        """The access matrix's generated cases that follow from the environments alone (personas, the
        platform's roles, releases); the cases of each configuration's secret references come on top."""
        from . import persona_cases

        environments = ((e.name, e.tier, e.account.id) for e in self.environments)
        return len(persona_cases.default_cases(environments, None, self.data_stores))

    def data_rows(self) -> list[tuple[str, list[str]]]:
        """(persona title, its data rule in each environment): the table of docs/data.md."""
        from . import personas

        return [
            (personas.TITLES[p], [personas.grant(e.tier, p).data.value for e in self.environments])
            for p in personas.PERSONAS
        ]

    def subset_targets(self) -> list[Environment]:
        """The environments a masked subset of production may be copied to (none without a table)."""
        from . import personas

        if not self.has_table:
            return []
        return [e for e in self.environments if e.tier in personas.SUBSET_TARGET_TIERS]


def generated_cases(settings: Settings) -> str:
    """``access/generated-cases.csv``: the cases ``multienv.toml``'s environments get from the persona
    table and the platform's roles (the secret reads are the configuration's: check-access adds those)."""
    environments = ((e.name, e.tier, e.account.id) for e in settings.environments)
    return persona_cases.render_cases(persona_cases.default_cases(environments, None, settings.data_stores))


# Files written by the platform's code rather than from a source under rendered/: path -> (the
# module that writes it, relative to multienv_tools/, for the header; the function of the settings).
COMPUTED = {persona_cases.GENERATED_CASES_FILE: ("persona_cases.py", generated_cases)}


def sources() -> list[str]:
    """Every source under ``rendered/``, relative, sorted."""
    return sorted(p.relative_to(SOURCES).as_posix() for p in SOURCES.rglob("*") if p.is_file())


def target_of(source: str) -> str:
    return source.removesuffix(JINJA_SUFFIX)


def files() -> list[str]:
    """The paths ``multienv synth`` writes in a repository, sorted: the platform's, marked generated."""
    return sorted([*(target_of(source) for source in sources()), *COMPUTED])


# A file's comment syntax, by its suffix: Markdown's is HTML's (GitHub shows nothing of it), the
# rest (YAML, requirements files) take ``#`` lines.
COMMENTS = {".md": ("<!-- ", "", " -->")}
LINE_COMMENT = ("# ", "# ", "")


def header(source: str, version: str) -> str:
    """The first lines of a rendered file: generated, by which platform, from what, and how again."""
    first, rest, last = COMMENTS.get(Path(target_of(source)).suffix, LINE_COMMENT)
    lines = [
        f"Generated by `multienv synth` (platform {version}) from {SETTINGS_FILE} and the platform's",
        f"multienv_tools/{source}. Do not edit: `make check` fails when this file differs",
        f"from what the platform renders. Change {SETTINGS_FILE} (or its [platform] version), then",
        f"run `{COMMAND}` and commit the result.",
    ]
    return "".join(
        f"{first if i == 0 else rest}{line}{last if i == len(lines) - 1 else ''}\n" for i, line in enumerate(lines)
    )


def render(settings: Settings, platform: Platform, version: str) -> dict[str, str]:
    """``{path: text}`` of every file ``multienv synth`` writes, rendered by platform ``version``."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(SOURCES)),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - YAML, Markdown and requirements, never HTML served
    )
    plan = StackPlan(settings)
    rendered: dict[str, str] = {}
    for source in sources():
        if source.endswith(JINJA_SUFFIX):
            body = env.get_template(source).render(plan=plan, platform=platform)
        else:
            body = (SOURCES / source).read_text(encoding="utf-8")
        target = target_of(source)
        rendered[target] = header(f"rendered/{source}", version) + body
    for target, (module, function) in COMPUTED.items():
        rendered[target] = header(module, version) + function(settings)
    return dict(sorted(rendered.items()))


def load(root: Path) -> tuple[Settings, Platform]:
    """The settings and ``[platform]`` of the ``multienv.toml`` at ``root``."""
    path = root / SETTINGS_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SynthError(f"{path}: cannot be read ({error.strerror}): run at the repository's root") from None
    except tomllib.TOMLDecodeError as error:
        raise SynthError(f"{path}: is not TOML: {error}") from None
    return load_settings(path), platform_of(data, str(path))


def write(root: Path, version: str) -> list[Path]:
    """Render every file into the repository at ``root`` with platform ``version``; the paths written.

    Everything is rendered before anything is written: a bad ``multienv.toml`` leaves the files as they were."""
    settings, platform = load(root)
    rendered = render(settings, platform, version)
    written = []
    for target, text in rendered.items():
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def differences(root: Path, version: str) -> list[str]:
    """One report per file that is missing or differs from what platform ``version`` renders."""
    settings, platform = load(root)
    reports = []
    for target, text in render(settings, platform, version).items():
        path = root / target
        if not path.is_file():
            reports.append(f"{target}: missing: `{COMMAND}` writes it")
            continue
        current = path.read_text(encoding="utf-8", errors="replace")
        if current == text:
            continue
        found = re.search(r"\(platform ([^)\s]+)\)", current.split("\n", 1)[0])
        if found and found.group(1) != version:
            why = f"rendered by platform {found.group(1)}; platform {version} renders it differently"
        elif not found:
            why = "has no generated header: a copy from before `multienv synth`, or edited by hand"
        else:
            why = f"differs from what platform {version} renders: edited by hand, or {SETTINGS_FILE} changed since"
        diff = list(
            difflib.unified_diff(
                current.splitlines(),
                text.splitlines(),
                f"{target} (in the repository)",
                f"{target} (rendered)",
                n=1,
                lineterm="",
            )
        )
        shown = [f"    {line}" for line in diff[:DIFF_LINES]]
        more = [f"    ... {len(diff) - DIFF_LINES} more line(s) of difference"] if len(diff) > DIFF_LINES else []
        reports.append("\n".join([f"{target}: {why}", *shown, *more]))
    return reports


def version_problem(platform: Platform, installed: str) -> str:
    """Why this installed platform may not render for a repository that pins ``platform`` ("" when it may)."""
    if installed == platform.version:
        return ""
    what = f"platform {installed} is installed" if installed else "no platform (multienv-tools) is installed"
    return (
        f"{SETTINGS_FILE} pins platform {platform.version} ([platform] version), but {what}: "
        f"run `make install` (it installs the version {SETTINGS_FILE} pins), then `{COMMAND}`"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="multienv synth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 naming each stale file")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository (default: here)")
    args = parser.parse_args(argv)
    try:
        _, platform = load(args.root)
        problem = version_problem(platform, installed_version())
        if problem:
            print(f"multienv synth: {problem}", file=sys.stderr)
            return 1
        if args.check:
            reports = differences(args.root, platform.version)
            if reports:
                print("\n".join(reports), file=sys.stderr)
                print(
                    f"multienv synth --check: {len(reports)} file(s) are not what platform {platform.version} "
                    f"renders from {SETTINGS_FILE}: run `{COMMAND}` and commit them (a platform file edited by "
                    "hand is overwritten: make the change in the platform, or in infra/app.yaml)",
                    file=sys.stderr,
                )
                return 1
            print(f"multienv synth --check: {len(files())} file(s) are what platform {platform.version} renders")
            return 0
        written = write(args.root, platform.version)
    except (SynthError, SettingsError) as error:
        print(f"multienv synth: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path.relative_to(args.root) if path.is_relative_to(args.root) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
