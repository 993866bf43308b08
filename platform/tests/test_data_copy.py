"""``make data-seed`` and ``make data-subset`` on the local AWS (a moto server, one account per environment).

The tables and transfer buckets are made here by name (``naming``); in a deployment the data stack
makes them. Production holds items with personal attributes; the subset into testing must carry none
of their values, the counts and the manifest must say what was copied, production must stay as it was,
and every refused copy or seed must leave every table and bucket exactly as it found them.
"""

import hashlib
import io
import json
from contextlib import redirect_stderr

import boto3
import pytest
from baked import ROOT

from multienv.settings import parse_settings
from multienv_tools import data_copy, masking, stacks
from multienv_tools.local_aws import LOCAL_CREDENTIALS

# What this module checks does not vary with the answers: it runs against one bake (the defaults).
pytestmark = pytest.mark.once

REGION = "eu-west-1"
ENVIRONMENTS = {
    "sbx": "sandbox",
    "dev": "development",
    "tst": "testing",
    "qa": "qa",
    "stg": "staging",
    "prd": "production",
}
ACCOUNTS = {env: f"2000000000{n:02d}" for n, env in enumerate(ENVIRONMENTS, start=1)}
PRODUCTION_ITEMS = 120
# The rules the team ships: the run checks them, not a copy written for the test.
RULES = ROOT / masking.RULES_FILE
PERSONAL = ("name", "email", "phone")


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data-project")
    return parse_settings(
        {
            "project": {
                "name": "Data copy test",
                "slug": "dc",
                "package": "dc_app",
                "region": REGION,
                "github_repository": "owner/dc",
                "account_strategy": "full_isolation",
            },
            "accounts": {"devops": "100000000000", **ACCOUNTS},
            "devops": {"account": "devops"},
            "environments": [{"name": e, "tier": t, "account": e} for e, t in ENVIRONMENTS.items()],
        },
        folder / "multienv.toml",
    )


class World:
    """The local AWS as each account's administrator sees it."""

    def __init__(self, endpoint, settings):
        self.endpoint, self.settings, self.naming = endpoint, settings, settings.naming
        self.clients, self.keys = {}, {}
        self.base = {"AWS_ENDPOINT_URL": endpoint, **LOCAL_CREDENTIALS}

    def credentials(self, env):
        if env not in self.keys:
            self.keys[env] = self._assume(env)
        return self.keys[env]

    def _assume(self, env):
        sts = boto3.client(
            "sts",
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        role = self.naming.role_arn(ACCOUNTS[env], "local-admin")
        c = sts.assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
        return {
            "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
            "AWS_SESSION_TOKEN": c["SessionToken"],
        }

    def client(self, service, env):
        if (service, env) not in self.clients:
            self.clients[service, env] = self._client(service, env)
        return self.clients[service, env]

    def _client(self, service, env):
        keys = self.credentials(env)
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=keys["AWS_SESSION_TOKEN"],
        )

    def items(self, env):
        return list(data_copy.scan(self.client("dynamodb", env), self.naming.data_table(env)))

    def bucket(self, env):
        return self.naming.data_transfer_bucket(env, ACCOUNTS[env])

    def objects(self, env):
        listed = self.client("s3", env).list_objects_v2(Bucket=self.bucket(env))
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def read(self, env, key):
        return self.client("s3", env).get_object(Bucket=self.bucket(env), Key=key)["Body"].read()

    def everything(self):
        """Every table's items and every transfer bucket's keys, as the local AWS stores them: what a
        refused command must leave as it was. The local AWS runs in this process (conftest.py's
        ThreadedMotoServer), so its state is read directly; a Scan of each table through the API,
        twice a refusal, took 8 s of this module's 15. A server elsewhere would leave these stores
        empty: production's items must be there."""
        from moto.dynamodb.models import dynamodb_backends
        from moto.s3.models import s3_backends

        state = {}
        for env in ENVIRONMENTS:
            table = dynamodb_backends[ACCOUNTS[env]][REGION].get_table(self.naming.data_table(env))
            state[f"table {env}"] = sorted(json.dumps(i.to_json(), sort_keys=True) for i in table.all_items())
        for env in ("tst", "qa", "stg"):
            bucket = s3_backends[ACCOUNTS[env]]["aws"].get_bucket(self.bucket(env))
            state[f"bucket {env}"] = sorted(bucket.keys.keys())
        assert len(state["table prd"]) >= PRODUCTION_ITEMS, "the local AWS's state is not this process's"
        return state

    def run(self, *argv, env=None, rules=RULES):
        """The command as `make data-seed`/`make data-subset` runs it; (exit code, output, errors)."""
        environ = dict(self.base, **(self.credentials(env) if env else {}))
        out, err = io.StringIO(), io.StringIO()
        with redirect_stderr(err):
            code = data_copy.main([*argv, "--rules", str(rules)], environ=environ, out=out, settings=self.settings)
        return code, out.getvalue(), err.getvalue()


