"""Amazon Inspector (v2): coverage of an EC2 instance, its findings and a findings report in S3.

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


def count_findings(instance_id: str) -> dict[str, int]:
    counts: Counter[str] = Counter({severity: 0 for severity in SEVERITIES})
    criteria = {**_resource_filter(instance_id), "findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}]}
    for page in client("inspector2").get_paginator("list_findings").paginate(filterCriteria=criteria):
        counts.update(finding.get("severity", "UNTRIAGED") for finding in page.get("findings", []))
    return dict(counts)


def create_report(instance_id: str, bucket: str, key_prefix: str, kms_key_arn: str) -> str:
    response = client("inspector2").create_findings_report(
        reportFormat="JSON",
        filterCriteria=_resource_filter(instance_id),
        s3Destination={"bucketName": bucket, "keyPrefix": key_prefix, "kmsKeyArn": kms_key_arn},
    )
    return response["reportId"]


def report_status(report_id: str) -> dict[str, str]:
    response = client("inspector2").get_findings_report_status(reportId=report_id)
    return {
        "status": response.get("status", "IN_PROGRESS"),
        "error": response.get("errorMessage", ""),
    }
