"""``make data-seed`` and ``make data-subset``: dummy data for the lower tiers, a masked sample of production above.

``seed --env E [--fixture F | --count N --seed S]`` writes the team's fixture, or ``N`` records made up
from the shapes ``data/masking.toml`` declares, into ``E``'s table: sandbox and development tiers only,
with credentials of ``E``'s own account.

``subset --from <production env> --to <testing, QA or staging env> (--fraction F | --count N) --seed S``
runs as the pair of roles the data stack makes for it, each assumed by a principal its trust names: the
export role in production by the caller's credentials (production's Project Administrator, with MFA), the
import role in the target by the credentials of ``--to-profile`` (the target's Project Administrator or
DevOps Engineer; the caller's own when no profile is given). The export role reads the table,
samples with the seed, masks with ``data/masking.toml`` (a salt made for this copy alone, never stored or
printed) and writes JSON lines plus a manifest to ``s3://<target's transfer bucket>/from-<from>/<copy id>/``;
the import role in the target reads that copy back and writes its items into the target's table. Every
refusal (a target of another tier, a source that is not production, a name that is not this project's,
an attribute the rules do not cover) comes before anything is written. Nothing here prints a value.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from multienv.model import is_placeholder
from multienv.settings import Environment, Settings, SettingsError, load_settings

from . import masking, personas
from .deploy_target import Context, DeployError, check_target, client, is_aws_error, one_line, report_aws_error

# Which tiers may be seeded, be a subset's source or its target: personas.py decides, once.
SEED_TIERS = personas.SEED_TIERS
SUBSET_SOURCE_TIERS = personas.SUBSET_SOURCE_TIERS
SUBSET_TIERS = personas.SUBSET_TARGET_TIERS
DEFAULT_COUNT = 20
SALT_BYTES = 32
BATCH = 25  # BatchWriteItem's most items a request
ITEMS_OBJECT = "items.jsonl"
MANIFEST_OBJECT = "manifest.json"
MANIFEST_FORMAT = 1
SESSION = "multienv-data-subset"


class DataCopyError(ValueError):
    """A refused copy or seed: the message says what, the value, and what is allowed; nothing was written."""


def _names(envs: Sequence[Environment]) -> str:
    return ", ".join(f"{e.name} ({e.tier.value})" for e in envs) or "none"


def _environment(settings: Settings, name: str, flag: str) -> Environment:
    if name not in settings.names:
        raise DataCopyError(
            f"{flag} {name!r} is not an environment of {settings.slug} ({settings.path.name}): "
            f"the environments are {_names(settings.environments)}; data never moves between projects"
        )
    return settings.environment(name)


def seed_target(settings: Settings, name: str) -> Environment:
    """The environment ``data-seed`` may write to: sandbox or development tier of this project."""
    env = _environment(settings, name, "--env")
    if env.tier not in SEED_TIERS:
        allowed = [e for e in settings.environments if e.tier in SEED_TIERS]
        raise DataCopyError(
            f"--env {name!r} is a {env.tier.value}-tier environment: dummy data goes to sandbox and development "
            f"tiers only ({_names(allowed)}); a testing, QA or staging environment gets a masked subset of "
            "production (make data-subset), production gets nothing"
        )
    return env


def subset_route(settings: Settings, source: str, target: str) -> tuple[Environment, Environment]:
    """The source (production tier) and target (testing, QA or staging tier) of ``data-subset``, both this project's."""
    frm = _environment(settings, source, "--from")
    to = _environment(settings, target, "--to")
    if frm.tier not in SUBSET_SOURCE_TIERS:
        raise DataCopyError(
            f"--from {source!r} is a {frm.tier.value}-tier environment: a subset is taken from production only "
            f"({settings.production.name}); lower tiers hold no data worth sampling"
        )
    if to.tier not in SUBSET_TIERS:
        allowed = [e for e in settings.environments if e.tier in SUBSET_TIERS]
        why = (
            "production data never goes back into production"
            if to.tier.is_production
            else "sandbox and development get dummy data (make data-seed), never production's"
        )
        raise DataCopyError(
            f"--to {target!r} is a {to.tier.value}-tier environment: {why}; "
            f"a subset goes to testing, QA or staging tiers only ({_names(allowed)})"
        )
    return frm, to


