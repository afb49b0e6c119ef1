"""Amazon Inspector v2, faked for one EC2 instance at a time: account status, coverage, findings and
findings reports.

The account's scan types (EC2, ECR, LAMBDA, LAMBDA_CODE, CODE_REPOSITORY) have a status that
BatchGetAccountStatus reports and Enable / Disable change, through ENABLING / DISABLING for
`status_change_minutes` of simulated time, as the Inspector API reference describes. While EC2
scanning is not ENABLED, Inspector scans no instance: ListCoverage and ListFindings return nothing
for instances and a findings report holds no finding.

With EC2 scanning on, an instance is covered once it runs in moto's EC2 and is scanned `scan_minutes`
of simulated time after it started running; the end of that initial scan is emitted as AWS emits it,
an "Inspector2 Scan" event (scan-status INITIAL_SCAN_COMPLETE, finding-severity-counts, instance-id;
Inspector User Guide, "Amazon EventBridge event schema for Amazon Inspector events"). Findings are
those of the instance's AMI, drawn when the first instance of that AMI is scanned or listed:
`baseline` by default, or what `next_scan_reports` injected (e.g. {"CRITICAL": 1}). `fail_next_scan(reason)` makes the next instance unscannable: coverage
INACTIVE with that reason, announced by an "Inspector2 Coverage" event. A findings report is
written, KMS-encrypted, to the requested bucket; GetFindingsReportStatus uses the API's statuses.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from local.events import aws_event
from local.fakes.hooks import AdminClients, FakeAws, FakeError
from local.time_scale import TimeScale

# ResourceScanType -> the key of that type in ResourceState / ResourceStatus.
SCAN_TYPES = {"EC2": "ec2", "ECR": "ecr", "LAMBDA": "lambda", "LAMBDA_CODE": "lambdaCode", "CODE_REPOSITORY": "codeRepository"}
_SETTLED = {"ENABLING": "ENABLED", "DISABLING": "DISABLED"}


class InspectorFake:
    def __init__(self, *, scale: TimeScale, region: str, account: str, scan_minutes: float = 10,
                 baseline: dict[str, int] | None = None, ec2_scanning_enabled: bool = True,
                 status_change_minutes: float = 1, emit: Callable[[dict[str, Any]], None] = lambda event: None) -> None:
        self.scale, self.region, self.account, self.scan_minutes, self.emit = scale, region, account, scan_minutes, emit
        self.baseline = baseline if baseline is not None else {"MEDIUM": 2, "LOW": 3}
        self.status_change_minutes = status_change_minutes
        self.findings: dict[str, list[dict[str, Any]]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self.scanned: dict[str, float] = {}  # instance id -> when its initial scan completed (scale.now())
        self.running_since: Callable[[str], float | None] = lambda instance_id: None  # set by the cloud
        self._first_seen: dict[str, float] = {}
        self._injected: list[dict[str, int]] = []
        self._image_counts: dict[str, dict[str, int]] = {}  # AMI id -> the severity counts its scans find
        self._unscannable: dict[str, str] = {}  # instance id -> coverage reason
        self._next_unscannable: list[str] = []
        self._timers: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()
        self._aws = AdminClients(region)
        # scan type -> (status, since): the account starts with only EC2 scanning on (or nothing).
        self._scan_types: dict[str, tuple[str, float]] = {t: ("DISABLED", scale.now()) for t in SCAN_TYPES}
        if ec2_scanning_enabled:
            self._scan_types["EC2"] = ("ENABLED", scale.now())

    def set_ec2_scanning(self, enabled: bool) -> None:
        """What `deploy.sh --no-inspector` leaves: an account where EC2 scanning was never enabled."""
        self._scan_types["EC2"] = ("ENABLED" if enabled else "DISABLED", self.scale.now())

    def next_scan_reports(self, counts: dict[str, int]) -> None:
        self._injected.append(counts)

    def fail_next_scan(self, reason: str = "UNSUPPORTED_OS") -> None:
        self._next_unscannable.append(reason)

    def clear_injections(self) -> None:
        self._injected.clear()
        self._next_unscannable.clear()

    def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()

    # ---- the initial scan of each instance, timed from its launch (local/fakes/ec2_instances.py)
    def launched(self, instance_id: str) -> None:
        if self._next_unscannable:
            self._unscannable[instance_id] = reason = self._next_unscannable.pop(0)
            self.emit(self._event("Inspector2 Coverage", instance_id, {
                "scanStatus": {"reason": reason, "statusCodeValue": "INACTIVE"}, "scanType": "PACKAGE",
                "eventTimestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "version": "1.0"}))
            return
        timer = threading.Timer(self.scale.seconds(self.scan_minutes * 60), self._scan_complete, args=(instance_id,))
        timer.daemon = True
        self._timers[instance_id] = timer
        timer.start()

    def terminated(self, instance_id: str) -> None:
        timer = self._timers.pop(instance_id, None)
        if timer is not None:
            timer.cancel()  # no scan completes for an instance that is gone

    def _scan_complete(self, instance_id: str) -> None:
        if self.scan_status("EC2") != "ENABLED" or self._instance_state(instance_id) != "running":
            return
        self.scanned.setdefault(instance_id, self.scale.now())
        found = self._findings_of(instance_id)
        counts = {s: sum(1 for f in found if f["severity"] == s) for s in ("CRITICAL", "HIGH", "MEDIUM")} | {"TOTAL": len(found)}
        self.emit(self._event("Inspector2 Scan", instance_id, {
            "scan-status": "INITIAL_SCAN_COMPLETE", "finding-severity-counts": counts, "instance-id": instance_id,
            "version": "1.0"}))

    def _event(self, detail_type: str, instance_id: str, detail: dict[str, Any]) -> dict[str, Any]:
        # Inspector names an EC2 instance by its id in `resources`, not by an ARN.
        return aws_event(source="aws.inspector2", detail_type=detail_type, account=self.account, region=self.region,
                         resources=[instance_id], detail=detail)

    def install(self, fakes: FakeAws) -> InspectorFake:
        self._aws.prepare("ec2", "s3")
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

    def _instance(self, instance_id: str) -> dict[str, Any] | None:
        try:
            reservations = self._aws("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
        except ClientError:
            return None
        return reservations[0]["Instances"][0] if reservations else None

    def _instance_state(self, instance_id: str) -> str | None:
        instance = self._instance(instance_id)
        return instance["State"]["Name"] if instance else None

    def _coverage(self, p: dict[str, Any]) -> dict[str, Any]:
        instance_id = self._resource_id(p)
        if self.scan_status("EC2") != "ENABLED":
            return {"coveredResources": []}
        state = self._instance_state(instance_id)
        if state is None:
            return {"coveredResources": []}
        first = self.running_since(instance_id) or self._first_seen.setdefault(instance_id, self.scale.now())
        if instance_id in self._unscannable:
            status = {"statusCode": "INACTIVE", "reason": self._unscannable[instance_id]}
        elif state != "running":
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
        with self._lock:  # the scan's timer and a ListFindings may draw at once: one draw per instance
            if instance_id not in self.findings:
                # What a scan finds is the AMI's packages: every instance of one AMI has the same findings.
                image_id = (self._instance(instance_id) or {}).get("ImageId", instance_id)
                if image_id not in self._image_counts:
                    self._image_counts[image_id] = self._injected.pop(0) if self._injected else self.baseline
                counts = self._image_counts[image_id]
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
        self._aws("s3").put_object(
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
