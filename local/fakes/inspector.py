"""Amazon Inspector v2, faked for one EC2 instance at a time: coverage, findings and findings reports.

An instance is covered once it runs in moto's EC2 and is scanned `scan_minutes` of simulated time
later. Its findings are drawn when first listed: `baseline` by default, or what `next_scan_reports`
injected (e.g. {"CRITICAL": 1}). A findings report is written, KMS-encrypted, to the requested bucket.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

from local.fakes.hooks import FakeAws, FakeError
from local.time_scale import TimeScale


class InspectorFake:
    def __init__(self, *, scale: TimeScale, region: str, account: str, scan_minutes: float = 10,
                 baseline: dict[str, int] | None = None) -> None:
        self.scale, self.region, self.account, self.scan_minutes = scale, region, account, scan_minutes
        self.baseline = baseline if baseline is not None else {"MEDIUM": 2, "LOW": 3}
        self.findings: dict[str, list[dict[str, Any]]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self._first_seen: dict[str, float] = {}
        self._injected: list[dict[str, int]] = []

    def next_scan_reports(self, counts: dict[str, int]) -> None:
        self._injected.append(counts)

    def clear_injections(self) -> None:
        self._injected.clear()

    def install(self, fakes: FakeAws) -> InspectorFake:
        fakes.serve(
            "inspector2",
            {
                "ListCoverage": self._coverage,
                "ListFindings": self._list_findings,
                "CreateFindingsReport": self._create_report,
                "GetFindingsReportStatus": self._report_status,
            },
        )
        return self

    @staticmethod
    def _resource_id(params: dict[str, Any]) -> str:
        criteria = params.get("filterCriteria", {}).get("resourceId", [])
        if not criteria:
            raise FakeError("ValidationException", "the local Inspector fake needs a resourceId filter")
        return criteria[0]["value"]

    def _instance_state(self, instance_id: str) -> str | None:
        ec2 = boto3.client("ec2", region_name=self.region)
        reservations = ec2.describe_instances(Filters=[{"Name": "instance-id", "Values": [instance_id]}])["Reservations"]
        return reservations[0]["Instances"][0]["State"]["Name"] if reservations else None

    def _coverage(self, p: dict[str, Any]) -> dict[str, Any]:
        instance_id = self._resource_id(p)
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

    def _create_report(self, p: dict[str, Any]) -> dict[str, Any]:
        instance_id = self._resource_id(p)
        destination = p["s3Destination"]
        report_id = str(uuid.uuid4())
        boto3.client("s3", region_name=self.region).put_object(
            Bucket=destination["bucketName"],
            Key=f"{destination['keyPrefix']}/{report_id}.json",
            Body=json.dumps({"findings": self._findings_of(instance_id)}).encode(),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=destination["kmsKeyArn"],
        )
        self.reports[report_id] = {"polled": 0, "destination": destination}
        return {"reportId": report_id}

    def _report_status(self, p: dict[str, Any]) -> dict[str, Any]:
        report = self.reports.get(p.get("reportId", ""))
        if report is None:
            raise FakeError("ResourceNotFoundException", "no such report")
        # Asynchronous on AWS: the first poll sees it in progress.
        report["polled"] += 1
        status = "SUCCEEDED" if report["polled"] > 1 else "IN_PROGRESS"
        return {"reportId": p["reportId"], "status": status, "destination": report["destination"]}