# --------------------------------------------------------------------------- AWS, one table or bucket at a time


def scan(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    """Every item of ``table``, page after page (a Scan returns at most 1 MB and ``LastEvaluatedKey``)."""
    arguments: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**arguments)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def write_items(dynamodb: Any, table: str, items: Sequence[Mapping[str, Any]], attempts: int = 8) -> int:
    """BatchWriteItem, 25 at a time, retrying what DynamoDB leaves unprocessed; the number written."""
    for start in range(0, len(items), BATCH):
        requests = {table: [{"PutRequest": {"Item": dict(i)}} for i in items[start : start + BATCH]]}
        for _ in range(attempts):
            requests = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not requests:
                break
        else:
            raise DeployError(f"{table}: DynamoDB left items unprocessed after {attempts} attempts; run the copy again")
    return len(items)


def key_of(dynamodb: Any, table: str, what: str) -> tuple[str, ...]:
    """The table's key attributes (partition key first), or an error naming the table and account."""
    try:
        described = dynamodb.describe_table(TableName=table)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        raise DataCopyError(
            f"{what}: no table {table}: is the environment's data stack deployed, with a table "
            '([data] stores = "table" or "both" in multienv.toml)?'
        ) from None
    order = {"HASH": 0, "RANGE": 1}
    return tuple(k["AttributeName"] for k in sorted(described["KeySchema"], key=lambda k: order[k["KeyType"]]))


def check_key(rules: masking.Rules, found: tuple[str, ...], table: str) -> None:
    if found != rules.key:
        raise DataCopyError(
            f"{rules.path}: key = {list(rules.key)} but table {table} is keyed on {list(found)}: "
            "declare the table's key as infra does"
        )


# --------------------------------------------------------------------------- credentials


@dataclass
class Session:
    """Clients acting as one set of credentials (the caller's, or a role's) in one account."""

    ctx: Context
    credentials: Mapping[str, str] | None = None

    def client(self, service: str) -> Any:
        if self.credentials is None:
            return self.ctx.client(service)
        return client(
            None,
            service,
            self.ctx.settings.region,
            self.ctx.endpoint_url,
            self.credentials["AccessKeyId"],
            self.credentials["SecretAccessKey"],
            self.credentials["SessionToken"],
        )


def assume(ctx: Context, role: str, env: Environment, purpose: str) -> Session:
    """The role ``role`` of ``env``'s account, assumed with the caller's credentials; checked to act there."""
    arn = ctx.settings.naming.role_arn(env.account.id, role)
    try:
        answer = ctx.client("sts").assume_role(RoleArn=arn, RoleSessionName=SESSION, DurationSeconds=3600)
    except Exception as error:
        if not is_aws_error(error):
            raise
        raise DeployError(
            f"{purpose}: could not assume {arn}: {one_line(error)}; run as a principal its trust names "
            f"(infra/data.yaml): for the export role, {env.name}'s Project Administrator with MFA; for the import "
            f"role, the target's Project Administrator or DevOps Engineer (--to-profile)"
        ) from None
    session = Session(ctx, answer["Credentials"])
    account = session.client("sts").get_caller_identity()["Account"]
    if account != env.account.id:
        raise DeployError(f"{purpose}: {arn} acts in account {account}, not {env.name}'s {env.account.id}")
    return session


def with_profile(environ: Mapping[str, str], profile: str) -> dict[str, str]:
    """``environ`` acting as the AWS profile ``profile``: keys in the environment would win over it."""
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    return {**{k: v for k, v in environ.items() if k not in keys}, "AWS_PROFILE": profile}


