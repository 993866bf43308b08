"""``make local-deploy``, the data run: dummy data below, a masked subset of production above, on the deployed stacks.

After every stack is up (the data stacks made each environment's key, table, transfer bucket and
roles), this runs what a team runs, with the principals the data stack's trust names:

- ``multienv data-seed`` loads the team's fixture (``data/fixture.jsonl``) into each sandbox- and
  development-tier environment, as that environment's Software Developer (full data there);
- production's function role writes items whose personal attributes (``personal = true`` in
  ``data/masking.toml``) carry values found nowhere else;
- ``multienv data-subset`` copies a sample into the first testing, QA or staging environment:
  production's Project Administrator assumes the export role, the target's Project Administrator
  the import role (``personas.subset_runners``); then the masking (no personal value of production in
  the target's items, dropped attributes absent, kept ones equal), the counts, the manifest and
  production's items (unchanged) are checked;
- a subset toward production and toward a sandbox or development environment is refused with
  nothing written in any table or transfer bucket;
- a development principal cannot read production's table. What moto shows: with the development
  account's credentials, production's table is not found by name nor by ARN (moto resolves a table
  in the caller's account). It checks no IAM policy here, and when development and production share
  an account it shows nothing: what AWS decides is the access matrix's to prove (``access/generated-cases.csv``,
  ``make check-access``), whose rows for it are checked to be there.

With ``[data] stores = "none"`` there is no data run; with a bucket and no table, nothing to copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from multienv.model import Tier

from . import data_copy, masking, personas, stacks
from .deploy_target import Context
from .local_aws import Run
from .persona_cases import GENERATED_CASES_FILE
from .personas import PROJECT_ADMIN, SOFTWARE_DEVELOPER

PRODUCTION_ITEMS = 60
SUBSET_COUNT = 25
SEED = "local-deploy"
READS = ("dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query")


def production_items(rules: masking.Rules, count: int) -> list[dict[str, Any]]:
    """Items of every declared attribute; each personal one holds a value unique to production, so that
    finding it anywhere in the target means it was copied unmasked."""
    items = masking.generate(rules, count, SEED)
    for n, item in enumerate(items):
        for name, attribute in rules.attributes.items():
            if not attribute.personal or name in rules.key:
                continue
            if attribute.type == "S":
                item[name] = {"S": f"production-only {name} of person {n:04d}"}
            elif attribute.type == "N":
                item[name] = {"N": str(9_000_000_000 + n)}
            elif attribute.type == "B":
                item[name] = {"B": f"production-only {name} {n:04d}".encode()}
    return items


def personal_values(rules: masking.Rules, items: Sequence[Mapping[str, Any]]) -> set[str]:
    """Every value of a personal attribute in ``items``, as text (booleans say nothing of anyone alone)."""
    found = set()
    for item in items:
        for name, attribute in rules.attributes.items():
            if attribute.personal and name in item and attribute.type != "BOOL":
                value = next(iter(item[name].values()))
                found.add(value.decode() if isinstance(value, bytes) else str(value))
    return found


def lines(items: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted(masking.to_line(i) for i in items)


def command(run: Run, credentials: Mapping[str, str], *argv: str) -> tuple[int, str, str]:
    """``multienv data-seed``/``data-subset`` as a team member runs it: (exit code, output, errors)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = data_copy.main(list(argv), environ=run.environ(credentials), out=out, settings=run.settings)
    return code, out.getvalue(), err.getvalue()


def persona(run: Run, env_name: str, who: str) -> dict[str, str]:
    """Credentials of ``env_name``'s persona role ``who`` (moto does not check the trust: who signs in)."""
    naming, env = run.settings.naming, run.settings.environment(env_name)
    return run.assume(naming.role_arn(env.account.id, naming.persona_role(env_name, who)), run.admin(env.account.id))


