"""Each environment's own data (``[data] stores``): the persona data rules by tier, the data blocks
each role carries, the generated data cases, and ``data_stores = none`` (no store, no rule, no case)."""

from __future__ import annotations

import csv
import fnmatch

import pytest

from multienv_template import vocabulary as multienv_vocabulary

personas = multienv_vocabulary.generated_module("multienv_tools.personas")
persona_parameters = multienv_vocabulary.generated_module("multienv_tools.persona_parameters")
persona_cases = multienv_vocabulary.generated_module("multienv_tools.persona_cases")
settings_module = multienv_vocabulary.generated_module("multienv.settings")
D = personas.DataAccess
ADMIN, DEVOPS, DEVELOPER, QA = personas.PERSONAS
ENVS = (("sbx", "sandbox", "1"), ("dev", "development", "1"), ("tst", "testing", "2"), ("qa", "qa", "2"))
ENVS += (("stg", "staging", "3"), ("prd", "production", "4"))
# A role takes ten managed policies unless the account's quota is raised (IAM and STS quotas).
MANAGED_POLICIES_PER_ROLE = 10


def test_the_data_rules_are_the_design_texts():
    # Developers: full use of sandbox and development data, none above.
    for tier in ("sandbox", "development"):
        assert personas.grant(tier, DEVELOPER).data is D.FULL
    for tier in ("testing", "qa", "staging", "production"):
        assert not personas.grant(tier, DEVELOPER).data.reads, tier
    # QA: reads and writes testing and QA data, no production data.
    for tier in ("testing", "qa"):
        assert personas.grant(tier, QA).data.writes and personas.grant(tier, QA).data.reads
    assert not personas.grant("production", QA).data.reads
    # DevOps: runs and inspects production without reading its data.
    assert personas.grant("production", DEVOPS).data is D.INSPECT
    # The Project Administrator: all.
    assert all(personas.grant(tier, ADMIN).data is D.FULL for tier in personas.TABLE)


def test_where_data_comes_from_follows_the_data_rules():
    """Dummy data goes where developers have full use of the data; a masked subset of production goes
    where QA writes or reads it and developers read none of it; it comes from production only. The
    commands, the data stack and the access cases all read these three tuples."""
    tiers = list(personas.TABLE)
    assert [t for t in tiers if personas.grant(t, DEVELOPER).data is D.FULL] == list(personas.SEED_TIERS)
    assert [t for t in tiers if t != "production" and not personas.grant(t, DEVELOPER).data.reads] == list(
        personas.SUBSET_TARGET_TIERS
    )
    assert list(personas.SUBSET_SOURCE_TIERS) == ["production"]
    data_copy = multienv_vocabulary.generated_module("multienv_tools.data_copy")
    assert (data_copy.SEED_TIERS, data_copy.SUBSET_TIERS, data_copy.SUBSET_SOURCE_TIERS) == (
        personas.SEED_TIERS,
        personas.SUBSET_TARGET_TIERS,
        personas.SUBSET_SOURCE_TIERS,
    )


def test_only_the_administrator_runs_the_copys_production_half():
    assert personas.subset_runners("production") == (ADMIN,)
    for tier in ("testing", "qa", "staging"):
        assert personas.subset_runners(tier) == (ADMIN, DEVOPS)


@pytest.mark.parametrize("tier", list(personas.TABLE))
def test_each_role_carries_its_data_block_and_fits_the_quota(tier):
    for persona in personas.PERSONAS:
        g = personas.grant(tier, persona)
        if not g.access.grants_anything:
            continue
        blocks = persona_parameters.policy_blocks(tier, persona)
        assert len(blocks) <= MANAGED_POLICIES_PER_ROLE, (tier, persona, blocks)
        data_blocks = [b for b in blocks if b.startswith("data-") or b == persona_parameters.NO_STORE_DATA]
        if personas.Capability.ADMINISTER in g.access.capabilities:
            assert data_blocks == [], (tier, persona)  # its administer block holds the store
        elif g.data.reads:
            assert data_blocks == [f"data-{g.data.value}"], (tier, persona)
        else:
            assert data_blocks == [persona_parameters.NO_STORE_DATA], (tier, persona)
        assert not set(data_blocks) & set(persona_parameters.policy_blocks(tier, persona, data=False))


def _cases(stores):
    return persona_cases.default_cases(ENVS, {}, stores)