def refuse_placeholders(ctx: Context, *envs: Environment) -> None:
    for env in envs:
        if is_placeholder(env.account.id) and not ctx.is_local:
            raise DataCopyError(
                f"{env.name}'s account ID {env.account.id} in {ctx.settings.path.name} is a placeholder: "
                "put the real account ID there first; placeholders are for the local AWS only"
            )


# --------------------------------------------------------------------------- data-seed


def seed(ctx: Context, env_name: str, rules: masking.Rules, items: Sequence[Mapping[str, Any]], source: str) -> str:
    """Write dummy ``items`` into a sandbox or development environment's table, as the caller (in its account)."""
    env = seed_target(ctx.settings, env_name)
    problems = masking.check_items(
        items, masking.Rules(rules.path, rules.key, masking.REFUSE, rules.attributes), source
    )
    if problems:
        raise masking.MaskingError(problems)
    check_target(ctx, env.account.id, f"data-seed {env.name}")
    dynamodb = ctx.client("dynamodb")
    table = ctx.settings.naming.data_table(env.name)
    check_key(rules, key_of(dynamodb, table, f"data-seed {env.name}"), table)
    written = write_items(dynamodb, table, items)
    return f"{env.name}: wrote {written} item(s) from {source} into {table} (account {env.account.id})"


# --------------------------------------------------------------------------- data-subset


@dataclass(frozen=True)
class Sampling:
    seed: str
    fraction: float | None = None
    count: int | None = None

    def describe(self) -> dict[str, Any]:
        how = {"fraction": self.fraction} if self.fraction is not None else {"count": self.count}
        return {**how, "seed": self.seed}


