"""The persona table, the persona stacks' parameters and the access-matrix case file."""

import pytest
from baked import ROOT

from multienv.model import Tier
from multienv.naming import PERSONAS
from multienv.settings import load_settings
from multienv_tools import persona_cases, persona_parameters, persona_trust, personas
from multienv_tools.access_cases import read_cases
from multienv_tools.access_policies import AccessError
from multienv_tools.persona_stacks import persona_specs


@pytest.fixture(scope="module")
def settings():
    return load_settings(ROOT / "multienv.toml")


def test_every_tier_and_persona_has_a_grant():
    assert set(personas.TABLE) == {t.value for t in Tier}
    for row in personas.TABLE.values():
        assert set(row) == set(PERSONAS)


def test_each_environment_gets_a_persona_stack_in_its_own_account(settings):
    specs = persona_specs(settings)
    assert [s.env for s in specs] == list(settings.names)
    for spec, env in zip(specs, settings.environments, strict=True):
        assert spec.account_id == env.account.id
        assert spec.template_path.is_file()


def test_roles_exist_only_where_the_persona_has_access(settings):
    for spec, env in zip(persona_specs(settings), settings.environments, strict=True):
        for persona in PERSONAS:
            has_access = personas.grant(env.tier, persona).access.grants_anything
            assert bool(spec.parameters[f"{persona_parameters.persona_key(persona)}RoleName"]) == has_access


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"source": "ldap"}, "personas.source: 'ldap' is not one of"),
        ({"identity_account": "nowhere"}, "personas.identity_account: 'nowhere' is not one of"),
        ({"source": "saml"}, "personas.saml_provider: needed"),
        ({"sorce": "account"}, "personas.sorce: unknown key"),
        # Production's permission set is <prefix>software-developer-pr: 21 characters and the prefix, of 32.
        (
            {"source": "identity-center", "permission_set_prefix": "p" * 12},
            "personas.permission_set_prefix: 'pppppppppppp' makes permission set names of 33 .* at most 11",
        ),
    ],
)
def test_bad_trust_settings_are_named(settings, table, message):
    accounts = {a.key: a.id for a in settings.accounts}
    with pytest.raises(ValueError, match=message):
        persona_trust.parse_trust(table, accounts, settings.devops.key, "multienv.toml")


def test_the_case_file_parses_and_covers_every_environment(settings):
    cases = [case for _, case in read_cases(ROOT / "access" / "generated-cases.csv")]
    assert {c.principal_env for c in cases} == set(settings.names)
    assert {c.expect for c in cases} == {"allow", "deny"}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("qa-engineer,dev,s3:GetObject,data-object,dev,maybe,,x", "expect 'maybe' is not allow or deny"),
        ("qa-engineer,dev,s3:GetObject,data-object,dev,deny,,x,extra", "9 fields, expected 8"),
        ("qa-engineer,dev,s3:GetObject,data-object,dev,deny,root,x", "context flag 'root'"),
    ],
)
def test_a_bad_case_row_names_its_line(tmp_path, row, message):
    path = tmp_path / "cases.csv"
    path.write_text(",".join(persona_cases.CASE_FIELDS) + "\n" + row + "\n")
    with pytest.raises(AccessError, match=f"cases.csv:2: .*{message}"):
        read_cases(path)


@pytest.mark.parametrize("count", [2, 4, 12, 20])
def test_reach_into_the_other_environments_tries_every_probe_and_every_environment(count):
    names = [f"e{i}" for i in range(count)]
    probes = persona_cases.CROSS_ENVIRONMENT_PROBES
    for index, env in enumerate(names):
        pairs = persona_cases.reaching(env, names, probes, index)
        others = {other for _, other in pairs}
        assert others == set(names) - {env}
        assert {probe for probe, _ in pairs} == set(probes)
        # The larger of the two, not their product.
        assert len(pairs) == max(len(probes), count - 1)


def test_with_accounts_every_probe_lands_in_its_own_account_and_in_another():
    names = ["sbx", "dev", "tst", "prd"]
    accounts = {"sbx": "nonprod", "dev": "nonprod", "tst": "nonprod", "prd": "prod"}
    probes = persona_cases.CROSS_ENVIRONMENT_PROBES
    for index, env in enumerate(names):
        pairs = persona_cases.reaching(env, names, probes, index, accounts)
        home = [probe for probe, other in pairs if accounts[other] == accounts[env]]
        away = [probe for probe, other in pairs if accounts[other] != accounts[env]]
        assert set(away) == set(probes)
        assert set(home) == (set(probes) if env != "prd" else set())
        assert {other for _, other in pairs} == set(names) - {env}


def test_a_persona_lands_its_probes_in_more_than_one_environment_across_principals():
    names = ["a", "b", "c", "d"]
    probes = persona_cases.CROSS_ENVIRONMENT_PROBES
    first = persona_cases.reaching("a", names, probes, 0)
    shifted = persona_cases.reaching("a", names, probes, 1)
    assert first[0][0] == shifted[0][0] and first[0][1] != shifted[0][1]


def test_a_partial_access_check_refuses_an_unknown_principal_with_the_allowed_ones(capsys):
    from multienv_tools import access_matrix

    assert access_matrix.main(["--only", "project-admin,nobody"]) == 2
    error = capsys.readouterr().err
    assert "--only: 'nobody' is not a kind" in error
    for kind in (*PERSONAS, "deployer", "bounded-role", "org-perimeter"):
        assert kind in error


def test_every_principal_kind_but_the_perimeter_selects_cases_of_this_project(settings):
    from multienv_tools import access_matrix
    from multienv_tools.access_cases import World
    from multienv_tools.access_policies import attack_layout, collect_policies, render_all
    from multienv_tools.attack_expansion import attack_cases

    world = World(settings, None)
    designed = {
        case.principal for _, case in access_matrix.designed_cases(settings, world, ROOT / "access" / "cases.csv")
    }
    layout = attack_layout(settings, collect_policies(render_all(settings)))
    generated = {attack.principal.kind for attack in attack_cases(layout)}
    # A kind --only offers must select something, or a partial run would pass on nothing.
    assert set(access_matrix.KINDS) - {access_matrix.ORG_PERIMETER} <= designed | generated
