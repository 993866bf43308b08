"""Every fence holds against the names AWS would really hold.

Every policy of every rendered stack is read as data, and every pattern in it that contains ``*``
or ``?`` and one of this project's fences (``<slug>--<env>-``, ``<slug>--``, ``<slug>/<env>/``,
``<slug>/``) is checked both ways against the names of everyone else who may share the accounts:
another environment of this project, and projects of this template whose slugs are chosen to
collide with ours (``<slug>-<env>-x``, ``<slug>-devops``, ``<slug>-identity``, every slug ours
extends, each with environments named like ours or like the rest of our slug). None of their
names may match our pattern, and none of ours may match the same pattern written for them.

Patterns are matched as IAM matches them: ``*`` is any run of characters, ``/`` included, and
``?`` is one character.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator

import pytest

from multienv.model import ENV_NAME_PATTERN
from multienv.naming import DEVOPS, IDENTITY, SEPARATOR, SLUG_PATTERN, Naming
from multienv.settings import load_settings
from multienv_tools.cfn import as_list, policies, render, statements
from multienv_tools.stacks import stack_specs

SHA = "0" * 64

# A fence of this project, as a function of a project's naming and an environment.
FENCES: dict[str, Callable[[Naming, str], str]] = {
    "environment": lambda n, env: n.prefix(env),
    "secret path": lambda n, env: n.secret_prefix(env),
    "project": lambda n, env: n.project_prefix(),
    "namespace": lambda n, env: f"{n.slug}/",
}


@functools.cache
def _glob(pattern: str) -> tuple[list[str], re.Pattern[str]]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.split(r"[*?]", pattern), re.compile(regex, re.DOTALL)


def iam_match(pattern: str, value: str) -> bool:
    """IAM's glob on ARNs: ``*`` spans any characters (``/`` too), ``?`` one.

    The literal pieces between wildcards must all be in ``value``, the first at its start and the
    last at its end: checked first, as the fences differ there for nearly every pair (a project's
    twelve environments make some million pairs), and only a value that passes meets the regex.
    """
    pieces, regex = _glob(pattern)
    if not (value.startswith(pieces[0]) and value.endswith(pieces[-1]) and all(p in value for p in pieces)):
        return False
    return regex.fullmatch(value) is not None


def instance(pattern: str) -> str:
    """A name the pattern takes in: every wildcard filled with one character."""
    return pattern.replace("*", "x").replace("?", "x")


def patterns(document) -> Iterator[str]:
    """Every string of a policy's Resource, NotResource and Condition values that holds a wildcard."""
    for statement in statements(document):
        values = [*as_list(statement.get("Resource")), *as_list(statement.get("NotResource"))]
        for operator in (statement.get("Condition") or {}).values():
            for value in operator.values():
                values += as_list(value)
        yield from (v for v in values if isinstance(v, str) and ("*" in v or "?" in v))


@pytest.fixture(scope="module")
def settings():
    return load_settings()


@pytest.fixture(scope="module")
def rendered_patterns(settings) -> list[tuple[str, str]]:
    """(where, pattern) of every wildcard pattern of every rendered stack that names this project."""
    found = []
    for spec in stack_specs(settings, SHA):
        for policy in policies(render(spec)):
            found += [(f"{spec.name} {policy.name}", p) for p in patterns(policy.document) if settings.slug in p]
    return found


def neighbours(naming: Naming, envs: list[str]) -> tuple[list[Naming], list[str]]:
    """The colliding projects and the environment names they may have."""
    slug, parts = naming.slug, naming.slug.split("-")
    ours = [*envs, DEVOPS, IDENTITY]
    slugs = [
        f"{slug}-peer",
        f"{slug}-{DEVOPS}",
        f"{slug}-{IDENTITY}",
        *(f"{slug}-{env}-x" for env in ours),
        *("-".join(parts[:end]) for end in range(1, len(parts))),
    ]
    # Environments named like ours, and like each piece of our slug (``app`` of ``my-multienv-app``).
    their_envs = [*ours, *(p for p in parts if ENV_NAME_PATTERN.match(p)), "x"]
    # Theirs follow the same scheme as ours (the test of the check below gives the old one to both).
    return [type(naming)(s, naming.region) for s in dict.fromkeys(slugs)], list(dict.fromkeys(their_envs))


def collisions(naming: Naming, envs: list[str], where: str, pattern: str) -> list[str]:
    """Why ``pattern`` (ours) takes in someone else's name, or their version of it takes in ours."""
    peers, their_envs = _neighbours(naming, tuple(envs))
    problems = []
    for (kind, fence_of), env in itertools.product(FENCES.items(), [*envs, DEVOPS, IDENTITY]):
        fence = fence_of(naming, env)
        start = pattern.find(fence)
        if start < 0:
            continue
        others = [(naming, other) for other in [*envs, DEVOPS, IDENTITY] if other != env]
        others += [(peer, other) for peer in peers for other in their_envs]
        for other_naming, other_env in others:
            theirs_fence = fence_of(other_naming, other_env)
            if theirs_fence == fence:
                continue  # the same name: a fence that names no project or environment here
            theirs = pattern[:start] + theirs_fence + pattern[start + len(fence) :]
            whose = f"{other_naming.slug} {other_env}"
            if iam_match(pattern, instance(theirs)):
                problems.append(f"{where}: {pattern} ({kind} fence) takes in {whose}'s {instance(theirs)}")
            if iam_match(theirs, instance(pattern)):
                problems.append(f"{where}: {whose}'s {theirs} takes in our {instance(pattern)}")
    return problems


