"""Amazon Inspector (v2): account status, coverage of an EC2 instance and its findings.

Scan mode: EC2 scanning of an instance launched from the AMI (Inspector's hybrid EC2 scanning:
agent-based through the SSM agent, which our AMIs carry, agentless from EBS snapshots otherwise).
Why this mode: it scans exactly what will run (installed packages of the booted AMI), needs nothing
shipped to the instance, reports through the ordinary Inspector findings (so CreateFindingsReport,
suppression rules and the delegated-admin view all work), and is available in every Inspector
region. The SBOM route (inspector-sbomgen + ScanSbom) would need a tool run on the instance anyway;
Image Builder's own AMI scans only cover images built by a pipeline (patched and imported AMIs
would escape the gate); CIS scans check configuration, not vulnerabilities.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from lambdas.adapters.aws import client
from lambdas.domain.contracts import SEVERITIES


# Coverage reasons that will not turn into a scan however long we wait (ScanStatus.reason).
UNSCANNABLE = frozenset(
    {"UNSUPPORTED_OS", "ACCESS_DENIED", "RESOURCE_TERMINATED", "EXCLUDED_BY_TAG", "SCAN_ELIGIBILITY_EXPIRED", "EC2_INSTANCE_STOPPED"}
)
# Documented remedies for an account/Region whose EC2 scanning is off (see deploy.sh).
ENABLE_HINT = "run `bash deploy.sh` (it offers to enable it) or `aws inspector2 enable --resource-types EC2 --region {region}`"


def ec2_scanning() -> dict[str, str]:
    """This account's EC2 scanning status in this Region (ENABLED, ENABLING, DISABLED, DISABLING,
    SUSPENDED, SUSPENDING), from BatchGetAccountStatus."""
    inspector = client("inspector2")
    accounts = inspector.batch_get_account_status().get("accounts", [])
    if not accounts:
        return {"status": "UNKNOWN", "account": "", "region": inspector.meta.region_name}
    ec2 = accounts[0].get("resourceState", {}).get("ec2", {})
    return {"status": ec2.get("status", "UNKNOWN"), "account": accounts[0].get("accountId", ""), "region": inspector.meta.region_name}


def ec2_scanning_blocker() -> str | None:
    """Why Inspector will never scan an EC2 instance here, or None while it does or is being enabled."""
    scanning = ec2_scanning()
    if scanning["status"] in ("ENABLED", "ENABLING"):
        return None
    return (
        f"Amazon Inspector EC2 scanning is not enabled in account {scanning['account']} / {scanning['region']} "
        f"(status {scanning['status']}), so the instance will never be scanned; to enable it, "
        + ENABLE_HINT.format(region=scanning["region"])
        + ", then retry the event."
    )


def _resource_filter(instance_id: str) -> dict[str, Any]:
    return {"resourceId": [{"comparison": "EQUALS", "value": instance_id}]}


def coverage(instance_id: str) -> dict[str, str] | None:
    """The scan status of the instance, or None while Inspector has not discovered it yet."""
    response = client("inspector2").list_coverage(filterCriteria={"resourceId": [{"comparison": "EQUALS", "value": instance_id}]})
    for resource in response.get("coveredResources", []):
        status = resource.get("scanStatus", {})
        return {
            "status": status.get("statusCode", "INACTIVE"),
            "reason": status.get("reason", ""),
            "last_scanned_at": str(resource.get("lastScannedAt", "")),
        }
    return None


def findings(instance_id: str) -> list[dict[str, Any]]:
    """Every active finding of the instance (ListFindings answers at once; no report to wait for)."""
    criteria = {**_resource_filter(instance_id), "findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}]}
    pages = client("inspector2").get_paginator("list_findings").paginate(filterCriteria=criteria)
    return [finding for page in pages for finding in page.get("findings", [])]


def severity_counts(found: list[dict[str, Any]]) -> dict[str, int]:
    counts: Counter[str] = Counter({severity: 0 for severity in SEVERITIES})
    counts.update(finding.get("severity", "UNTRIAGED") for finding in found)
    return dict(counts)
