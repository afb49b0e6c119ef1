"""CloudWatch alarms of one deployment, each notifying the operators' alarm topic.

- every dead-letter queue holds a message (ApproximateNumberOfMessagesVisible > 0);
- every function of the core stack reports an error (the workflows' step functions are invoked by
  Step Functions, which retries them and reports a lasting error as a failed execution, alarmed next);
- every state machine has a failed, timed-out or aborted execution (AWS/States, by the fixed ARN of
  stacks/naming.py, so the core stack still does not reference the workflows stack; an execution
  that reported an ERROR to the error queue ends FAILED, a FAILED verdict ends SUCCEEDED);
- the API answers 5xx (AWS/ApiGateway 5XXError of the stage);
- a receiver refused a message its execution cannot have sent (lambdas/receivers/common.py).

CloudWatch publishes to the KMS-encrypted topic only when both the topic policy and the key policy
let cloudwatch.amazonaws.com do so (SNS Developer Guide, "Enable compatibility between event sources
from AWS services and encrypted topics",
https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services);
both grants are narrowed to this deployment's alarms by aws:SourceArn and aws:SourceAccount.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import naming

PERIOD = Duration.minutes(5)
_EXECUTION_ENDS = {"failed": "ExecutionsFailed", "timedOut": "ExecutionsTimedOut", "aborted": "ExecutionsAborted"}


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tag: str,
        key: kms.Key,
        topic: sns.Topic,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        functions: Mapping[str, lambda_.IFunction],
        state_machine_arns: Mapping[str, str],
        api_stage: apigateway.Stage,
        metrics_namespace: str,
        refused_metric: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self._tag, self._action = tag, actions.SnsAction(topic)
        self._let_cloudwatch_publish(key, topic)
        self.alarms: list[cloudwatch.Alarm] = []
        for name, queue in dead_letter_queues.items():
            self._alarm(f"{name}-dead-letters", f"A {name} receiver message was dead-lettered: it failed every retry",
                        queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"))
        for name, function in functions.items():
            self._alarm(f"{name}-errors", f"The {name} function reported errors",
                        function.metric_errors(period=PERIOD, statistic="Sum"))
        for workflow, arn in state_machine_arns.items():
            self._alarm(f"{workflow}-executions", f"A {workflow} execution failed, timed out or was aborted",
                        _unsuccessful_executions(arn))
        self._alarm("api-5xx", "The orchestrator API answered with a server error",
                    api_stage.metric_server_error(period=PERIOD, statistic="Sum"))
        self._alarm(
            "untrusted-messages", "A receiver refused a message its workflow execution cannot have sent",
            cloudwatch.Metric(namespace=metrics_namespace, metric_name=refused_metric,
                              dimensions_map={"deployment": tag}, period=PERIOD, statistic="Sum"),
        )

    def _alarm(self, what: str, description: str, metric: cloudwatch.IMetric) -> None:
        alarm = cloudwatch.Alarm(
            self,
            "".join(part.title() for part in what.split("-")),
            alarm_name=naming.alarm_name(self._tag, what),
            alarm_description=description,
            metric=metric,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            # No data means nothing happened: no message, no invocation, no execution.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)

    def _let_cloudwatch_publish(self, key: kms.Key, topic: sns.Topic) -> None:
        stack = Stack.of(self)
        cloudwatch_service = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        ours = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:"
                                         f"{naming.alarm_name(self._tag, '*')}"},
        }
        topic.add_to_resource_policy(iam.PolicyStatement(
            sid="AlarmsOfThisDeployment", principals=[cloudwatch_service], actions=["sns:Publish"],
            resources=[topic.topic_arn], conditions=ours,
        ))
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="AlarmsOfThisDeploymentPublishEncrypted", principals=[cloudwatch_service],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions=ours,
        ))


def _unsuccessful_executions(state_machine_arn: str) -> cloudwatch.MathExpression:
    return cloudwatch.MathExpression(
        # A period with no execution has no datapoint: FILL keeps one missing series from hiding another.
        expression=" + ".join(f"FILL({name}, 0)" for name in _EXECUTION_ENDS),
        using_metrics={
            name: cloudwatch.Metric(namespace="AWS/States", metric_name=metric_name,
                                    dimensions_map={"StateMachineArn": state_machine_arn}, statistic="Sum")
            for name, metric_name in _EXECUTION_ENDS.items()
        },
        period=PERIOD,
        label="Executions failed, timed out or aborted",
    )