def copy_id(now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


def manifest(
    settings: Settings,
    frm: Environment,
    to: Environment,
    rules: masking.Rules,
    sampling: Sampling,
    *,
    ident: str,
    created: datetime,
    scanned: int,
    body: bytes,
    copied: int,
    prefix: str,
    run_by: str,
    imported_by: str = "",
) -> dict[str, Any]:
    """What was copied, from where to where, when, by whom and under which rules: never a value, never the salt."""
    naming = settings.naming
    return {
        "format": MANIFEST_FORMAT,
        "copy_id": ident,
        "project": settings.slug,
        "created": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "run_by": run_by,
        "imported_by": imported_by or run_by,
        "from": {"env": frm.name, "account": frm.account.id, "table": naming.data_table(frm.name)},
        "to": {
            "env": to.name,
            "account": to.account.id,
            "table": naming.data_table(to.name),
            "bucket": naming.data_transfer_bucket(to.name, to.account.id),
        },
        "sample": sampling.describe(),
        "items_scanned": scanned,
        "items_copied": copied,
        "rules": {
            "file": masking.RULES_FILE,
            "sha256": rules.sha256,
            "undeclared": rules.undeclared,
            "attributes": rules.summary(),
        },
        "hash": "HMAC-SHA256 with a salt made for this copy alone, kept in memory and never stored",
        "objects": [{"key": f"{prefix}{ITEMS_OBJECT}", "sha256": hashlib.sha256(body).hexdigest(), "items": copied}],
    }


def export(
    settings: Settings,
    exporter: Session,
    frm: Environment,
    to: Environment,
    rules: masking.Rules,
    sampling: Sampling,
    *,
    run_by: str,
    imported_by: str = "",
    now: datetime,
) -> tuple[str, dict[str, Any]]:
    """As the export role: scan, check, sample, mask, then write the copy and, last, its manifest."""
    naming = settings.naming
    dynamodb = exporter.client("dynamodb")
    table = naming.data_table(frm.name)
    items = list(scan(dynamodb, table))
    problems = masking.check_items(items, rules, f"{frm.name}'s {table}")
    if problems:
        raise masking.MaskingError(problems)
    chosen = masking.sample(items, rules.key, sampling.seed, fraction=sampling.fraction, count=sampling.count)
    # The salt lives in this frame only: not in the manifest, not in the output, not in an argument.
    masked = masking.mask(chosen, rules, secrets.token_bytes(SALT_BYTES), sampling.seed)
    body = "".join(masking.to_line(item) + "\n" for item in masked).encode("utf-8")
    ident = copy_id(now)
    prefix = f"from-{frm.name}/{ident}/"
    record = manifest(
        settings,
        frm,
        to,
        rules,
        sampling,
        ident=ident,
        created=now,
        scanned=len(items),
        body=body,
        copied=len(masked),
        prefix=prefix,
        run_by=run_by,
        imported_by=imported_by,
    )
    bucket = naming.data_transfer_bucket(to.name, to.account.id)
    s3 = exporter.client("s3")
    # No encryption headers: the bucket's default encryption (the target's own key, named by ARN in the
    # data stack) applies. An alias here would be resolved in production's account, not the bucket's.
    s3.put_object(Bucket=bucket, Key=f"{prefix}{ITEMS_OBJECT}", Body=body, ContentType="application/x-ndjson")
    s3.put_object(
        Bucket=bucket,
        Key=f"{prefix}{MANIFEST_OBJECT}",
        Body=json.dumps(record, indent=2).encode("utf-8"),
        ContentType="application/json",
    )
    return prefix, record


def import_copy(settings: Settings, importer: Session, to: Environment, prefix: str) -> dict[str, Any]:
    """As the import role: read the manifest and the copy it names, check both, write the items."""
    naming = settings.naming
    bucket = naming.data_transfer_bucket(to.name, to.account.id)
    s3 = importer.client("s3")
    record = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}{MANIFEST_OBJECT}")["Body"].read())
    if record.get("project") != settings.slug or record.get("to", {}).get("env") != to.name:
        raise DataCopyError(f"s3://{bucket}/{prefix}{MANIFEST_OBJECT} is not a copy of {settings.slug} for {to.name}")
    items = []
    for obj in record["objects"]:
        body = s3.get_object(Bucket=bucket, Key=obj["key"])["Body"].read()
        if hashlib.sha256(body).hexdigest() != obj["sha256"]:
            raise DeployError(f"s3://{bucket}/{obj['key']} differs from its manifest (sha256): nothing was imported")
        items += [masking.from_line(line) for line in body.decode("utf-8").splitlines() if line]
    written = write_items(importer.client("dynamodb"), naming.data_table(to.name), items)
    return {**record, "items_imported": written}


def subset(
    ctx: Context,
    source: str,
    target: str,
    rules: masking.Rules,
    sampling: Sampling,
    now: datetime | None = None,
    target_ctx: Context | None = None,
) -> list[str]:
    """The whole copy; every check that can refuse it runs before the first write. Returns what to print.

    ``ctx`` acts for production (it assumes the export role there); ``target_ctx``, when given, for the
    target (it assumes the import role): the two roles trust different principals (infra/data.yaml)."""
    settings = ctx.settings
    frm, to = subset_route(settings, source, target)
    target_ctx = target_ctx or ctx
    refuse_placeholders(ctx, frm, to)
    naming = settings.naming
    run_by = ctx.client("sts").get_caller_identity()["Arn"]
    imported_by = target_ctx.client("sts").get_caller_identity()["Arn"]
    exporter = assume(ctx, naming.data_export_role(frm.name), frm, f"data-subset from {frm.name}")
    importer = assume(target_ctx, naming.data_import_role(to.name), to, f"data-subset into {to.name}")
    for session, env in ((exporter, frm), (importer, to)):
        table = naming.data_table(env.name)
        check_key(rules, key_of(session.client("dynamodb"), table, f"data-subset {env.name}"), table)
    now = now or datetime.now(UTC)
    prefix, record = export(
        settings, exporter, frm, to, rules, sampling, run_by=run_by, imported_by=imported_by, now=now
    )
    done = import_copy(settings, importer, to, prefix)
    bucket = record["to"]["bucket"]
    return [
        f"{frm.name} -> {to.name}: copy {record['copy_id']}: {record['items_scanned']} item(s) scanned in "
        f"{record['from']['table']}, {record['items_copied']} sampled ({json.dumps(record['sample'])}) and masked "
        f"with {masking.RULES_FILE} (sha256 {rules.sha256[:12]})",
        f"  exported by {naming.data_export_role(frm.name)} to s3://{bucket}/{prefix} (manifest: {MANIFEST_OBJECT})",
        f"  imported by {naming.data_import_role(to.name)}: {done['items_imported']} item(s) into {record['to']['table']}",
    ]


