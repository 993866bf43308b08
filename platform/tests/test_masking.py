"""The data rules (``data/masking.toml``) and the engine that samples and masks with them.

Pure functions, no AWS: the rules file's checks (every problem at once, each naming the line and the
attribute), the sample's determinism, each rule's effect, and the property the whole feature exists
for: whatever the items and the rules, no value of a personal attribute reaches the output.
"""

import json
import random

import pytest
from baked import ROOT
from hypothesis import given
from hypothesis import strategies as st

from multienv_tools import cfn, masking

# What this module checks does not vary with the answers: it runs against one bake (the defaults).
pytestmark = pytest.mark.once

SALT = b"s" * 32
OTHER_SALT = b"t" * 32

RULES = """
key = ["pk"]

[attributes.pk]
type = "S"
personal = false
rule = "keep"

[attributes.email]
type = "S"
personal = true
rule = "hash"
shape = "email"

[attributes.name]
type = "S"
personal = true
rule = "fake"
shape = "name"

[attributes.phone]
type = "S"
personal = true
rule = "drop"

[attributes.age]
type = "N"
personal = false
rule = "keep"
"""


def rules(text=RULES):
    return masking.parse_rules(text, "data/masking.toml")


def person(n, **extra):
    item = {
        "pk": {"S": f"c{n}"},
        "email": {"S": f"person{n}@mail.test"},
        "name": {"S": f"Real Name {n}"},
        "phone": {"S": f"+44 20 7946 {n:04d}"},
        "age": {"N": str(20 + n % 50)},
    }
    item.update(extra)
    return item


# --------------------------------------------------------------------------- the rules file


def test_the_shipped_rules_and_fixture_hold_together():
    shipped = masking.load_rules(ROOT / masking.RULES_FILE)
    assert shipped.key
    fixture = ROOT / "data" / "fixture.jsonl"
    items = masking.parse_fixture(fixture.read_text(encoding="utf-8"), shipped, str(fixture))
    assert items
    assert masking.check_items(items, shipped, "fixture") == []
    assert all(a.rule != masking.KEEP for a in shipped.attributes.values() if a.personal)


def test_the_shipped_rules_declare_the_key_of_the_table_the_data_stack_makes():
    """data/masking.toml's ``key`` is the deployed table's key, in order (partition key first), each
    attribute of the type infra/data.yaml gives it: else data-seed and data-subset refuse every table."""
    template = cfn.load_template(ROOT / "infra" / "data.yaml")
    table = template["Resources"]["Table"]["Properties"]
    order = {"HASH": 0, "RANGE": 1}
    key = [k["AttributeName"] for k in sorted(table["KeySchema"], key=lambda k: order[k["KeyType"]])]
    shipped = masking.load_rules(ROOT / masking.RULES_FILE)
    assert list(shipped.key) == key
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert {k: shipped.attributes[k].type for k in key} == types


# (an attribute's lines, what the error must say)
BAD_ATTRIBUTES = [
    (
        'type = "S"\npersonal = true\nrule = "keep"',
        ["attributes.x", "'keep' on an attribute declared personal", "'hash', 'fake', 'drop'"],
    ),
    ('type = "S"\nrule = "mask"', ["rule = 'mask'", "'keep', 'hash', 'fake', 'drop'"]),
    ('type = "SS"\nrule = "keep"', ["type = 'SS'", "'S', 'N', 'B', 'BOOL'"]),
    ('type = "BOOL"\nrule = "hash"', ["'hash' on type 'BOOL'", "'fake', 'drop'"]),
    ('type = "N"\nrule = "fake"\nshape = "email"', ["shape = 'email'", "'integer', 'amount'"]),
    ('type = "S"\npersonal = "yes"\nrule = "drop"', ["personal = 'yes'", "true or false"]),
    ('type = "S"\nrule = "keep"\nmasked = true', ["unknown key 'masked'"]),
]


