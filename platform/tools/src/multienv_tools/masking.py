"""The team's data rules (``data/masking.toml``), and the pure engine that samples and masks with them.

``data/masking.toml`` declares every attribute of the environment's table: its DynamoDB type,
whether it is personal, what a copy of production does with it (``keep``, ``hash``, ``fake``,
``drop``) and the shape of a generated value (``make data-seed`` and ``fake`` write those). A
personal attribute is never kept; an attribute found in the data but declared nowhere is refused
(or, when the file says ``undeclared = "drop"``, left out): no value leaves production unmasked
because someone forgot to write a line.

Items are DynamoDB's typed form, as the low-level API reads and writes them (``{"pk": {"S": "a"}}``;
binary values as ``bytes``). Everything here is a pure function of its arguments: no AWS, no clock,
no randomness but what the caller passes in (the per-copy salt) or a seed gives.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import json
import random
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

RULES_FILE = "data/masking.toml"

KEEP, HASH, FAKE, DROP = "keep", "hash", "fake", "drop"
RULES = (KEEP, HASH, FAKE, DROP)
REFUSE = "refuse"
UNDECLARED = (REFUSE, DROP)

# DynamoDB's scalar types this engine copies: string, number, binary, boolean.
TYPES = {"S": "string", "N": "number", "B": "binary", "BOOL": "boolean"}
KEY_TYPES = ("S", "N", "B")  # what DynamoDB allows as a key attribute's type
HASHABLE = ("S", "N", "B")  # a hashed boolean would still be one of two values: drop or fake it

# shape -> the type of the values it makes (what data-seed generates and what ``fake`` writes)
SHAPES = {
    "id": "S",
    "name": "S",
    "email": "S",
    "phone": "S",
    "word": "S",
    "text": "S",
    "date": "S",
    "timestamp": "S",
    "integer": "N",
    "amount": "N",
    "boolean": "BOOL",
    "bytes": "B",
}
DEFAULT_SHAPE = {"S": "text", "N": "integer", "B": "bytes", "BOOL": "boolean"}
ATTRIBUTE_KEYS = ("type", "personal", "rule", "shape")
TOP_KEYS = ("key", "undeclared", "attributes")

# A hashed number keeps DynamoDB's number type: 15 bytes of the digest are at most 37 digits (38 allowed).
NUMBER_HASH_BYTES = 15


class MaskingError(ValueError):
    """The rules file or the data break a rule; ``problems`` lists every one, each naming where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str
    personal: bool
    rule: str
    shape: str
    line: int = 0


@dataclass(frozen=True)
class Rules:
    """``data/masking.toml``, checked. ``sha256`` is the file's digest: a manifest records it, never the file."""

    path: str
    key: tuple[str, ...]
    undeclared: str
    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    sha256: str = ""

    def summary(self) -> dict[str, str]:
        """attribute -> rule: what a copy did with each, for the manifest (names and rules, never values)."""
        return {name: a.rule for name, a in sorted(self.attributes.items())}


# --------------------------------------------------------------------------- the rules file


def _attribute_lines(text: str) -> dict[str, int]:
    """The line of each ``[attributes.<name>]`` header (tomllib gives no positions)."""
    header = re.compile(r"""^\s*\[\s*attributes\s*\.\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))\s*\]""")
    lines = {}
    for number, line in enumerate(text.splitlines(), start=1):
        found = header.match(line)
        if found:
            lines[next(g for g in found.groups() if g)] = number
    return lines