def data_run(run: Run) -> None:
    settings = run.settings
    if not settings.has_data:
        run.say("== data run: none, [data] stores = none: no store, so nothing to seed or copy")
        return
    if not settings.has_table:
        run.say(
            f"== data run: none, [data] stores = {settings.data_stores}: data-seed and data-subset copy table "
            "items, and there is no table (the buckets are checked above)"
        )
        return
    naming = settings.naming
    rules = masking.load_rules(settings.root / masking.RULES_FILE)
    prd = settings.production
    seeded = [e for e in settings.environments if e.tier in personas.SEED_TIERS]
    targets = stacks.subset_targets(settings)
    run.say(f"== data run: seed {', '.join(e.name for e in seeded) or 'nothing'}, fill {prd.name}, subset")

    def items(env_name: str) -> list[dict[str, Any]]:
        env = settings.environment(env_name)
        return list(data_copy.scan(run.client("dynamodb", run.admin(env.account.id)), naming.data_table(env_name)))

    fixture = settings.root / "data" / "fixture.jsonl"
    expected = masking.parse_fixture(fixture.read_text(encoding="utf-8"), rules, str(fixture))
    for env in seeded:
        developer = persona(run, env.name, SOFTWARE_DEVELOPER)
        code, _, err = command(run, developer, "seed", "--env", env.name, "--fixture", str(fixture))
        run.check(code == 0, f"{env.name}: data-seed ran as {naming.persona_role(env.name, SOFTWARE_DEVELOPER)}{err}")
        found = set(lines(items(env.name)))
        run.check(
            set(lines(expected)) <= found,
            f"{env.name}: data-seed wrote the {len(expected)} item(s) of data/fixture.jsonl into {naming.data_table(env.name)}",
        )

    function = run.assume(naming.role_arn(prd.account.id, naming.function_role(prd.name)), run.admin(prd.account.id))
    written = production_items(rules, PRODUCTION_ITEMS)
    data_copy.write_items(run.client("dynamodb", function), naming.data_table(prd.name), written)
    personal = personal_values(rules, written)
    before = lines(items(prd.name))
    run.check(
        len(before) >= PRODUCTION_ITEMS and bool(personal),
        f"{prd.name}: {naming.function_role(prd.name)} wrote {PRODUCTION_ITEMS} items with {len(personal)} personal "
        f"values ({', '.join(sorted(n for n, a in rules.attributes.items() if a.personal))})",
    )

    if not targets:
        run.say(f"   no testing, QA or staging environment: no masked subset of {prd.name} to take")
    else:
        subset(run, rules, targets[0].name, personal, before, items)
    refusals(run, seeded, items)
    development_cannot_read_production(run)


def subset(run: Run, rules: masking.Rules, target: str, personal: set[str], before: list[str], items: Any) -> None:
    settings, naming = run.settings, run.settings.naming
    prd, to = settings.production, settings.environment(target)
    exporter, importer = persona(run, prd.name, PROJECT_ADMIN), persona(run, to.name, PROJECT_ADMIN)
    target_before = {masking.item_key(i, rules.key) for i in items(to.name)}
    sampling = data_copy.Sampling(SEED, count=SUBSET_COUNT)
    said = data_copy.subset(
        Context(settings, run.environ(exporter), io.StringIO()),
        prd.name,
        to.name,
        rules,
        sampling,
        target_ctx=Context(settings, run.environ(importer), io.StringIO()),
    )
    for line in said:
        run.say(f"   {line.strip()}")
    copied = [i for i in items(to.name) if masking.item_key(i, rules.key) not in target_before]
    run.check(
        len(copied) == SUBSET_COUNT,
        f"{to.name}: the subset wrote {SUBSET_COUNT} item(s) into {naming.data_table(to.name)} (found {len(copied)})",
    )
    dump = "\n".join(lines(copied))
    leaked = sorted(v for v in personal if v in dump)
    run.check(
        not leaked,
        f"{to.name}: no personal value of {prd.name} is in its items "
        f"({len(personal)} values looked for){': found ' + repr(leaked[:3]) if leaked else ''}",
    )
    dropped = [n for n, a in rules.attributes.items() if a.rule == masking.DROP]
    run.check(
        not any(n in i for i in copied for n in dropped),
        f"{to.name}: the dropped attribute(s) {', '.join(dropped) or 'none'} are in no copied item",
    )
    source = {masking.item_key(i, rules.key): i for i in (masking.from_line(line) for line in before)}
    kept = [n for n, a in rules.attributes.items() if a.rule == masking.KEEP and n not in rules.key]
    run.check(
        all(
            masking.item_key(i, rules.key) in source
            and all(i.get(n) == source[masking.item_key(i, rules.key)].get(n) for n in kept)
            for i in copied
        ),
        f"{to.name}: each copied item is one of {prd.name}'s, its kept attribute(s) {', '.join(kept)} as they were",
    )
    run.check(lines(items(prd.name)) == before, f"{prd.name}: its items are unchanged by the subset")

    bucket = naming.data_transfer_bucket(to.name, to.account.id)
    s3 = run.client("s3", run.admin(to.account.id))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"from-{prd.name}/").get("Contents", [])]
    (manifest_key,) = [k for k in keys if k.endswith(f"/{data_copy.MANIFEST_OBJECT}")]
    text = s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read().decode()
    record = json.loads(text)
    rules_sha = hashlib.sha256((settings.root / masking.RULES_FILE).read_bytes()).hexdigest()
    run.check(
        (record["items_copied"], record["items_scanned"], record["rules"]["sha256"])
        == (SUBSET_COUNT, len(before), rules_sha)
        and record["run_by"].split("/")[1] == naming.persona_role(prd.name, PROJECT_ADMIN)
        and record["imported_by"].split("/")[1] == naming.persona_role(to.name, PROJECT_ADMIN)
        and not any(v in text for v in personal),
        f"s3://{bucket}/{manifest_key} records the copy ({record['items_scanned']} scanned, {record['items_copied']} "
        f"copied, at {record['created']}, the rules' sha256, who ran each half) and no personal value",
    )