@pytest.mark.parametrize(("lines", "expected"), BAD_ATTRIBUTES, ids=[e[0] for e in BAD_ATTRIBUTES])
def test_a_bad_attribute_is_refused_naming_its_line_the_value_and_what_is_allowed(lines, expected):
    text = f'key = ["pk"]\n\n[attributes.pk]\ntype = "S"\nrule = "keep"\n\n[attributes.x]\n{lines}\n'
    with pytest.raises(masking.MaskingError) as refused:
        rules(text)
    (problem,) = refused.value.problems
    assert problem.startswith("data/masking.toml:7: attributes.x: ")
    for words in expected:
        assert words in problem


@pytest.mark.parametrize("rule", ["fake", "drop"])
def test_a_key_is_kept_or_hashed_never_faked_or_dropped(rule):
    with pytest.raises(masking.MaskingError, match=f"rule = '{rule}' on a key attribute.*allowed 'keep', 'hash'"):
        rules(RULES.replace('rule = "keep"', f'rule = "{rule}"', 1))


def test_a_personal_key_may_only_be_hashed():
    text = RULES.replace('personal = false\nrule = "keep"', 'personal = true\nrule = "keep"', 1)
    with pytest.raises(
        masking.MaskingError, match=r"attributes\.pk: rule = 'keep' on an attribute declared personal.*allowed 'hash'$"
    ):
        rules(text)


