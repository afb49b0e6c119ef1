"""Use cases of the orchestrator: the only place that combines domain rules with adapters."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from lambdas.adapters.ec2_resources import AmiTagger, TestInstances
from lambdas.adapters.lifecycle_repository import IdempotencyClaim, LifecycleRepository
from lambdas.adapters.lookup_repository import LookupRepository
from lambdas.adapters.notifier import Notifier
from lambdas.adapters.patch_components import PatchComponents
from lambdas.adapters.semver_seed import SemverSeed
from lambdas.adapters.workflow_starter import WorkflowStarter, execution_arn
from lambdas.core.observability import logger, metrics, record_event_outcome
from lambdas.core.settings import Settings
from lambdas.domain import rules
from lambdas.domain.contracts import (
    AmiRef,
    PatchRequest,
    UntrustedMessage,
    WorkflowError,
    WorkflowInput,
    WorkflowResult,
)
from lambdas.domain.errors import ConcurrentUpdate, Conflict, DomainError, InvalidRequest
from lambdas.domain.events import WORKFLOW_OF_EVENT, EventName, EventStatus, LifecycleType
from lambdas.domain.lookup import entries_for
from lambdas.domain.models import EventState, LifecycleRecord, utc_now
from lambdas.domain.notifications import (
    Notification,
    chain_paused_notification,
    event_notification,
    started_notification,
)
from lambdas.domain.requests import (
    MAX_PROPERTIES_BYTES,
    ApproveRequest,
    CertifyRequest,
    CreateLifecycleRequest,
    CreatePatchRequest,
    EventSwitch,
    UpdateLifecycleRequest,
    properties_bytes,
)
from lambdas.domain.semver import Version, next_free
from lambdas.domain.tags import event_tags

MANUAL_CREATION_EVENTS = {EventName.QA_CERTIFICATION_RESPONSE, EventName.MARK_FOR_PRODUCTION_CREATE}
_ERROR_REASON_LIMIT = 1000
MAX_PROPERTIES = 50  # the per-request limit of requests.Properties, kept for the merged whole


class PatchPlan(NamedTuple):
    creation: LifecycleRecord
    events: set[EventName]
    semver: str
    parent: AmiRef  # the lineage's production AMI, which the patch starts from


class WorkflowStartFailed(DomainError):
    """Step Functions refused or failed the start; the event is recorded as ERROR and can be retried."""

    status_code = 502
    error = "BadGateway"


@dataclass
class Orchestrator:
    settings: Settings
    repository: LifecycleRepository
    lookup: LookupRepository
    seeds: SemverSeed
    workflows: WorkflowStarter
    notifier: Notifier
    tagger: AmiTagger
    components: PatchComponents
    instances: TestInstances
    clock: Callable[[], str] = utc_now
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))

    # ----- creation lifecycle -------------------------------------------------------------------

    def create_lifecycle(
        self, request: CreateLifecycleRequest, idempotency_key: str | None = None
    ) -> tuple[LifecycleRecord, EventState | None]:
        """`idempotency_key`: a retry with the same key and request returns the first attempt's
        lifecycle, without allocating another version or starting another build."""
        chosen = rules.validate_enabled_events(LifecycleType.CREATION, _switches(request.events))
        if EventName.BUILD_AMI not in chosen:
            raise InvalidRequest("events: BUILD_AMI must be enabled to create a lifecycle")
        claim = _claim(request, request.stack_tag, LifecycleType.CREATION, idempotency_key)
        if claim and (earlier := self._replay(claim, EventName.BUILD_AMI)):
            return earlier
        for target in request.notifications:
            self.notifier.subscribe(target)
        semver = f"{self.seeds.next_major(request.stack_tag, request.product_name)}.0.0"
        now = self.clock()
        record = LifecycleRecord.new(
            lifecycle_id=self.new_id(),
            lifecycle_type=LifecycleType.CREATION,
            enabled=chosen | MANUAL_CREATION_EVENTS,
            now=now,
            stack_tag=request.stack_tag,
            owner=request.owner,
            product_name=request.product_name,
            product_ver=request.product_ver,
            commit_ref=request.commit_ref or "unspecified",
            notifications=request.notifications,
            properties=request.properties,
            semver=semver,
            allocated_semvers=[semver],
        )
        state = rules.begin_event(record, EventName.BUILD_AMI, now)
        if (earlier := self._commit_claimed(record, claim, EventName.BUILD_AMI)) is not None:
            return earlier
        self._launch(record, state)
        return record, state

    def update_lifecycle(
        self, request: UpdateLifecycleRequest, lifecycle_type: LifecycleType
    ) -> tuple[LifecycleRecord, EventState | None]:
        record = self._current(request.lifecycle_id, request.stack_tag, lifecycle_type)
        if request.events:
            rules.apply_event_selection(record, _switches(request.events))
        if request.owner:
            record.owner = request.owner
        if request.notifications:
            for target in request.notifications:
                self.notifier.subscribe(target)
            record.notifications = request.notifications
        merged = {**record.properties, **request.properties}
        if len(merged) > MAX_PROPERTIES:
            raise InvalidRequest(f"properties: a lifecycle holds at most {MAX_PROPERTIES} properties ({len(merged)} requested)")
        if (size := properties_bytes(merged)) > MAX_PROPERTIES_BYTES:
            raise InvalidRequest(f"properties: a lifecycle holds at most {MAX_PROPERTIES_BYTES} bytes of UTF-8 keys and "
                                 f"values ({size} with this update)")
        record.properties = merged
        record.updated_at = self.clock()
        name = rules.next_automatic_event(record, retry_failed=True)
        state = rules.begin_event(record, name, record.updated_at) if name else None
        self.repository.save(record)
        if state:
            self._launch(record, state)
        return record, state

    # ----- patch lifecycle ----------------------------------------------------------------------

    def check_patch(self, request: CreatePatchRequest, *, component_uploaded: bool = True) -> PatchPlan:
        """Every rule a patch request must pass; a dry run (`component_uploaded=False`) checks all
        but the component's presence, so a client can ask before it uploads anything."""
        creation = self.repository.get(request.lifecycle_id)
        _check_stack_tag(creation, request.stack_tag)
        if creation.approved_ami is None:
            raise Conflict(
                f"lifecycle {creation.lifecycle_id} has no production-approved AMI to patch "
                "(MARK_FOR_PRODUCTION_CREATE must be COMPLETED)"
            )
        if creation.patch_count:
            running = self.repository.get(creation.lifecycle_id, creation.patch_count).event_in_progress
            if running is not None:
                raise Conflict(
                    f"patch run {creation.patch_count} of this lifecycle is running ({running.name.value} "
                    "IN_PROGRESS); wait for it to finish"
                )
        chosen = rules.validate_enabled_events(LifecycleType.PATCH, _switches(request.events))
        if EventName.PATCH_AMI not in chosen:
            raise InvalidRequest("events: PATCH_AMI must be enabled to create a patch")
        bucket, _, key = request.patch_component_url.removeprefix("s3://").partition("/")
        if bucket != self.settings.patch_component_bucket:
            raise InvalidRequest(
                f"patch_component_url: must be in this deployment's patch bucket "
                f"s3://{self.settings.patch_component_bucket}/"
            )
        if component_uploaded and not self.components.exists(bucket, key):
            raise InvalidRequest(f"patch_component_url: {request.patch_component_url} does not exist")
        parent = creation.approved_ami
        taken = {Version.parse(version) for version in creation.allocated_semvers}
        semver = str(next_free(Version.parse(parent.semver or creation.semver), request.semver_bump_type, taken))
        return PatchPlan(creation, chosen, semver, parent)

    def create_patch(
        self, request: CreatePatchRequest, idempotency_key: str | None = None
    ) -> tuple[LifecycleRecord, EventState]:
        claim = _claim(request, request.stack_tag, LifecycleType.PATCH, idempotency_key)
        if claim and (earlier := self._replay(claim, EventName.PATCH_AMI)):
            return earlier
        creation, chosen, semver, parent = self.check_patch(request)
        # A patch run inherits the lineage's owner and targets unless the request names its own.
        notifications = request.notifications or creation.notifications
        for target in notifications:
            self.notifier.subscribe(target)
        now = self.clock()
        patch = LifecycleRecord.new(
            lifecycle_id=creation.lifecycle_id,
            lifecycle_type=LifecycleType.PATCH,
            patch_number=creation.patch_count + 1,
            enabled=chosen | {EventName.MARK_FOR_PRODUCTION_PATCH},
            now=now,
            stack_tag=creation.stack_tag,
            owner=request.owner or creation.owner,
            product_name=creation.product_name,
            product_ver=creation.product_ver,
            commit_ref=request.commit_ref or creation.commit_ref,
            notifications=notifications,
            properties=request.properties,
            semver=semver,
            parent_ami=parent,
            patch=PatchRequest(
                component_s3_uri=request.patch_component_url,
                change_description=request.patch_change_description,
                semver_bump_type=request.semver_bump_type,
            ),
        )
        creation.patch_count = patch.patch_number or 0
        creation.allocated_semvers.append(semver)
        creation.updated_at = now
        state = rules.begin_event(patch, EventName.PATCH_AMI, now)
        # One transaction: two concurrent patch requests cannot both create run N.
        if (earlier := self._commit_claimed(patch, claim, EventName.PATCH_AMI, [creation])) is not None:
            return earlier
        self._launch(patch, state)
        return patch, state

    # ----- Idempotency-Key of the create routes -------------------------------------------------

    def _replay(self, claim: IdempotencyClaim, event: EventName) -> tuple[LifecycleRecord, EventState] | None:
        """What the first request with this key created (its record now), if the key was used."""
        created = self.repository.claimed(claim)
        if created is None:
            return None
        record = self.repository.get(*created)
        logger.info("idempotent replay", extra={"lifecycle_id": record.lifecycle_id})
        return record, record.event(event)

    def _commit_claimed(
        self, record: LifecycleRecord, claim: IdempotencyClaim | None, event: EventName,
        changed: list[LifecycleRecord] | None = None,
    ) -> tuple[LifecycleRecord, EventState] | None:
        """Commit a new record (and its claim); None when it was committed, else what a concurrent
        request with the same key committed first."""
        try:
            self.repository.commit(changed or [], new=(record,), claim=claim)
        except ConcurrentUpdate:
            earlier = self._replay(claim, event) if claim else None
            if earlier is None:
                raise
            return earlier
        return None

    # ----- manual verdicts --------------------------------------------------------------------

    def certify(self, lifecycle_id: str, request: CertifyRequest) -> tuple[LifecycleRecord, EventState]:
        _check_path_id(lifecycle_id, request.lifecycle_id)
        record = self._current(lifecycle_id, request.stack_tag, LifecycleType.CREATION)
        certified = request.certification_status == "CERTIFIED"
        state = rules.record_manual_verdict(
            record,
            EventName.QA_CERTIFICATION_RESPONSE,
            status=EventStatus.COMPLETED if certified else EventStatus.FAILED,
            now=self.clock(),
            properties={**request.properties, "certification_status": request.certification_status},
            reason=None if certified else "QA certification FAILED",
        )
        self._commit_outcome(record, state)
        self._after_outcome(record, state, strict=False)
        return record, state

    def approve(
        self, lifecycle_id: str, request: ApproveRequest, lifecycle_type: LifecycleType
    ) -> tuple[LifecycleRecord, EventState]:
        _check_path_id(lifecycle_id, request.lifecycle_id)
        record = self._current(lifecycle_id, request.stack_tag, lifecycle_type)
        name = (
            EventName.MARK_FOR_PRODUCTION_CREATE
            if lifecycle_type is LifecycleType.CREATION
            else EventName.MARK_FOR_PRODUCTION_PATCH
        )
        decision = {**request.properties, "approval_status": request.approval_status, "approver": request.approver}
        now = self.clock()
        if request.approval_status == "NOT_APPROVED":
            state = rules.record_manual_verdict(
                record, name, status=EventStatus.FAILED, now=now, properties=decision,
                reason=f"NOT_APPROVED by {request.approver}",
            )
            self._commit_outcome(record, state)
            self._after_outcome(record, state, strict=False)
            return record, state
        state = rules.begin_event(record, name, now)
        state.properties = decision
        self.repository.save(record)
        self._launch(record, state)
        return record, state

    # ----- workflow outcomes (receivers) ------------------------------------------------------

    def record_result(self, result: WorkflowResult) -> bool:
        """Record a state machine's verdict once. Returns False for a duplicate or stale message;
        raises UntrustedMessage for one its execution cannot have sent."""
        received = result.workflow_input
        status = EventStatus(result.status)
        if status is EventStatus.COMPLETED:
            result.typed_outputs()  # a malformed result must fail loudly, not record garbage
        return self._record_outcome(
            received, sent_by=result.execution_arn, ends_as="SUCCEEDED",  # the result state ends the execution
            status=status, status_date=result.status_date, outputs=result.outputs, reason=result.reason,
        )

    def record_error(self, error: WorkflowError) -> bool:
        cause = str(error.error.get("Cause", ""))
        reason = f"{error.error.get('Error', 'Error')}: {cause}"[:_ERROR_REASON_LIMIT]
        return self._record_outcome(
            error.workflow_input, sent_by=error.execution_arn, ends_as="FAILED",  # a Fail state follows the report
            status=EventStatus.ERROR, status_date=error.status_date, outputs={}, reason=reason,
        )

    def _record_outcome(
        self,
        received: WorkflowInput,
        *,
        sent_by: str,
        ends_as: str,
        status: EventStatus,
        status_date: str,
        outputs: Mapping[str, object],
        reason: str | None,
    ) -> bool:
        record = self.repository.get(received.lifecycle_id, received.patch_number)
        self._check_sender(record, received, sent_by, ends_as)
        fresh = rules.apply_result(
            record, received.event, attempt=received.attempt, status=status, status_date=status_date,
            outputs=dict(outputs), reason=reason,
        )
        state = record.event(received.event)
        if fresh:
            self._commit_outcome(record, state)
            record_event_outcome(state.name.value, status.value, state.started_at, state.status_date)
            self._after_outcome(record, state, strict=True)
            return True
        if state.attempt == received.attempt and state.status is status:
            # A redelivery of what we recorded: finish the idempotent follow-ups a crash may have cut
            # short (tags, next event) but never notify twice.
            logger.info("duplicate result; re-applying idempotent follow-ups", extra={"event": received.event.value})
            self._tag(record, state, strict=True)
            if status is EventStatus.COMPLETED:
                self._continue_chain(record)
        else:
            logger.warning(
                "stale result ignored",
                extra={"event": received.event.value, "attempt": received.attempt, "current_attempt": state.attempt},
            )
        return False

    def _check_sender(self, record: LifecycleRecord, received: WorkflowInput, sent_by: str, ends_as: str) -> None:
        """Raise UntrustedMessage unless `sent_by` is this deployment's execution of the event's attempt
        (the name the orchestrator derives), started with exactly the input the message repeats, and in
        its last state or just past it. The execution sends from inside, so it is RUNNING or has ended
        as `ends_as`; that it sent these very outputs is beyond DescribeExecution: the queue policy
        admits only the workflows' roles."""
        workflow = WORKFLOW_OF_EVENT.get(received.event)
        if workflow is None:
            raise UntrustedMessage(f"no workflow runs {received.event.value}")
        name = rules.execution_name(record, received.event, received.attempt)
        expected = execution_arn(self.settings.state_machine_arn(workflow), name)
        if sent_by != expected:
            raise UntrustedMessage(f"it names execution {sent_by}, not {expected}")
        execution = self.workflows.describe(expected)
        if execution is None:
            raise UntrustedMessage(f"execution {expected} does not exist")
        if execution.status not in ("RUNNING", ends_as):
            raise UntrustedMessage(f"execution {expected} is {execution.status}")
        try:
            started_with: WorkflowInput | None = WorkflowInput.model_validate(execution.input)
        except ValidationError:
            started_with = None
        if started_with != received:
            raise UntrustedMessage(f"execution {expected} was started with another input")

    def _commit_outcome(self, record: LifecycleRecord, state: EventState) -> None:
        """Persist a verdict; a success also makes the AMI selectable at its new stage, atomically."""
        records = [record]
        if state.status is EventStatus.COMPLETED and state.name in (
            EventName.MARK_FOR_PRODUCTION_CREATE, EventName.MARK_FOR_PRODUCTION_PATCH,
        ):
            lineage = record if record.patch_number is None else self.repository.get(record.lifecycle_id)
            lineage.approved_ami = record.ami
            lineage.updated_at = state.status_date or self.clock()
            if lineage is not record:
                records.append(lineage)
        lookup_puts = (
            self.lookup.put_requests(entries_for(record, state.status_date or self.clock()))
            if state.status is EventStatus.COMPLETED
            else []
        )
        self.repository.commit(records, lookup_puts=lookup_puts)

    def _after_outcome(self, record: LifecycleRecord, state: EventState, *, strict: bool) -> None:
        self._tag(record, state, strict=strict)
        succeeded = state.status is EventStatus.COMPLETED
        if succeeded and record.event_in_progress is None and rules.next_automatic_event(record, retry_failed=False) is None:
            # One message says both what completed and what the lifecycle now waits for.
            self._notify(chain_paused_notification(record, state.name))
            return
        self._notify(event_notification(record, state.name, state.status))
        if succeeded:
            self._continue_chain(record)

    def _continue_chain(self, record: LifecycleRecord) -> None:
        """Start the next automatic event, or resume one that was begun but maybe never launched."""
        running = record.event_in_progress
        if running is not None:
            self._launch(record, running, announce=False)  # idempotent: same execution name and input
            return
        name = rules.next_automatic_event(record, retry_failed=False)
        if name is None:
            return
        try:
            state = rules.begin_event(record, name, self.clock())
            self.repository.save(record)
        except Conflict:
            # A concurrent receiver or API call started (or changed) it first: exactly one start wins.
            logger.info("next event already handled elsewhere", extra={"event": name.value})
            return
        self._launch(record, state)

    # ----- scheduled jobs ---------------------------------------------------------------------

    def reconcile(self, now: datetime | None = None) -> list[tuple[str, EventName]]:
        """Mark ERROR the events whose execution ended (or never began) without a recorded result."""
        now = now or datetime.now(UTC)
        grace = timedelta(minutes=self.settings.reconciler_grace_minutes)
        cutoff = (now - grace).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        marked: list[tuple[str, EventName]] = []
        for candidate in self.repository.in_progress_since_before(cutoff):
            record = self.repository.get(candidate.lifecycle_id, candidate.patch_number)
            state = record.event_in_progress
            if state is None or state.execution_name is None or (state.started_at or "") >= cutoff:
                continue
            arn = self.settings.state_machine_arn(WORKFLOW_OF_EVENT[state.name])
            execution = self.workflows.status(arn, state.execution_name)
            if execution == "RUNNING":
                continue
            reason = (
                "the workflow execution never started"
                if execution is None
                else f"the workflow execution ended ({execution}) without reporting a result"
            )
            rules.apply_result(
                record, state.name, attempt=state.attempt, status=EventStatus.ERROR,
                status_date=self.clock(), reason=reason,
            )
            try:
                self.repository.save(record)
            except Conflict:
                continue  # its result arrived meanwhile
            self._after_outcome(record, state, strict=False)
            metrics.add_metric(name="EventReconciledToError", unit="Count", value=1)
            marked.append((record.lifecycle_id, state.name))
        return marked

    def collect_garbage(self, now: datetime | None = None) -> list[str]:
        """Terminate this deployment's test instances older than the limit (whole days included)."""
        now = now or datetime.now(UTC)
        limit = timedelta(hours=self.settings.gc_max_instance_hours)
        expired = [
            instance_id
            for instance_id, launched in self.instances.live(self.settings.deployment_tag)
            if now - launched > limit
        ]
        self.instances.terminate(expired)
        if expired:
            metrics.add_metric(name="TestInstancesTerminated", unit="Count", value=len(expired))
        return expired

    # ----- helpers ----------------------------------------------------------------------------

    def _current(self, lifecycle_id: str, stack_tag: str, lifecycle_type: LifecycleType) -> LifecycleRecord:
        record = self.repository.get(lifecycle_id)
        _check_stack_tag(record, stack_tag)
        if lifecycle_type is LifecycleType.CREATION:
            return record
        if not record.patch_count:
            raise Conflict(f"lifecycle {lifecycle_id} has no patch run")
        return self.repository.get(lifecycle_id, record.patch_count)

    def _launch(self, record: LifecycleRecord, state: EventState, *, announce: bool = True) -> None:
        if state.execution_name is None:
            raise ValueError(f"{state.name.value} has no execution name: it was not begun")
        workflow_input = WorkflowInput(
            lifecycle_id=record.lifecycle_id,
            stack_tag=record.stack_tag,
            lifecycle_type=record.lifecycle_type,
            event=state.name,
            attempt=state.attempt,
            patch_number=record.patch_number,
            product_name=record.product_name,
            product_ver=record.product_ver,
            commit_ref=record.commit_ref,
            semver=record.semver,
            ami=record.ami,
            parent_ami=record.parent_ami,
            patch=record.patch,
            approver=state.properties.get("approver"),
        )
        arn = self.settings.state_machine_arn(WORKFLOW_OF_EVENT[state.name])
        try:
            self.workflows.start(arn, state.execution_name, workflow_input)
        except (ClientError, BotoCoreError) as exc:
            logger.exception("workflow start failed", extra={"event": state.name.value})
            rules.apply_result(
                record, state.name, attempt=state.attempt, status=EventStatus.ERROR,
                status_date=self.clock(), reason=f"could not start the {WORKFLOW_OF_EVENT[state.name]} workflow",
            )
            self.repository.save(record)
            self._notify(event_notification(record, state.name, EventStatus.ERROR))
            raise WorkflowStartFailed(
                f"{state.name.value} could not be started; it is recorded as ERROR and can be retried"
            ) from exc
        logger.info("event started", extra={"event": state.name.value, "attempt": state.attempt})
        started = started_notification(record, state.name) if announce else None
        if started is not None:
            self._notify(started)

    def _notify(self, notification: Notification) -> None:
        """Publish what was already committed: a failure is logged and counted, never the caller's
        error (the state is recorded; a client that saw an error would retry and, for a create,
        allocate another version)."""
        try:
            self.notifier.publish(notification)
        except (ClientError, BotoCoreError):
            logger.exception("notification failed", extra={"event": notification.event})
            metrics.add_metric(name="NotificationFailed", unit="Count", value=1)

    def _tag(self, record: LifecycleRecord, state: EventState, *, strict: bool) -> None:
        if record.ami is None:
            return
        try:
            self.tagger.tag(record.ami.ami_id, event_tags(record, state, self.settings.deployment_tag))
        except (ClientError, BotoCoreError):
            if strict:
                raise  # the receiver's message is retried, and tagging is idempotent
            # The lifecycle table is the source of truth; a missing tag must not undo a recorded verdict.
            logger.exception("AMI tagging failed", extra={"ami_id": record.ami.ami_id})
            metrics.add_metric(name="TaggingFailed", unit="Count", value=1)


def _claim(
    request: CreateLifecycleRequest | CreatePatchRequest, stack_tag: str, lifecycle_type: LifecycleType,
    key: str | None,
) -> IdempotencyClaim | None:
    if key is None:
        return None
    # The validated request: whitespace or key order does not make a retry a different request.
    digest = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
    return IdempotencyClaim(f"{stack_tag}#{lifecycle_type.value}", key, digest)


def _switches(events: list[EventSwitch]) -> dict[EventName, bool]:
    return rules.enabled_map((switch.name, switch.enabled) for switch in events)


def _check_stack_tag(record: LifecycleRecord, stack_tag: str) -> None:
    if record.stack_tag != stack_tag:
        raise InvalidRequest(
            f"stack_tag: '{stack_tag}' does not match lifecycle {record.lifecycle_id}'s stack tag '{record.stack_tag}'"
        )


def _check_path_id(path_id: str, body_id: str) -> None:
    if path_id != body_id:
        raise InvalidRequest(f"lifecycle_id: body has '{body_id}' but the path has '{path_id}'")