# --------------------------------------------------------------------------- the command


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a fraction more than 0 and at most 1 (0.1 is a tenth)")
    return value


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number, 1 or more")
    return int(text)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="multienv data", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed", help="dummy data into a sandbox or development environment's table")
    seeding.add_argument("--env", required=True, help="a sandbox- or development-tier environment")
    source = seeding.add_mutually_exclusive_group()
    source.add_argument("--fixture", help="JSON lines, one item a line, typed as the rules declare")
    source.add_argument(
        "--count", type=_count, help=f"generated records from the declared shapes (default {DEFAULT_COUNT})"
    )
    seeding.add_argument("--seed", default="1", help="the seed the generated records follow (default 1)")
    subsetting = commands.add_parser("subset", help="a masked sample of production into a testing, QA or staging table")
    subsetting.add_argument("--from", dest="source", required=True, help="the production environment")
    subsetting.add_argument("--to", dest="target", required=True, help="a testing-, QA- or staging-tier environment")
    size = subsetting.add_mutually_exclusive_group(required=True)
    size.add_argument("--fraction", type=_fraction, help="the share of items to take, e.g. 0.1")
    size.add_argument("--count", type=_count, help="the number of items to take")
    subsetting.add_argument("--seed", default="1", help="the same seed takes the same items (default 1)")
    subsetting.add_argument(
        "--to-profile",
        help="the AWS profile that assumes the target's import role (its Project Administrator or DevOps "
        "Engineer); the caller's own credentials, which assume production's export role, when not given",
    )
    for command in (seeding, subsetting):
        command.add_argument("--rules", help=f"the rules file (default: {masking.RULES_FILE} beside multienv.toml)")
    return top


def main(
    argv: list[str] | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO = sys.stdout,
    settings: Settings | None = None,
) -> int:
    args = parser().parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        settings = settings or load_settings()
        # Where the environments are refused, they are refused before the rules or AWS are read.
        if args.command == "seed":
            seed_target(settings, args.env)
        else:
            subset_route(settings, args.source, args.target)
        rules = masking.load_rules(args.rules or settings.root / masking.RULES_FILE)
        ctx = Context(settings, environ, out)
        if args.command == "seed":
            if args.fixture:
                with open(args.fixture, encoding="utf-8") as fixture:  # noqa: PTH123 - a path as the user typed it
                    items = masking.parse_fixture(fixture.read(), rules, args.fixture)
                source = args.fixture
            else:
                count = args.count or DEFAULT_COUNT
                items = masking.generate(rules, count, args.seed)
                source = f"{count} generated record(s), seed {args.seed}"
            ctx.say(seed(ctx, args.env, rules, items, source))
        else:
            sampling = Sampling(args.seed, args.fraction, args.count)
            target_ctx = Context(settings, with_profile(environ, args.to_profile), out) if args.to_profile else None
            for line in subset(ctx, args.source, args.target, rules, sampling, target_ctx=target_ctx):
                ctx.say(line)
    except (DataCopyError, SettingsError) as error:
        print(f"error: {error}\nnothing was written", file=sys.stderr)
        return 2
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except masking.MaskingError as error:
        print("\n".join(f"error: {p}" for p in error.problems) + "\nnothing was written", file=sys.stderr)
        return 2
    except Exception as error:
        return report_aws_error(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
