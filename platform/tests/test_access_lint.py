"""parliament in the access matrix: one analysis per shape of policy, every finding still its own."""

from types import SimpleNamespace

import pytest

from multienv_tools.access_lint import Skip, parliament_findings, shape

# What this module checks does not vary with the answers: it runs against one bake (the defaults).
pytestmark = pytest.mark.once

# DynamoDB reads on an S3 ARN: parliament's RESOURCE_MISMATCH (MEDIUM).
MISMATCH = {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:s3:::app-{env}-data/*"}


def policies(*names_and_envs):
    documents = [
        (name, {"Version": "2012-10-17", "Statement": [{**MISMATCH, "Resource": MISMATCH["Resource"].format(env=env)}]})
        for name, env in names_and_envs
    ]
    return SimpleNamespace(identity_documents=lambda: iter(documents), skips={})


def test_environments_and_accounts_share_a_shape():
    one = '{"Resource": "arn:aws:iam::111111111111:role/app-dev-deployer"}'
    other = '{"Resource": "arn:aws:iam::222222222222:role/app-prd-deployer"}'
    assert shape(one, ["dev", "prd"]) == shape(other, ["dev", "prd"])
    assert shape(one, ["dev", "prd"]) != shape(one.replace("deployer", "reader"), ["dev", "prd"])


def test_a_skip_for_one_environment_does_not_excuse_the_same_finding_in_another():
    found = policies(("app-dev-reader", "dev"), ("app-prd-reader", "prd"))
    skips = [Skip("app-dev-*", "RESOURCE_MISMATCH", "dev reads it on purpose")]
    problems, skipped = parliament_findings(found, skips, "MEDIUM", ["dev", "prd"])
    assert skipped == 1
    assert len(problems) == 1 and problems[0].startswith("parliament: app-prd-reader: MEDIUM RESOURCE_MISMATCH")


def test_a_finding_excused_everywhere_is_counted_once_per_policy_and_its_skip_is_used():
    found = policies(("app-dev-reader", "dev"), ("app-prd-reader", "prd"))
    skips = [Skip("app-*-reader", "RESOURCE_MISMATCH", "both read it on purpose")]
    assert parliament_findings(found, skips, "MEDIUM", ["dev", "prd"]) == ([], 2)