def _choices(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


def parse_rules(text: str, path: str = RULES_FILE) -> Rules:
    """Check a rules file; every problem at once, each naming ``file:line``, the attribute, the value and what is allowed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MaskingError([f"{path}: not valid TOML: {error}"]) from None
    problems: list[str] = []
    for unknown in sorted(set(data) - set(TOP_KEYS)):
        problems.append(f"{path}: unknown key {unknown!r}: the keys are {_choices(TOP_KEYS)}")
    undeclared = data.get("undeclared", REFUSE)
    if undeclared not in UNDECLARED:
        problems.append(
            f"{path}: undeclared = {undeclared!r}: allowed {_choices(UNDECLARED)} "
            "(an attribute declared nowhere is never kept)"
        )
    key = data.get("key")
    if not isinstance(key, list) or not key or not all(isinstance(k, str) for k in key) or len(key) > 2:
        problems.append(
            f"{path}: key = {key!r}: give the table's key attributes as infra declares them, "
            'a list of one or two names (partition key first), e.g. key = ["pk"]'
        )
        key = []
    table = data.get("attributes")
    if not isinstance(table, dict) or not table:
        problems.append(f"{path}: no [attributes.<name>] tables: declare every attribute of the items")
        table = {}
    lines = _attribute_lines(text)
    attributes: dict[str, Attribute] = {}
    for name, spec in table.items():
        where = f"{path}:{lines[name]}" if name in lines else path
        what = f"{where}: attributes.{name}"
        if not isinstance(spec, dict):
            problems.append(f"{what}: is {spec!r}, not a table with {_choices(ATTRIBUTE_KEYS)}")
            continue
        problems += [
            f"{what}: unknown key {k!r}: the keys are {_choices(ATTRIBUTE_KEYS)}"
            for k in sorted(set(spec) - set(ATTRIBUTE_KEYS))
        ]
        type_ = spec.get("type")
        if type_ not in TYPES:
            problems.append(
                f"{what}: type = {type_!r}: allowed {_choices(TYPES)} (DynamoDB's string, number, binary, boolean)"
            )
            continue
        personal = spec.get("personal", False)
        if not isinstance(personal, bool):
            problems.append(f"{what}: personal = {personal!r}: allowed true or false")
            personal = True  # judged as the stricter of the two below
        rule = spec.get("rule")
        is_key = name in key
        allowed: tuple[str, ...] = (KEEP, HASH) if is_key else RULES
        if personal:
            allowed = tuple(r for r in allowed if r != KEEP)
        if rule not in RULES:
            problems.append(f"{what}: rule = {rule!r}: allowed {_choices(allowed)}")
        elif rule == KEEP and personal:
            problems.append(
                f"{what}: rule = 'keep' on an attribute declared personal: its values would reach the copy as they are; "
                f"allowed {_choices(allowed)}"
            )
        elif is_key and rule not in allowed:
            problems.append(
                f"{what}: rule = {rule!r} on a key attribute: a copied item needs its key, one per item; allowed {_choices(allowed)}"
            )
        elif rule == HASH and type_ not in HASHABLE:
            problems.append(
                f"{what}: rule = 'hash' on type {type_!r}: a hash of a boolean is still one of two values; allowed 'fake', 'drop'"
            )
        if is_key and type_ not in KEY_TYPES:
            problems.append(f"{what}: type = {type_!r} on a key attribute: DynamoDB keys are {_choices(KEY_TYPES)}")
        shape = spec.get("shape", "id" if is_key and type_ == "S" else DEFAULT_SHAPE[type_])
        if shape not in SHAPES or SHAPES[shape] != type_:
            fits = [s for s, t in SHAPES.items() if t == type_]
            problems.append(f"{what}: shape = {shape!r}: for type {type_!r} allowed {_choices(fits)}")
        attributes[name] = Attribute(name, type_, personal, str(rule), str(shape), lines.get(name, 0))
    problems += [
        f"{path}: key attribute {k!r} has no [attributes.{k}]: declare its type and rule" for k in key if k not in table
    ]
    if problems:
        raise MaskingError(problems)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Rules(path, tuple(key), undeclared, attributes, digest)


def load_rules(path: str | Path) -> Rules:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MaskingError([f"{path}: not found: declare the table's attributes there (docs/test-data.md)"]) from None
    return parse_rules(text, str(path))


# --------------------------------------------------------------------------- the data, checked


def _value_of(typed: Mapping[str, Any]) -> tuple[str, Any]:
    ((type_, value),) = typed.items()
    return type_, value


def check_items(items: Iterable[Mapping[str, Any]], rules: Rules, source: str) -> list[str]:
    """What in ``items`` the rules do not cover: a missing key, an undeclared attribute (unless the file
    drops those), a value of another type. Names attributes, never values; one line per attribute."""
    undeclared: dict[str, int] = {}
    wrong_type: dict[tuple[str, str], int] = {}
    missing_key: dict[str, int] = {}
    for item in items:
        for k in rules.key:
            if k not in item:
                missing_key[k] = missing_key.get(k, 0) + 1
        for name, typed in item.items():
            attribute = rules.attributes.get(name)
            if attribute is None:
                undeclared[name] = undeclared.get(name, 0) + 1
                continue
            type_ = next(iter(typed))
            if type_ != attribute.type:
                wrong_type[(name, type_)] = wrong_type.get((name, type_), 0) + 1
    problems = []
    if rules.undeclared == REFUSE:
        problems += [
            f"{source}: attribute {name!r} ({n} item(s)) is not declared in {rules.path}: add [attributes.{name}] "
            'with its type and rule (or undeclared = "drop" to leave such attributes out); nothing was copied'
            for name, n in sorted(undeclared.items())
        ]
    problems += [
        f"{source}: attribute {name!r} holds type {type_!r} in {n} item(s); {rules.path} declares {rules.attributes[name].type!r}"
        for (name, type_), n in sorted(wrong_type.items())
    ]
    problems += [f"{source}: {n} item(s) lack the key attribute {name!r}" for name, n in sorted(missing_key.items())]
    return problems


# --------------------------------------------------------------------------- sampling


def canonical(typed: Mapping[str, Any]) -> bytes:
    """One value as bytes that say its type too (``N:1`` is not ``S:1``)."""
    type_, value = _value_of(typed)
    if type_ == "B":
        return b"B:" + bytes(value)
    if type_ == "BOOL":
        return b"BOOL:" + (b"1" if value else b"0")
    return f"{type_}:{value}".encode()


def item_key(item: Mapping[str, Any], key: Iterable[str]) -> bytes:
    return b"\0".join(canonical(item[k]) for k in key)


def score(seed: str, item: Mapping[str, Any], key: Iterable[str]) -> int:
    """Where the item falls in the seed's order: a function of the seed and the item's key alone, so the
    sample is the same whatever order a scan (or its parallel segments) returns the items in."""
    digest = hashlib.sha256(seed.encode("utf-8") + b"\0" + item_key(item, key)).digest()
    return int.from_bytes(digest[:8], "big")


SCORE_RANGE = 2**64


def sample(
    items: Iterable[Mapping[str, Any]],
    key: Iterable[str],
    seed: str,
    *,
    fraction: float | None = None,
    count: int | None = None,
) -> list[Mapping[str, Any]]:
    """The items whose score is under ``fraction`` of the range, or the ``count`` with the lowest scores;
    in score order. Streams: a count keeps at most ``count`` items in memory."""
    if (fraction is None) == (count is None):
        raise ValueError("give a fraction or a count, not both")
    key = tuple(key)
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction {fraction!r}: allowed more than 0, at most 1")
        bound = fraction * SCORE_RANGE
        chosen = [(s, i) for i in items if (s := score(seed, i, key)) < bound]
        return [i for _, i in sorted(chosen, key=lambda pair: pair[0])]
    if count is None or count < 1:
        raise ValueError(f"count {count!r}: allowed 1 or more")
    lowest = heapq.nsmallest(count, ((score(seed, i, key), n, i) for n, i in enumerate(items)))
    return [i for _, _, i in lowest]


# --------------------------------------------------------------------------- masking


def hash_value(salt: bytes, typed: Mapping[str, Any]) -> dict[str, Any]:
    """HMAC-SHA256 of the value under the copy's salt, in the value's own type: equal values stay equal
    within one copy (references between items hold), and without the salt no value can be tried against it."""
    type_, _ = _value_of(typed)
    digest = hmac.new(salt, canonical(typed), hashlib.sha256).digest()
    if type_ == "N":
        return {"N": str(int.from_bytes(digest[:NUMBER_HASH_BYTES], "big"))}
    if type_ == "B":
        return {"B": digest}
    return {"S": digest.hex()}


FIRST = (
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Margaret",
    "Niklaus",
    "Radia",
    "Tony",
)
LAST = ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Wirth")
WORDS = ("alpha", "bravo", "delta", "echo", "harbor", "lumen", "meadow", "orbit", "quartz", "river", "summit", "willow")
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
FIVE_YEARS = 5 * 365 * 24 * 3600


def make_value(shape: str, attribute: str, ordinal: int, seed: str) -> dict[str, Any]:
    """A made-up value of ``shape``: a function of the seed, the attribute and the item's place, never of
    any real value (nothing of production can be read back from a fake). ``id`` is unique per place."""
    # Made up on purpose and repeatable from the seed (a str seed is hashed with SHA-512, the same on every
    # run); secrecy is the hash rule's job, with its salt from the secrets module.
    rng = random.Random(f"{seed}\0{attribute}\0{ordinal}")  # noqa: S311
    if shape == "id":
        return {"S": f"{attribute}-{ordinal:06d}"}
    if shape in ("name", "email"):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if shape == "name":
            return {"S": f"{first} {last}"}
        # example.com is reserved for examples (RFC 2606): no one's mailbox.
        return {"S": f"{first}.{last}{ordinal}@example.com".lower()}
    if shape == "phone":
        return {"S": f"+1 555 01{rng.randrange(100):02d}"}  # 555-0100..0199: reserved as fictional
    if shape == "word":
        return {"S": rng.choice(WORDS)}
    if shape == "text":
        return {"S": " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8)))}
    moment = EPOCH + timedelta(seconds=rng.randrange(FIVE_YEARS))
    if shape == "date":
        return {"S": moment.date().isoformat()}
    if shape == "timestamp":
        return {"S": moment.isoformat().replace("+00:00", "Z")}
    if shape == "integer":
        return {"N": str(rng.randrange(10_000))}
    if shape == "amount":
        return {"N": f"{rng.randrange(1_000_000) / 100:.2f}"}
    if shape == "boolean":
        return {"BOOL": rng.random() < 0.5}
    if shape == "bytes":
        return {"B": rng.randbytes(16)}
    raise ValueError(f"unknown shape {shape!r}: the shapes are {_choices(SHAPES)}")


def mask(items: Iterable[Mapping[str, Any]], rules: Rules, salt: bytes, seed: str) -> list[dict[str, Any]]:
    """Each item with every attribute's rule applied; an undeclared attribute is dropped (``check_items``
    refuses the data first unless the rules drop such attributes). ``salt``: the copy's own, at least 16 bytes."""
    if len(salt) < 16:
        raise ValueError("the salt must be at least 16 random bytes")
    masked = []
    for ordinal, item in enumerate(items):
        out: dict[str, Any] = {}
        for name, typed in item.items():
            attribute = rules.attributes.get(name)
            if attribute is None or attribute.rule == DROP:
                continue
            if attribute.rule == KEEP and not attribute.personal:
                out[name] = dict(typed)
            elif attribute.rule == HASH and attribute.type in HASHABLE:
                out[name] = hash_value(salt, typed)
            elif attribute.rule == FAKE:
                out[name] = make_value(attribute.shape, name, ordinal, seed)
            # anything else (a personal keep, a hashed boolean: parse_rules refuses both) is dropped
        masked.append(out)
    return masked


