"""Every Lambda function of a stack, built one way.

One code asset per stack: a staged copy of the repository's `lambdas/` package (the asset root holds
`lambdas/` and nothing else), so a handler string such as "lambdas.api.handlers.read.lambda_handler"
resolves. It is staged by copying, never by Docker. Third-party libraries come from the public
Powertools v3 layer (powertools, pydantic) and the runtime (boto3); the pure-Python ones neither has
(BUNDLED) are copied from this environment next to `lambdas/`.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack, Stage
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks import naming
from stacks.config import AppConfig
from stacks.suppressions import suppress_checkov

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "lambdas"
# Bytecode is rebuilt by the runtime; tests never ship.
_EXCLUDED = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", ".pytest_cache")
DEFAULT_TIMEOUT = Duration.seconds(30)
BUNDLED = ("semver",)  # pinned in requirements.txt
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
METRICS_NAMESPACE = "AmiLifecycle"


@cache
def stage_lambda_package(outdir: str) -> Path:
    """Copy `lambdas/` to <outdir>/.lambda-package/lambdas; returns the asset root.

    Once per output directory: every stack of an app shares the copy (a second copy would replace
    files under an asset that is already fingerprinted).
    """
    root = Path(outdir) / ".lambda-package"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(REPO_ROOT / PACKAGE, root / PACKAGE, ignore=_EXCLUDED)
    for name in BUNDLED:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"{name} is not installed: pip install -r requirements.txt")
        shutil.copytree(Path(next(iter(spec.submodule_search_locations))), root / name, ignore=_EXCLUDED)
    return root


def _kebab(construct_id: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", construct_id).lower()


class LambdaFactory:
    """Builds the functions of one stack. Each gets its own role (no managed policy), its own
    KMS-encrypted log group that only it may write, and environment encryption with `key`.

    The factory waives two checkov findings on every function it builds, because they hold for all
    of them: CKV_AWS_117 (no VPC) and, unless reserved concurrency is set, CKV_AWS_115. The DLQ
    finding (CKV_AWS_116) depends on how the function is invoked, so the caller decides it.
    """

    def __init__(self, scope: Construct, *, config: AppConfig, key: kms.IKey) -> None:
        self._scope = scope
        self._config = config
        self._key = key
        self._code = lambda_.Code.from_asset(str(stage_lambda_package(Stage.of(scope).outdir)))
        stack = Stack.of(scope)
        # "ami-lifecycle" or "ami-lifecycle-workflows": function ids need only be unique per stack.
        self._stack_kind = _kebab(stack.node.id.removesuffix(f"-{config.stack_tag_slug}"))
        self._layer = lambda_.LayerVersion.from_layer_version_arn(
            scope,
            "PowertoolsLayer",
            f"arn:{stack.partition}:lambda:{stack.region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
            f"AWSLambdaPowertoolsPythonV3-python312-arm64:{config.powertools_layer_version}",
        )

    def function(
        self,
        id: str,  # noqa: A002 - the CDK construct id convention
        *,
        handler: str,
        description: str,
        environment: Mapping[str, str] = {},  # noqa: B006 - never mutated
        timeout: Duration = DEFAULT_TIMEOUT,
        memory_mb: int | None = None,
        reserved_concurrency: int | None = None,
    ) -> lambda_.Function:
        tag = self._config.stack_tag_slug
        log_group = logs.LogGroup(
            self._scope,
            f"{id}Logs",
            log_group_name=naming.log_group_name(tag, f"{self._stack_kind}/lambda/{_kebab(id)}"),
            encryption_key=self._key,
            retention=self._config.log_retention,
            # Operational logs; the audit trail lives in the lifecycle table. A retained group
            # with a fixed name would block redeploying the same stack tag.
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self._scope,
            f"{id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{naming.resource_name(tag, _kebab(id))}: {description}"[:1000],
        )
        log_group.grant_write(role)
        # The one key encrypts tables, queues, topic, bucket and environment: decrypt to read,
        # encrypt/generate data keys to write (SQS send, SNS publish, DynamoDB writes).
        self._key.grant(role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
        function = lambda_.Function(
            self._scope,
            id,
            description=description,
            code=self._code,
            handler=handler,
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            layers=[self._layer],
            memory_size=memory_mb or self._config.lambda_memory_mb,
            timeout=timeout,
            reserved_concurrent_executions=reserved_concurrency,
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment_encryption=self._key,
            environment={
                "DEPLOYMENT_TAG": tag,
                "POWERTOOLS_SERVICE_NAME": _kebab(id),
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **environment,
            },
        )
        suppress_checkov(
            function,
            ("CKV_AWS_117", "Calls only AWS public APIs and reaches nothing inside a VPC; a VPC would only add "
                            "NAT or endpoint cost and cold-start latency."),
        )
        if reserved_concurrency is None:
            suppress_checkov(
                function,
                ("CKV_AWS_115", "Invocations are bounded by their source (API Gateway stage and usage-plan "
                                "throttling, SQS event source, schedules, Step Functions executions); a reservation "
                                "would also fail to deploy in accounts whose concurrency quota leaves no room."),
            )
        return function