def production_item(n):
    return {
        "pk": {"S": f"customer-{n:05d}"},
        "sk": {"S": "profile"},
        "name": {"S": f"Realname Person{n}"},
        "email": {"S": f"real.person{n}@mailbox.test"},
        "phone": {"S": f"+44 20 7946 {n:04d}"},
        "plan": {"S": ("basic", "plus", "pro")[n % 3]},
        "balance": {"N": str(n * 7 % 1000)},
        "created_at": {"S": f"2025-0{1 + n % 9}-1{n % 10}T10:00:00Z"},
        "marketing_opt_in": {"BOOL": n % 2 == 0},
    }


@pytest.fixture(scope="module")
def world(local_aws, settings):
    world = World(local_aws, settings)
    for env in ENVIRONMENTS:
        world.client("dynamodb", env).create_table(
            TableName=world.naming.data_table(env),
            # The key the data stack declares (infra/data.yaml renders it from stacks.TABLE_KEY).
            KeySchema=[{"AttributeName": a, "KeyType": k} for a, _, k in stacks.TABLE_KEY],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t, _ in stacks.TABLE_KEY],
            BillingMode="PAY_PER_REQUEST",
        )
    for env in ("tst", "qa", "stg"):
        world.client("s3", env).create_bucket(
            Bucket=world.bucket(env), CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    data_copy.write_items(
        world.client("dynamodb", "prd"),
        world.naming.data_table("prd"),
        [production_item(n) for n in range(PRODUCTION_ITEMS)],
    )
    return world


@pytest.fixture(scope="module")
def copy(world):
    """One subset of production into testing, as the operator runs it (their own credentials, not a role)."""
    before = world.items("prd")
    assumed = []
    real_assume = data_copy.assume

    def spy(ctx, role, env, purpose):
        assumed.append(world.naming.role_arn(env.account.id, role))
        return real_assume(ctx, role, env, purpose)

    data_copy.assume = spy
    try:
        code, out, err = world.run("subset", "--from", "prd", "--to", "tst", "--count", "40", "--seed", "7")
    finally:
        data_copy.assume = real_assume
    assert code == 0, err
    return {"before": before, "out": out, "assumed": assumed}


def values(items, attribute):
    return {next(iter(i[attribute].values())) for i in items if attribute in i}


# --------------------------------------------------------------------------- the subset


def test_the_subset_runs_as_the_export_role_then_the_import_role(world, copy):
    naming = world.naming
    assert copy["assumed"] == [
        naming.role_arn(ACCOUNTS["prd"], naming.data_export_role("prd")),
        naming.role_arn(ACCOUNTS["tst"], naming.data_import_role("tst")),
    ]


def test_no_personal_value_reaches_testing(world, copy):
    copied = world.items("tst")
    production = world.items("prd")
    dump = "\n".join(masking.to_line(i) for i in copied)
    for attribute in PERSONAL:
        for value in values(production, attribute):
            assert value not in dump, f"{attribute} of production reached testing"
    assert not values(copied, "phone"), "a dropped attribute was copied"
    assert values(copied, "email").isdisjoint(values(production, "email"))


def test_kept_attributes_arrive_as_they_are_and_the_count_is_the_sample(world, copy):
    by_key = {i["pk"]["S"]: i for i in world.items("prd")}
    copied = world.items("tst")
    assert len(copied) == 40
    for item in copied:
        source = by_key[item["pk"]["S"]]
        for attribute in ("plan", "balance", "created_at", "marketing_opt_in"):
            assert item[attribute] == source[attribute]


def test_production_is_unchanged(world, copy):
    assert sorted(map(masking.to_line, world.items("prd"))) == sorted(map(masking.to_line, copy["before"]))


def test_the_manifest_says_what_when_and_how_many_never_a_value_or_the_salt(world, copy):
    keys = world.objects("tst")
    manifests = [k for k in keys if k.endswith("/manifest.json")]
    assert len(manifests) == 1 and manifests[0].startswith("from-prd/")
    text = world.read("tst", manifests[0]).decode()
    record = json.loads(text)
    assert record["items_scanned"] == PRODUCTION_ITEMS and record["items_copied"] == 40
    assert record["sample"] == {"count": 40, "seed": "7"}
    assert record["from"]["env"] == "prd" and record["to"]["env"] == "tst"
    assert record["rules"]["sha256"] == hashlib.sha256(RULES.read_bytes()).hexdigest()
    assert record["rules"]["attributes"]["email"] == "hash"
    assert record["created"].endswith("Z") and record["run_by"].startswith("arn:")
    (obj,) = record["objects"]
    assert hashlib.sha256(world.read("tst", obj["key"])).hexdigest() == obj["sha256"]
    assert "salt" not in json.dumps({k: v for k, v in record.items() if k != "hash"})
    for attribute in PERSONAL:
        for value in values(world.items("prd"), attribute):
            assert value not in text
    assert record["copy_id"] in copy["out"]
    assert "real.person" not in copy["out"]


def test_hashes_differ_from_one_copy_to_the_next_and_the_seed_takes_the_same_items(world, copy):
    code, _, err = world.run("subset", "--from", "prd", "--to", "qa", "--count", "40", "--seed", "7")
    assert code == 0, err
    first = {i["pk"]["S"]: i for i in world.items("tst")}
    second = {i["pk"]["S"]: i for i in world.items("qa")}
    assert first.keys() == second.keys()
    assert all(first[k]["email"] != second[k]["email"] for k in first)


def test_a_fraction_of_production_reaches_staging(world, copy):
    code, _, err = world.run("subset", "--from", "prd", "--to", "stg", "--fraction", "0.5", "--seed", "3")
    assert code == 0, err
    assert 0 < len(world.items("stg")) < PRODUCTION_ITEMS


# --------------------------------------------------------------------------- refusals write nothing

REFUSED = [
    (("--from", "prd", "--to", "prd"), "production data never goes back into production"),
    (("--from", "prd", "--to", "sbx"), "sandbox and development get dummy data"),
    (("--from", "prd", "--to", "dev"), "sandbox and development get dummy data"),
    (("--from", "prd", "--to", "uat"), "'uat' is not an environment of dc"),
    (("--from", "tst", "--to", "qa"), "a subset is taken from production only"),
    (("--from", "dev", "--to", "tst"), "a subset is taken from production only"),
    (("--from", "other-prd", "--to", "tst"), "'other-prd' is not an environment of dc"),
]


@pytest.mark.parametrize(("route", "reason"), REFUSED, ids=[" ".join(r[0]) for r in REFUSED])
def test_a_refused_subset_writes_nothing(world, copy, route, reason):
    before = world.everything()
    code, out, err = world.run("subset", *route, "--count", "5")
    assert (code, out) == (2, "")
    assert reason in err and "nothing was written" in err
    assert world.everything() == before


def test_an_undeclared_attribute_in_production_stops_the_copy_before_anything_is_written(world, copy):
    table = world.naming.data_table("prd")
    dynamodb = world.client("dynamodb", "prd")
    dynamodb.put_item(TableName=table, Item={**production_item(9999), "ssn": {"S": "078-05-1120"}})
    try:
        before = world.everything()
        code, _, err = world.run("subset", "--from", "prd", "--to", "tst", "--count", "5")
        assert code == 2
        assert "attribute 'ssn' (1 item(s)) is not declared" in err and "078-05-1120" not in err
        assert world.everything() == before
    finally:
        dynamodb.delete_item(TableName=table, Key={"pk": {"S": "customer-09999"}, "sk": {"S": "profile"}})


def test_a_personal_attribute_kept_by_the_rules_is_refused_before_anything_is_written(world, copy, tmp_path):
    text = RULES.read_text(encoding="utf-8")
    kept = tmp_path / "masking.toml"
    kept.write_text(
        text.replace('personal = true\nrule = "hash"', 'personal = true\nrule = "keep"', 1), encoding="utf-8"
    )
    before = world.everything()
    code, _, err = world.run("subset", "--from", "prd", "--to", "tst", "--count", "5", rules=kept)
    assert code == 2
    assert "attributes.email: rule = 'keep' on an attribute declared personal" in err
    assert world.everything() == before


# --------------------------------------------------------------------------- dummy data


def test_seed_writes_generated_records_into_sandbox_and_the_fixture_into_development(world, copy):
    code, out, err = world.run("seed", "--env", "sbx", "--count", "15", "--seed", "2", env="sbx")
    assert code == 0, err
    assert len(world.items("sbx")) == 15 and "wrote 15 item(s)" in out
    fixture = ROOT / "data" / "fixture.jsonl"
    code, _, err = world.run("seed", "--env", "dev", "--fixture", str(fixture), env="dev")
    assert code == 0, err
    lines = [line for line in fixture.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(world.items("dev")) == len(lines)


@pytest.mark.parametrize("env", ["tst", "qa", "stg", "prd", "uat"])
def test_seed_is_refused_above_development_and_outside_the_project_writing_nothing(world, copy, env):
    before = world.everything()
    code, _, err = world.run("seed", "--env", env, "--count", "3", env=env if env in ACCOUNTS else None)
    assert code == 2
    assert ("sandbox and development tiers only" in err) or ("is not an environment of dc" in err)
    assert world.everything() == before


def test_seed_with_credentials_of_another_account_is_refused(world, copy):
    before = world.everything()
    code, _, err = world.run("seed", "--env", "sbx", "--count", "3", env="dev")
    assert code == 1
    assert f"the target is account {ACCOUNTS['sbx']}" in err
    assert world.everything() == before