def everything(run: Run, items: Any) -> dict[str, Any]:
    """Every table's items and every transfer bucket's keys: what a refused copy must leave as it was."""
    settings, naming = run.settings, run.settings.naming
    state: dict[str, Any] = {f"table {e.name}": lines(items(e.name)) for e in settings.environments}
    for target in stacks.subset_targets(settings):
        s3 = run.client("s3", run.admin(target.account.id))
        listed = s3.list_objects_v2(Bucket=naming.data_transfer_bucket(target.name, target.account.id))
        state[f"bucket {target.name}"] = sorted(o["Key"] for o in listed.get("Contents", []))
    return state


def refusals(run: Run, seeded: list[Any], items: Any) -> None:
    settings = run.settings
    prd = settings.production
    admin = persona(run, prd.name, PROJECT_ADMIN)
    for target in [prd, *seeded[:1]]:
        before = everything(run, items)
        code, _, err = command(run, admin, "subset", "--from", prd.name, "--to", target.name, "--count", "5")
        run.check(
            code == 2 and "nothing was written" in err and f"--to {target.name!r} is a {target.tier.value}-tier" in err,
            f"data-subset --to {target.name} ({target.tier.value}) is refused: {err.splitlines()[0][7:80]}...",
        )
        run.check(
            everything(run, items) == before, f"data-subset --to {target.name}: no table or transfer bucket changed"
        )


def development_cannot_read_production(run: Run) -> None:
    settings, naming = run.settings, run.settings.naming
    prd = settings.production
    dev = next((e for e in settings.environments if e.tier is Tier.DEVELOPMENT), None) or next(
        (e for e in settings.environments if e.tier in personas.SEED_TIERS), None
    )
    if dev is None:
        run.say("   no sandbox or development environment: no development principal to refuse")
        return
    table = naming.data_table(prd.name)
    arn = f"arn:{naming.partition}:dynamodb:{settings.region}:{prd.account.id}:table/{table}"
    developer = naming.persona_role(dev.name, SOFTWARE_DEVELOPER)
    if dev.account.id != prd.account.id:
        dynamodb = run.client("dynamodb", persona(run, dev.name, SOFTWARE_DEVELOPER))
        unreachable = []
        for name in (table, arn):
            try:
                dynamodb.scan(TableName=name, Limit=1)
            except dynamodb.exceptions.ResourceNotFoundException:
                unreachable.append(name)
        run.check(
            unreachable == [table, arn],
            f"moto: {developer} (account {dev.account.id}) does not reach {prd.name}'s table (account "
            f"{prd.account.id}) by name or by ARN",
        )
    else:
        run.say(
            f"   moto: {dev.name} and {prd.name} share account {dev.account.id}; moto checks no policy here, so "
            "what refuses a development principal production's table is the access matrix's to show"
        )
    cases = (settings.root / GENERATED_CASES_FILE).read_text(encoding="utf-8").splitlines()
    rows = [
        row
        for row in (line.split(",") for line in cases if line and not line.startswith("#"))
        if len(row) > 5 and row[1] == dev.name and row[2] in READS and row[3:6] == ["table", prd.name, "deny"]
    ]
    run.check(
        bool(rows),
        f"{GENERATED_CASES_FILE}: {', '.join(sorted({f'{r[0]} {r[2]}' for r in rows}))} of {dev.name} on {prd.name}'s "
        "table: deny (make check-access simulates them with AWS's rules)",
    )


def check_retained(run: Run, env_name: str) -> None:
    """After ``destroy``: the environment's data outlived its stacks (the data stack is Retain), and
    ``destroy`` said so."""
    settings, naming = run.settings, run.settings.naming
    if not settings.has_data:
        return
    env = settings.environment(env_name)
    admin = run.admin(env.account.id)
    kms = run.client("kms", admin)
    key = kms.describe_key(KeyId=naming.data_key_alias(env_name))["KeyMetadata"]
    kept = [f"key {naming.data_key_alias(env_name)} ({key['KeyState']})"]
    if settings.has_table:
        table = naming.data_table(env_name)
        count = len(list(data_copy.scan(run.client("dynamodb", admin), table)))
        kept.append(f"table {table} ({count} item(s))")
    if settings.has_bucket:
        bucket = naming.data_bucket(env_name, env.account.id)
        run.client("s3", admin).head_bucket(Bucket=bucket)
        kept.append(f"bucket {bucket}")
    run.check(key["KeyState"] == "Enabled", f"destroy {env_name} kept its data: {', '.join(kept)}")
