"""What a bake's full ``make check`` and ``make local-deploy`` must print: each check ran and passed.

Shared by the end-to-end runs (test_infra.py) and the newcomer's (test_install.py), so both read
the output the same way: an exit code alone would pass a check that silently did not run.
"""

from __future__ import annotations

import re

from multienv_template import plan as multienv_plan
from multienv_template.vocabulary import personas

ACCESS_SUMMARY = re.compile(
    r"access matrix: (\d+) designed cases \((\d+) allow, (\d+) deny\), (\d+) generated \([^)]*\), "
    r"(\d+) org-perimeter cases \([^)]*\), (\d+) GitHub tokens \([^)]*\), all as expected"
)


def assert_every_check_ran(output: str, plan: multienv_plan.Plan, source: str) -> None:
    """``make check``'s output says each check ran and passed, not only its exit code."""
    assert re.search(r"Failed checks: 0, Skipped checks: \d+", output), output[-2000:]
    access = ACCESS_SUMMARY.search(output)
    assert access, output[-2000:]
    # Every designed case is simulated, or named as skipped (a rule the simulator cannot decide).
    assert int(access.group(1)) + output.count("\nskip ") >= len(plan.access_cases())
    # GitHub's tokens, ten or more per environment, each given exactly its roles.
    assert int(access.group(6)) >= 10 * len(plan.env_names), output[-2000:]
    assert "No findings to report" in output  # zizmor
    assert "ok -- validation done" in output  # the workflow schema
    if source != "account":
        # production's administrator MFA is the identity provider's: that one case is named, not simulated
        assert output.count("\nskip ") == 1
        assert "MFA is enforced by the identity provider" in output


def assert_local_deploy_checked_everything(output: str, plan: multienv_plan.Plan, source: str) -> None:
    """``make local-deploy`` deployed every stack and ran each of its checks, the release drill included."""
    envs = plan.env_names
    summary = re.search(r"local deploy OK: (\d+) stacks in (\d+) account\(s\), (\d+) checks passed", output)
    assert summary, output[-2000:]
    # The DevOps stack, and per environment its bootstrap, persona and app stacks (and data stack).
    assert int(summary.group(1)) == 1 + (4 if plan.has_data else 3) * len(envs)
    for env in envs:
        assert f"{env}'s deployer reads" in output
        assert f"{env}: the artifact's handler resolves {env} from ENV_NAME on aws-lambda" in output
        # The function role reads each secret its configuration references, through the artifact's runtime.
        for reference in plan.environment_config(plan.environment(env))["secrets"].values():
            assert f"{env}: {plan.naming.function_role(env)} read {reference['store']} {reference['name']}" in output
        assert f"{plan.naming.stack(env, 'personas')}: CREATE_COMPLETE" in output
        admin = f"{env}: {plan.naming.persona_role(env, 'project-admin')}"
        assert re.search(rf"ok: {admin} exists and trusts exactly \S+ \({source}\)", output)
        assert f"ok: {admin} carries exactly the persona policies guard, " in output
        assert f"ok: {env}: live -> version 1, the released artifact " in output
    # The release drill, in production: good release live, bad release refused, rollback.
    prd = plan.production.name
    drill = output[output.index(f"== release drill in {prd}") :]
    for line in (
        f"ok: {prd}: the good release passes its smoke test",
        f"ok: {prd}: live -> version 2, the released artifact ",
        f"ok: {prd}: previous -> version 1, the first release",
        "version 3 failed the smoke test; live stays on version 2",
        f"ok: {prd}: the bad release fails its smoke test and says live stays on version 2",
        "rolled back, live -> version 1 (was 2)",
        f"ok: {prd}: a second rollback is refused",
    ):
        assert line in drill, line
    assert_data_run(output, plan)
    production = f"ok: {prd}: {plan.naming.persona_role(prd, 'project-admin')} {{}}"
    if source == "account":
        assert production.format("requires MFA (aws:MultiFactorAuthPresent)") in output
    else:
        assert production.format(f"leaves MFA to the identity provider ({source})") in output


def assert_data_run(output: str, plan: multienv_plan.Plan) -> None:
    """The data run (local_data.py): seeded below, a masked subset of production above, each check passed."""
    if not plan.has_data:
        assert "== data run: none, [data] stores = none" in output
        return
    if not plan.has_table:
        assert f"== data run: none, [data] stores = {plan.data_stores}" in output
        return
    run = output[output.index("== data run: ") : output.index("== retire ")]
    naming, prd = plan.naming, plan.production.name
    seeded = [e.name for e in plan.environments if e.tier in ("sandbox", "development")]
    for env in seeded:
        assert f"ok: {env}: data-seed wrote the 3 item(s) of data/fixture.jsonl into {naming.data_table(env)}" in run
    assert f"ok: {prd}: {naming.function_role(prd)} wrote 60 items with " in run
    targets = [e for e in plan.environments if e.tier in personas.SUBSET_TARGET_TIERS]
    if targets:
        to = targets[0].name
        for line in (
            f"exported by {naming.data_export_role(prd)} to s3://",
            f"imported by {naming.data_import_role(to)}: 25 item(s) into {naming.data_table(to)}",
            f"ok: {to}: the subset wrote 25 item(s) into {naming.data_table(to)} (found 25)",
            f"ok: {to}: no personal value of {prd} is in its items",
            f"ok: {to}: the dropped attribute(s) phone are in no copied item",
            f"ok: {prd}: its items are unchanged by the subset",
            "the rules' sha256, who ran each half) and no personal value",
        ):
            assert line in run, line
    refused = [prd, *seeded[:1]]
    for env in refused:
        assert f"ok: data-subset --to {env} (" in run and f"ok: data-subset --to {env}: no table or transfer" in run
    # A development principal and production's table: moto where the accounts differ, the matrix always.
    dev = next((e for e in plan.environments if e.tier == "development"), None) or plan.environment(seeded[0])
    if dev.account.id != plan.production.account.id:
        assert f"ok: moto: {naming.persona_role(dev.name, 'software-developer')} (account {dev.account.id}) " in run
    else:
        assert f"moto: {dev.name} and {prd} share account {dev.account.id}; moto checks no policy here" in run
    assert re.search(
        rf"ok: access/generated-cases.csv: .* of {dev.name} on {prd}'s table: deny \(make check-access", run
    )
    first = plan.environments[0].name
    assert f"ok: destroy {first} kept its data: key {naming.data_key_alias(first)} (Enabled)" in output