# --------------------------------------------------------------------------- dummy records


def generate(rules: Rules, count: int, seed: str) -> list[dict[str, Any]]:
    """``count`` made-up items of the declared shape (every attribute, the key unique per item)."""
    if count < 1:
        raise ValueError(f"count {count!r}: allowed 1 or more")
    return [
        {
            name: _key_value(a, n) if name in rules.key else make_value(a.shape, name, n, seed)
            for name, a in rules.attributes.items()
        }
        for n in range(count)
    ]


def _key_value(attribute: Attribute, ordinal: int) -> dict[str, Any]:
    """A generated key: one per item, whatever the shape, so no two generated items overwrite each other."""
    if attribute.type == "N":
        return {"N": str(ordinal)}
    if attribute.type == "B":
        return {"B": ordinal.to_bytes(8, "big")}
    return make_value("id", attribute.name, ordinal, "")


def _from_json(value: Any, type_: str) -> dict[str, Any] | None:
    if type_ == "S" and isinstance(value, str):
        return {"S": value}
    if type_ == "N" and isinstance(value, int | float) and not isinstance(value, bool):
        return {"N": str(value)}
    if type_ == "BOOL" and isinstance(value, bool):
        return {"BOOL": value}
    if type_ == "B" and isinstance(value, str):
        try:
            return {"B": base64.b64decode(value, validate=True)}
        except ValueError:
            return None
    return None