def test_every_problem_is_reported_at_once():
    text = (
        'key = ["pk"]\nundeclared = "keep"\n[attributes.pk]\ntype = "S"\nrule = "keep"\n'
        '[attributes.a]\ntype = "S"\npersonal = true\nrule = "keep"\n[attributes.b]\ntype = "X"\n'
    )
    with pytest.raises(masking.MaskingError) as refused:
        rules(text)
    problems = refused.value.problems
    assert len(problems) == 3, problems
    assert "undeclared = 'keep': allowed 'refuse', 'drop'" in problems[0]
    assert problems[1].startswith("data/masking.toml:6: attributes.a")
    assert problems[2].startswith("data/masking.toml:10: attributes.b")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key = [", "not valid TOML"),
        ('[attributes.pk]\ntype = "S"\nrule = "keep"\n', "key = None"),
        ('key = ["pk"]\n', "no [attributes.<name>] tables"),
        ('key = ["id"]\n[attributes.pk]\ntype = "S"\nrule = "keep"\n', "key attribute 'id' has no [attributes.id]"),
    ],
)
def test_a_file_without_a_key_or_attributes_is_refused(text, expected):
    with pytest.raises(masking.MaskingError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        rules(text)


# --------------------------------------------------------------------------- the data, checked


def test_an_undeclared_attribute_is_refused_by_name_never_by_value():
    items = [person(1), person(2, ssn={"S": "078-05-1120"})]
    (problem,) = masking.check_items(items, rules(), "prd's table")
    assert "attribute 'ssn' (1 item(s)) is not declared in data/masking.toml" in problem
    assert "078-05-1120" not in problem


def test_undeclared_attributes_may_be_dropped_when_the_file_says_so_and_never_kept():
    dropping = rules('undeclared = "drop"\n' + RULES)
    items = [person(1, ssn={"S": "078-05-1120"})]
    assert masking.check_items(items, dropping, "t") == []
    (masked,) = masking.mask(items, dropping, SALT, "1")
    assert "ssn" not in masked


def test_a_value_of_another_type_than_declared_is_refused():
    (problem,) = masking.check_items([person(1, age={"S": "forty"})], rules(), "t")
    assert "attribute 'age' holds type 'S' in 1 item(s); data/masking.toml declares 'N'" in problem


# --------------------------------------------------------------------------- sampling


def test_the_same_seed_takes_the_same_items_whatever_order_they_come_in():
    items = [person(n) for n in range(300)]
    shuffled = items[:]
    random.Random(4).shuffle(shuffled)  # noqa: S311 - an order, not a secret
    for how in ({"count": 40}, {"fraction": 0.2}):
        first = masking.sample(items, ["pk"], "7", **how)
        again = masking.sample(shuffled, ["pk"], "7", **how)
        other = masking.sample(items, ["pk"], "8", **how)
        assert [i["pk"] for i in first] == [i["pk"] for i in again]
        assert {i["pk"]["S"] for i in first} != {i["pk"]["S"] for i in other}


def test_a_count_takes_exactly_that_many_and_a_fraction_about_that_share():
    items = [person(n) for n in range(1000)]
    assert len(masking.sample(items, ["pk"], "1", count=40)) == 40
    assert len(masking.sample(items[:10], ["pk"], "1", count=40)) == 10
    assert 60 <= len(masking.sample(items, ["pk"], "1", fraction=0.1)) <= 140
    assert len(masking.sample(items, ["pk"], "1", fraction=1)) == 1000


@pytest.mark.parametrize("how", [{"fraction": 0}, {"fraction": 1.5}, {"count": 0}, {}, {"count": 1, "fraction": 0.5}])
def test_a_sample_size_out_of_range_is_refused(how):
    with pytest.raises(ValueError):
        masking.sample([person(1)], ["pk"], "1", **how)


# --------------------------------------------------------------------------- the rules' effects


def test_hash_keeps_equal_values_equal_within_a_copy_and_differs_between_copies():
    same_email = {"email": {"S": "shared@mail.test"}}
    a, b = masking.mask([person(1, **same_email), person(2, **same_email)], rules(), SALT, "1")
    (c,) = masking.mask([person(1, **same_email)], rules(), OTHER_SALT, "1")
    assert a["email"] == b["email"] != c["email"]
    assert "shared@mail.test" not in json.dumps([masking.to_line(x) for x in (a, b, c)])


def test_hash_keeps_the_type_of_a_number_and_of_binary():
    n = masking.hash_value(SALT, {"N": "12345"})
    b = masking.hash_value(SALT, {"B": b"raw"})
    assert set(n) == {"N"} and n["N"].isdigit() and len(n["N"]) <= 38
    assert set(b) == {"B"} and len(b["B"]) == 32


def test_fake_depends_on_the_seed_and_the_place_never_on_the_real_value():
    one = masking.mask([person(1, name={"S": "Alice Real"})], rules(), SALT, "5")[0]["name"]
    two = masking.mask([person(1, name={"S": "Bob Other"})], rules(), OTHER_SALT, "5")[0]["name"]
    other_seed = [masking.mask([person(n)], rules(), SALT, "6")[0]["name"] for n in range(5)]
    assert one == two
    assert any(value != one for value in other_seed)


def test_keep_copies_drop_omits():
    (masked,) = masking.mask([person(3)], rules(), SALT, "1")
    assert masked["pk"] == {"S": "c3"} and masked["age"] == {"N": "23"}
    assert "phone" not in masked


def test_a_salt_too_short_is_refused():
    with pytest.raises(ValueError, match="salt"):
        masking.mask([person(1)], rules(), b"short", "1")


# --------------------------------------------------------------------------- the property


NAME = st.text("abcdefghij_", min_size=1, max_size=6)
RULE_OF = {True: st.sampled_from(["hash", "fake", "drop"]), False: st.sampled_from(["keep", "hash", "fake", "drop"])}
VALUE = {
    "S": st.text(min_size=1, max_size=30).map(lambda v: {"S": v}),
    "N": st.integers(-(10**12), 10**12).map(lambda v: {"N": str(v)}),
    "B": st.binary(min_size=1, max_size=20).map(lambda v: {"B": v}),
}


@st.composite
def rules_and_items(draw):
    """Any rules file a team could write for a table of strings, numbers and binaries, and any items of it."""
    names = draw(st.lists(NAME, min_size=2, max_size=6, unique=True))
    key, attributes = names[0], {}
    lines = [f'key = ["{key}"]']
    for name in names:
        type_ = draw(st.sampled_from(sorted(VALUE)))
        personal = draw(st.booleans())
        rule = (
            draw(st.sampled_from(["keep", "hash"] if not personal else ["hash"]))
            if name == key
            else draw(RULE_OF[personal])
        )
        attributes[name] = (type_, personal)
        lines.append(f'[attributes.{name}]\ntype = "{type_}"\npersonal = {str(personal).lower()}\nrule = "{rule}"')
    parsed = masking.parse_rules("\n".join(lines))
    items = draw(
        st.lists(
            st.fixed_dictionaries({n: VALUE[t] for n, (t, _) in attributes.items()}),
            min_size=1,
            max_size=8,
            unique_by=lambda i: masking.canonical(i[key]),
        )
    )
    return parsed, items


def plain(typed):
    ((_, value),) = typed.items()
    return value


@given(rules_and_items(), st.binary(min_size=16, max_size=32), st.text(max_size=5))
def test_no_personal_value_reaches_the_output(case, salt, seed):
    parsed, items = case
    masked = masking.mask(masking.sample(items, parsed.key, seed, fraction=1), parsed, salt, seed)
    personal = {plain(v) for i in items for n, v in i.items() if parsed.attributes[n].personal}
    kept = {plain(v) for i in items for n, v in i.items() if not parsed.attributes[n].personal}
    # A made-up value is the seed's, the attribute's and the place's alone, never a real value's (it may
    # equal one by chance: a number of 0..9999 faked where another attribute holds 192 may be 192).
    fake = {n for n, a in parsed.attributes.items() if a.rule == masking.FAKE}
    for ordinal, item in enumerate(masked):
        for name in fake & set(item):
            assert item[name] == masking.make_value(parsed.attributes[name].shape, name, ordinal, seed)
    out = [plain(v) for i in masked for n, v in i.items() if n not in fake]
    # A personal value may show up only where the same value also sits in a kept attribute.
    assert not [v for v in out if v in personal and v not in kept]
    text = "\n".join(masking.to_line(i) for i in masked)
    long_values = {v for v in personal - kept if isinstance(v, str) and len(v) >= 12 and not v.isdigit()}
    assert not [v for v in long_values if json.dumps(v)[1:-1] in text]


# --------------------------------------------------------------------------- dummy records


def test_generated_records_have_every_declared_attribute_and_unique_keys():
    shipped = masking.load_rules(ROOT / masking.RULES_FILE)
    items = masking.generate(shipped, 50, "3")
    assert len({masking.item_key(i, shipped.key) for i in items}) == 50
    assert masking.check_items(items, shipped, "generated") == []
    assert all(set(i) == set(shipped.attributes) for i in items)
    assert items == masking.generate(shipped, 50, "3")
    assert items != masking.generate(shipped, 50, "4")


def test_a_fixture_is_refused_line_by_line():
    text = '{"pk": "a", "age": 3}\n\n{"pk": "b", "age": "three"}\n{"age": 4, "ssn": "x"}\n[1]\nnot json\n'
    with pytest.raises(masking.MaskingError) as refused:
        masking.parse_fixture(text, rules(), "data/fixture.jsonl")
    assert refused.value.problems == [
        "data/fixture.jsonl:3: attribute 'age': data/masking.toml declares 'N', so a number",
        "data/fixture.jsonl:4: attribute 'ssn' is not declared in data/masking.toml: declare it, or leave it out",
        "data/fixture.jsonl:4: lacks the key attribute 'pk'",
        "data/fixture.jsonl:5: one JSON object a line, not list",
        "data/fixture.jsonl:6: not JSON: Expecting value",
    ]


def test_a_transfer_line_reads_back_as_the_item():
    item = {"pk": {"S": "a"}, "n": {"N": "1.5"}, "b": {"B": b"\x00\xff"}, "t": {"BOOL": True}}
    assert masking.from_line(masking.to_line(item)) == item
