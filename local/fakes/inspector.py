"""Amazon Inspector v2, faked for one EC2 instance at a time: account status, coverage, findings and
findings reports.

The account's scan types (EC2, ECR, LAMBDA, LAMBDA_CODE, CODE_REPOSITORY) have a status that
BatchGetAccountStatus reports and Enable / Disable change, through ENABLING / DISABLING for
`status_change_minutes` of simulated time, as the Inspector API reference describes. While EC2
scanning is not ENABLED, Inspector scans no instance: ListCoverage and ListFindings return nothing
for instances and a findings report holds no finding.

With EC2 scanning on, an instance is covered once it runs in moto's EC2 and is scanned `scan_minutes`
of simulated time later. Its findings are drawn when first listed: `baseline` by default, or what
`next_scan_reports` injected (e.g. {"CRITICAL": 1}). A findings report is written, KMS-encrypted, to
the requested bucket; GetFindingsReportStatus uses the API's statuses (IN_PROGRESS, SUCCEEDED, ...).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from botocore.exceptions import ClientError

from local.credentials import admin_client
from local.fakes.hooks import FakeAws, FakeError
from local.time_scale import TimeScale

# ResourceScanType -> the key of that type in ResourceState / ResourceStatus.
SCAN_TYPES = {"EC2": "ec2", "ECR": "ecr", "LAMBDA": "lambda", "LAMBDA_CODE": "lambdaCode", "CODE_REPOSITORY": "codeRepository"}
_SETTLED = {"ENABLING": "ENABLED", "DISABLING": "DISABLED"}


class InspectorFake:
    def __init__(self, *, scale: TimeScale, region: str, account: str, scan_minutes: float = 10,
                 baseline: dict[str, int] | None = None, ec2_scanning_enabled: bool = True,
                 status_change_minutes: float = 1) -> None:
        self.scale, self.region, self.account, self.scan_minutes = scale, region, account, scan_minutes
        self.baseline = baseline if baseline is not None else {"MEDIUM": 2, "LOW": 3}
        self.status_change_minutes = status_change_minutes
        self.findings: dict[str, list[dict[str, Any]]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self._first_seen: dict[str, float] = {}
        self._injected: list[dict[str, int]] = []
        # scan type -> (status, since): the account starts with only EC2 scanning on (or nothing).
        self._scan_types: dict[str, tuple[str, float]] = {t: ("DISABLED", scale.now()) for t in SCAN_TYPES}
        if ec2_scanning_enabled:
            self._scan_types["EC2"] = ("ENABLED", scale.now())

    def set_ec2_scanning(self, enabled: bool) -> None:
        """What `deploy.sh --no-inspector` leaves: an account where EC2 scanning was never enabled."""
        self._scan_types["EC2"] = ("ENABLED" if enabled else "DISABLED", self.scale.now())

    def next_scan_reports(self, counts: dict[str, int]) -> None:
        self._injected.append(counts)

    def clear_injections(self) -> None:
        self._injected.clear()

    def install(self, fakes: FakeAws) -> InspectorFake:
        fakes.serve(
            "inspector2",
            {
                "BatchGetAccountStatus": self._account_status,
                "Enable": lambda p: self._change(p, "ENABLING"),
                "Disable": lambda p: self._change(p, "DISABLING"),
                "ListCoverage": self._coverage,
                "ListFindings": self._list_findings,
                "CreateFindingsReport": self._create_report,
                "GetFindingsReportStatus": self._report_status,
            },
        )
        return self

    # ---- account status
    def scan_status(self, scan_type: str = "EC2") -> str:
        status, since = self._scan_types[scan_type]
        if status in _SETTLED and self.scale.elapsed(since) >= self.status_change_minutes * 60:
            status = _SETTLED[status]
            self._scan_types[scan_type] = (status, since)
        return status

    def _account_state(self) -> str:
        statuses = {self.scan_status(t) for t in SCAN_TYPES}
        for status in ("ENABLED", "ENABLING", "DISABLING"):
            if status in statuses:
                return status
        return "DISABLED"

    def _accounts(self, params: dict[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
        """Whether this account is asked about, and the failedAccounts entries for any other."""
        ids = params.get("accountIds") or [self.account]
        others = [i for i in ids if i != self.account]
        # A standalone account cannot see others (no delegated administrator is modelled).
        failed = [{"accountId": i, "errorCode": "ACCESS_DENIED", "errorMessage": "not a member of this account's organization"}
                  for i in others]
        return self.account in ids, failed

    def _account_status(self, p: dict[str, Any]) -> dict[str, Any]:
        own, failed = self._accounts(p)
        accounts = []
        if own:
            resource_state = {key: {"status": self.scan_status(t)} for t, key in SCAN_TYPES.items()}
            accounts.append({"accountId": self.account, "state": {"status": self._account_state()}, "resourceState": resource_state})
        return {"accounts": accounts, "failedAccounts": failed}

    def _change(self, p: dict[str, Any], transition: str) -> dict[str, Any]:
        types = p.get("resourceTypes") or (list(SCAN_TYPES) if transition == "DISABLING" else [])
        if not types:
            raise FakeError("ValidationException", "resourceTypes must contain at least 1 item")
        unknown = [t for t in types if t not in SCAN_TYPES]
        if unknown:
            raise FakeError("ValidationException", f"unknown resourceTypes {unknown}; valid: {sorted(SCAN_TYPES)}")
        own, failed = self._accounts(p)
        if own:
            for scan_type in types:
                if self.scan_status(scan_type) != _SETTLED[transition]:
                    self._scan_types[scan_type] = (transition, self.scale.now())
        accounts = []
        if own:
            resource_status = {key: self.scan_status(t) for t, key in SCAN_TYPES.items()}
            accounts.append({"accountId": self.account, "status": self._account_state(), "resourceStatus": resource_status})
        return {"accounts": accounts, "failedAccounts": failed}

    # ---- coverage and findings
    @staticmethod
    def _resource_id(params: dict[str, Any]) -> str:
        criteria = params.get("filterCriteria", {}).get("resourceId", [])
        if not criteria:
            raise FakeError("ValidationException", "the local Inspector fake needs a resourceId filter")
        return criteria[0]["value"]

    def _instance_state(self, instance_id: str) -> str | None:
        try:
            reservations = admin_client("ec2", self.region).describe_instances(InstanceIds=[instance_id])["Reservations"]
        except ClientError:
            return None
        return reservations[0]["Instances"][0]["State"]["Name"] if reservations else None

    def _coverage(self, p: dict[str, Any]) -> dict[str, Any]:
        instance_id = self._resource_id(p)
        if self.scan_status("EC2") != "ENABLED":
            return {"coveredResources": []}
        state = self._instance_state(instance_id)
        if state is None:
            return {"coveredResources": []}
        first = self._first_seen.setdefault(instance_id, self.scale.now())
        if state != "running":
            status = {"statusCode": "INACTIVE", "reason": "RESOURCE_TERMINATED"}
        elif self.scale.elapsed(first) < self.scan_minutes * 60:
            status = {"statusCode": "ACTIVE", "reason": "PENDING_INITIAL_SCAN"}
        else:
            status = {"statusCode": "ACTIVE", "reason": "SUCCESSFUL"}
        return {"coveredResources": [{"resourceId": instance_id, "resourceType": "AWS_EC2_INSTANCE",
                                      "accountId": self.account, "scanType": "PACKAGE", "scanStatus": status}]}

    def _findings_of(self, instance_id: str) -> list[dict[str, Any]]:
        if self.scan_status("EC2") != "ENABLED":
            return []
        if instance_id not in self.findings:
            counts = self._injected.pop(0) if self._injected else self.baseline
            self.findings[instance_id] = [
                {"findingArn": f"arn:aws:inspector2:{self.region}:{self.account}:finding/{uuid.uuid4().hex}",
                 "severity": severity, "status": "ACTIVE", "type": "PACKAGE_VULNERABILITY",
                 "title": f"CVE-2099-{n:04d} - local {severity.lower()} finding",
                 "resources": [{"id": instance_id, "type": "AWS_EC2_INSTANCE"}]}
                for severity, count in counts.items() for n in range(count)
            ]
        return self.findings[instance_id]

    def _list_findings(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"findings": self._findings_of(self._resource_id(p))}

    # ---- findings reports
    def _create_report(self, p: dict[str, Any]) -> dict[str, Any]:
        instance_id = self._resource_id(p)
        destination = p["s3Destination"]
        report_id = str(uuid.uuid4())
        admin_client("s3", self.region).put_object(
            Bucket=destination["bucketName"],
            Key=f"{destination['keyPrefix']}/{report_id}.json",
            Body=json.dumps({"findings": self._findings_of(instance_id)}).encode(),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=destination["kmsKeyArn"],
        )
        self.reports[report_id] = {"polled": 0, "destination": destination, "filterCriteria": p.get("filterCriteria", {})}
        return {"reportId": report_id}

    def _report_status(self, p: dict[str, Any]) -> dict[str, Any]:
        report = self.reports.get(p.get("reportId", ""))
        if report is None:
            raise FakeError("ResourceNotFoundException", f"no findings report {p.get('reportId')!r}", 404)
        # Asynchronous on AWS: the first poll sees it in progress.
        report["polled"] += 1
        status = "SUCCEEDED" if report["polled"] > 1 else "IN_PROGRESS"
        return {"reportId": p["reportId"], "status": status, "destination": report["destination"],
                "filterCriteria": report["filterCriteria"]}