@functools.cache
def _neighbours(naming: Naming, envs: tuple[str, ...]) -> tuple[list[Naming], list[str]]:
    return neighbours(naming, list(envs))


def shapes(naming: Naming, envs: list[str], found: list[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """One (where, pattern) per shape: a pattern with its environment's fences written as a
    placeholder. Every environment's policies are the same but for their own names, so with twelve
    environments a shape stands for twelve patterns (each still checked against every environment and
    colliding project); a pattern that names its environment anywhere else keeps a shape of its own."""
    one: dict[str, tuple[str, str]] = {}
    for where, pattern in found:
        shape = pattern
        for env in [*envs, DEVOPS, IDENTITY]:
            for fence_of in FENCES.values():
                fence = fence_of(naming, env)
                if fence != naming.project_prefix() and fence != f"{naming.slug}/":
                    shape = shape.replace(fence, "\0")
        one.setdefault(shape, (where, pattern))
    return one


def test_every_wildcard_pattern_is_fenced_against_other_environments_and_colliding_projects(
    settings, rendered_patterns
):
    envs = [e.name for e in settings.environments]
    assert len(rendered_patterns) > 50  # the boundary, the persona policies, the DevOps resource policies...
    checked = shapes(settings.naming, envs, rendered_patterns).values()
    problems = [p for where, pattern in checked for p in collisions(settings.naming, envs, where, pattern)]
    assert not problems, "\n".join(problems[:20])


def test_a_shape_stands_for_each_environments_own_pattern(settings):
    naming, envs = settings.naming, [e.name for e in settings.environments]
    found = [(env, f"arn:aws:iam::*:role/{naming.prefix(env)}*") for env in envs]
    found.append(("devops", f"arn:aws:s3:::{naming.prefix(DEVOPS)}artifacts-*/{envs[-1]}/*"))
    assert len(shapes(naming, envs, found)) == 2


class SingleHyphen(Naming):
    """The fences as they were: ``<slug>-<env>-`` and ``<slug>-``."""

    __slots__ = ()

    def prefix(self, env: str) -> str:
        return f"{self.slug}-{env}-"

    def project_prefix(self) -> str:
        return f"{self.slug}-"


def test_the_check_catches_a_single_hyphen_fence(settings):
    envs = [e.name for e in settings.environments]
    old = SingleHyphen(settings.slug, settings.region)
    # A project slugged <slug>-<env>-x has every name inside <slug>-<env>-.
    found = collisions(old, envs, "old", f"arn:aws:iam::*:role/{old.prefix(envs[0])}*")
    assert any(f"{old.slug}-{envs[0]}-x " in p for p in found), "\n".join(found)
    # And the other way round: a project whose slug ours extends, with an environment named after
    # the rest of ours (ours "<slug>-app", theirs "<slug>" with an environment "app").
    longer = SingleHyphen(f"{settings.slug}-app", settings.region)
    found = collisions(longer, envs, "old", f"arn:aws:iam::*:role/{longer.prefix(envs[0])}*")
    assert any(f"{settings.slug} app's" in p for p in found), "\n".join(found)


def slugs_up_to(length: int) -> list[str]:
    letters = "a-"
    words = ("".join(w) for n in range(1, length + 1) for w in itertools.product(letters, repeat=n))
    return [w for w in words if SLUG_PATTERN.match(w)]


def test_no_fence_starts_another_for_any_pair_of_slugs_and_environments():
    # By construction, over every slug of up to seven characters of "a" and "-" (every hyphen
    # placement a slug may have) and environments "a", "aa", "aaa": <slug>--<env>- starts another
    # project's or environment's only when it is the same, and never starts its bare project prefix.
    assert not any(SEPARATOR in slug for slug in slugs_up_to(7))
    envs = ["a", "aa", "aaa", DEVOPS, IDENTITY]
    fences = {(s, e): Naming(s, "us-east-1").prefix(e) for s in slugs_up_to(7) for e in envs}
    for (one, ours), (other, theirs) in itertools.permutations(fences.items(), 2):
        assert not theirs.startswith(ours), f"{one}'s {ours} takes in {other}'s {theirs}"
    projects = {slug: Naming(slug, "us-east-1").project_prefix() for slug in slugs_up_to(7)}
    for (one, ours), (other, theirs) in itertools.permutations(projects.items(), 2):
        assert not theirs.startswith(ours), f"{one}'s {ours} takes in {other}'s {theirs}"