@pytest.mark.parametrize("stores", ["table", "bucket", "both"])
def test_the_data_cases_follow_the_rules(stores):
    cases = _cases(stores)
    own = [c for c in cases if c.principal in personas.PERSONAS and c.resource_env == c.principal_env]
    tiers = {name: tier for name, tier, _ in ENVS}
    scans = {(c.principal, c.principal_env): c.expect for c in own if c.action == "dynamodb:Scan"}
    if stores == "bucket":
        assert not scans
        assert not [c for c in cases if c.principal in ("data-export", "data-import")]
        return
    for (persona, env), expect in scans.items():
        assert expect == ("allow" if personas.grant(tiers[env], persona).data.reads else "deny"), (persona, env)
    assert scans[(DEVELOPER, "prd")] == scans[(DEVELOPER, "tst")] == scans[(QA, "prd")] == "deny"
    assert scans[(QA, "tst")] == scans[(DEVELOPER, "dev")] == "allow"


def test_the_pair_is_the_only_allowed_cross_environment_data_path():
    data_actions = ("dynamodb:", "kms:Decrypt", "kms:GenerateDataKey", "s3:GetObject", "s3:PutObject")
    data_resources = ("table", "table-stream", "table-backup", "data-key", "data-object", "xfer-object")
    allowed = [
        c
        for c in _cases("both")
        if c.expect == "allow"
        and c.resource_env != c.principal_env
        and c.action.startswith(data_actions)
        and c.resource in data_resources
    ]
    assert allowed and {c.principal for c in allowed} == {"data-export"}
    assert {(c.resource_env, c.resource) for c in allowed} == {
        (env, kind) for env in ("tst", "qa", "stg") for kind in ("xfer-object", "data-key")
    }
    # Toward sandbox or development, never.
    refused = [c for c in _cases("both") if c.principal == "data-export" and c.resource_env in ("sbx", "dev")]
    assert refused and all(c.expect == "deny" for c in refused)


def test_data_stores_none_has_no_data_rule_and_no_data_case():
    none = _cases("none")
    kinds = {"data-key", "table-backup", "xfer-object", "data-export-role", "data-import-role", "data-stack"}
    assert not [c for c in none if c.resource in kinds or c.principal in ("data-export", "data-import")]
    assert not [c for c in none if c.why.endswith(" data)")]
    for tier in personas.TABLE:
        for persona in personas.PERSONAS:
            blocks = persona_parameters.policy_blocks(tier, persona, data=False)
            assert not [b for b in blocks if b.startswith("data-") or b == persona_parameters.NO_STORE_DATA]


@pytest.mark.slow
def test_a_bake_without_data_stores_has_no_data_stack_rule_or_case(bake_once):
    project = bake_once(data_stores="none").project
    stacks = multienv_vocabulary.generated_module("multienv_tools.stacks")
    settings = settings_module.load_settings(project / "multienv.toml")
    assert settings.data_stores == "none" and not settings.has_data
    specs = stacks.stack_specs(settings, "0" * 64)
    assert not [s for s in specs if s.kind == stacks.DATA]
    for spec in specs:
        if spec.kind == stacks.APP:
            assert spec.parameters["DataTableName"] == spec.parameters["DataBucketName"] == ""
        if spec.kind == "personas":
            arns = ",".join(v for k, v in spec.parameters.items() if k.endswith("PolicyArns"))
            assert "persona-data-" not in arns and "persona-no-store-data" not in arns
    rows = [
        row
        for row in csv.reader(
            line
            for line in (project / "access" / "generated-cases.csv").read_text().splitlines()
            if line and not line.startswith("#")
        )
    ]
    assert rows and not [r for r in rows if "data-key" in r or "data-export" in r or "data-import" in r]
    # A default bake has them: the check above is not vacuous.
    default = bake_once().project / "access" / "generated-cases.csv"
    assert "data-key" in default.read_text() and "data-export" in default.read_text()


def test_the_data_key_fence_excludes_an_environment_whose_name_extends_another():
    # <slug>--dev-* must not match dev2's roles: the trailing hyphen ends the environment's name.
    naming = settings_module.Naming("app", "us-east-1")
    fence = naming.role_arn("1", f"{naming.prefix('dev')}*")
    for other in ("dev2", "devx", "de"):
        for role in (naming.function_role(other), naming.persona_role(other, ADMIN), naming.data_import_role(other)):
            assert not fnmatch.fnmatchcase(naming.role_arn("1", role), fence), role
    assert fnmatch.fnmatchcase(naming.role_arn("1", naming.function_role("dev")), fence)