JSON_OF_TYPE = {"S": "a string", "N": "a number", "BOOL": "true or false", "B": "base64 text"}


def parse_fixture(text: str, rules: Rules, path: str) -> list[dict[str, Any]]:
    """A team's fixture: JSON lines, one item a line as plain JSON (``{"pk": "a", "age": 3}``), typed by the
    declared types. Every problem at once, each naming ``file:line`` and the attribute."""
    items: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{where}: not JSON: {error.msg}")
            continue
        if not isinstance(record, dict):
            problems.append(f"{where}: one JSON object a line, not {type(record).__name__}")
            continue
        item = {}
        for name, value in record.items():
            attribute = rules.attributes.get(name)
            if attribute is None:
                problems.append(
                    f"{where}: attribute {name!r} is not declared in {rules.path}: declare it, or leave it out"
                )
                continue
            typed = _from_json(value, attribute.type)
            if typed is None:
                problems.append(
                    f"{where}: attribute {name!r}: {rules.path} declares {attribute.type!r}, so {JSON_OF_TYPE[attribute.type]}"
                )
                continue
            item[name] = typed
        problems += [f"{where}: lacks the key attribute {k!r}" for k in rules.key if k not in record]
        items.append(item)
    if not items and not problems:
        problems.append(f"{path}: no items: one JSON object a line")
    if problems:
        raise MaskingError(problems)
    return items


# --------------------------------------------------------------------------- transfer format


def to_line(item: Mapping[str, Any]) -> str:
    """One item as a JSON line of DynamoDB's typed form (binary as base64, as DynamoDB's JSON does)."""
    return json.dumps(
        {n: {"B": base64.b64encode(bytes(v["B"])).decode()} if "B" in v else v for n, v in item.items()}, sort_keys=True
    )


def from_line(line: str) -> dict[str, Any]:
    return {n: {"B": base64.b64decode(v["B"])} if "B" in v else v for n, v in json.loads(line).items()}
