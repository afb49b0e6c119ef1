"""SQS receivers of workflow outcomes: one record at a time, partial batch failures reported.

A record that raises is reported as failed and comes back after the visibility timeout; after the
queue's maxReceiveCount it lands in the dead-letter queue. Recording is idempotent, so a redelivery
changes nothing.

A message its execution cannot have sent (the orchestrator checks it with DescribeExecution) is
refused: logged, counted in the `UntrustedMessageRefused` metric (alarmed) and deleted, not retried.
The verdict is deterministic, so a retry could only change when it lands in the dead-letter queue,
never whether; the log line keeps what an investigation needs (message id, SQS SenderId, reason).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import NAMESPACE, logger, metrics
from lambdas.core.settings import get_settings
from lambdas.domain.contracts import UntrustedMessage, WorkflowError, WorkflowResult
from lambdas.domain.events import LifecycleType
from lambdas.orchestrator.factory import get_orchestrator
from lambdas.receivers import REFUSED_METRIC


def _result_handler(lifecycle_type: LifecycleType) -> Callable[[SQSRecord], bool]:
    def handle(record: SQSRecord) -> bool:
        result = WorkflowResult.model_validate_json(record.body)
        received = result.workflow_input
        logger.set_correlation_id(received.lifecycle_id)
        if received.lifecycle_type is not lifecycle_type:
            raise ValueError(f"a {received.lifecycle_type.value} result reached the {lifecycle_type.value} receiver")
        return get_orchestrator().record_result(result)

    return handle


def _error_handler(record: SQSRecord) -> bool:
    error = WorkflowError.model_validate_json(record.body)
    logger.set_correlation_id(error.workflow_input.lifecycle_id)
    return get_orchestrator().record_error(error)


def _refusing_untrusted(handle: Callable[[SQSRecord], bool]) -> Callable[[SQSRecord], bool]:
    def guarded(record: SQSRecord) -> bool:
        try:
            return handle(record)
        except UntrustedMessage as refusal:
            logger.warning(
                "message refused: it does not come from the execution it names",
                extra={"reason": str(refusal), "message_id": record.message_id,
                       "sender_id": record.attributes.get("SenderId")},
            )
            # Per deployment: every tag's functions share the namespace (and their service names).
            with single_metric(name=REFUSED_METRIC, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
                metric.add_dimension(name="deployment", value=get_settings().deployment_tag)
            return False

    return guarded


def receiver(kind: str) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    handle = _refusing_untrusted(_error_handler if kind == "error" else _result_handler(LifecycleType(kind)))

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        processor = BatchProcessor(event_type=EventType.SQS)
        return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)

    return lambda_handler
