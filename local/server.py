"""The local cloud: the whole application as one long-running process on 127.0.0.1, no AWS account.

    python -m local            # foreground; Ctrl-C stops it (local/run.sh, `bash deploy.sh --local`)

What runs in this process:

- moto's server (`ThreadedMotoServer`) on 127.0.0.1:<free port> is the AWS endpoint: this process
  exports AWS_ENDPOINT_URL, so every boto3 client (handlers, fakes, Step Functions' interpreter via
  MOTO_PORT) reaches it, and so do the CLI and get_ami.sh through the profile's `aws_endpoint_url`;
  Step Functions executions are switched on (POST /moto-api/config);
- `LocalCloud(mock=False)` (local/cloud.py): the in-process Lambda runtime (each function's handler
  from this repository, with the function's environment), the fakes for what moto lacks (Image
  Builder, VM export/store, deprecation, Inspector reports, SSM command output) and the time scale;
- both synthesized templates, deployed with `LocalDeployer` (local/cfn.py) plus what a long-running
  cloud needs and the tests' deployer leaves out (`ServerDeployer`): Secrets Manager secrets with
  generated values (the API keys and the timeline signing key), API key ids, queue redrive policies,
  and the Lambda event source mappings and schedules, which this process then plays:
  * SQS -> Lambda: one thread per mapping long-polls its queue (1 s waits), invokes the receiver
    through moto's Lambda (so the runtime applies its environment), deletes the records not
    reported in `batchItemFailures` and makes the others visible again after the queue's visibility
    timeout (time-scaled, at least 1 s): moto's redrive moves a record to the DLQ after
    maxReceiveCount receives, as SQS does;
  * EventBridge rules with Lambda targets: the EventRouter (local/events.py), whose worker thread
    delivers the events the fakes emit (EventBridge is asynchronous, and a synchronous delivery from
    inside a handler would wait for the Lambda lock that handler holds);
  * schedules (reconciler, garbage collector): invoked at the time-scaled rate, at most every 15 s;
- SNS: emails cannot be sent from here. A local queue subscribed to the topic (no filter) is drained
  into `<state dir>/notifications.jsonl` (one JSON object per message: subject, message, attributes
  with the recipients). HTTP(S) subscriptions are delivered for real only to loopback endpoints;
- the API on http://127.0.0.1:<port>/api (local/api_gateway.py) with the generated keys, each route
  invoking its API function through moto's Lambda;
- a control endpoint on 127.0.0.1 (another free port; a random token in `<state dir>/control.json`,
  mode 0600) for failure injection and statistics: `python -m local inject build-failure`.

Secrets (DESIGN §5): the API key values exist only in the local Secrets Manager and in the profile
file (mode 0600); the timeline signing key only in Secrets Manager. None is printed or logged.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import secrets
import shutil
import signal
import string
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from hashlib import sha256
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local.durations import Durations

REPO = Path(__file__).resolve().parents[1]
DEFAULT_STATE_DIR = REPO / ".local-cloud"
DEFAULT_PORT = 8787
DEFAULT_TIME_FACTOR = 0.001
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
LOGGER = logging.getLogger("local.server")

# Failure injection: the next run of the named step fails (local/fakes switches).
INJECTIONS = {
    "build-failure": "the next Image Builder build ends FAILED",
    "smoke-failure": "the next smoke-test check fails",
    "scan-critical": "the next vulnerability scan reports a CRITICAL finding",
    "export-failure": "the next VM export (QA certification request) fails",
    "store-failure": "the next AMI backup to S3 (mark for production) fails",
}
# What the synthesized templates depend on (a change re-synthesizes at the next start).
_SYNTH_INPUTS = ("app.py", "cdk.json", "stacks", "statemachines", "components", "lambdas")
_RESOLVE_SECRET = re.compile(r"\{\{resolve:secretsmanager:(.+?):SecretString:::\}\}")


# ----- files ---------------------------------------------------------------------------------------


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600), atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


@dataclass(frozen=True)
class StatePaths:
    root: Path
    profile: Path

    @classmethod
    def of(cls, state_dir: Path | None = None, profile: Path | None = None) -> StatePaths:
        root = Path(state_dir or os.environ.get("AMI_LC_STATE_DIR") or DEFAULT_STATE_DIR).expanduser().resolve()
        env_profile = os.environ.get("AMI_LC_PROFILE")
        chosen = profile or (Path(env_profile) if env_profile else root / "profile.json")
        return cls(root=root, profile=Path(chosen).expanduser().resolve())

    @property
    def pid(self) -> Path:
        return self.root / "server.pid"

    @property
    def status(self) -> Path:
        return self.root / "status.json"

    @property
    def control(self) -> Path:
        return self.root / "control.json"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def notifications(self) -> Path:
        return self.root / "notifications.jsonl"

    @property
    def assembly(self) -> Path:
        return self.root / "cdk.out"


# ----- synthesis -------------------------------------------------------------------------------------


def _fingerprint(stack_tag: str | None) -> str:
    digest = sha256(f"stack_tag={stack_tag}\n".encode())
    for name in _SYNTH_INPUTS:
        base = REPO / name
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def synthesize(outdir: Path, stack_tag: str | None = None, timeout: float = 300) -> dict[str, Path]:
    """Synthesize the app into `outdir` (in a subprocess: jsii's node process and memory go away
    with it), unless its inputs did not change since the last synthesis. Returns stack -> template."""
    fingerprint = _fingerprint(stack_tag)
    stamp = outdir / ".local-cloud-fingerprint"
    if not (stamp.is_file() and stamp.read_text() == fingerprint):
        LOGGER.info("synthesizing the app (cdk.json context%s) ...", f", stackTag={stack_tag}" if stack_tag else "")
        if outdir.exists():
            shutil.rmtree(outdir)
        env = {k: v for k, v in os.environ.items() if k not in ("STACK_TAG", "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")}
        env.update(JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", CDK_DISABLE_VERSION_CHECK="1")
        subprocess.run(
            [sys.executable, "-m", "local.synth", str(outdir), stack_tag or ""],
            cwd=REPO, env=env, check=True, timeout=timeout,
        )
        stamp.write_text(fingerprint)
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {
        name: outdir / artifact["properties"]["templateFile"]
        for name, artifact in manifest["artifacts"].items()
        if artifact.get("type") == "aws:cloudformation:stack"
    }


# ----- deployment --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSourceMapping:
    queue_arn: str
    function: str
    batch_size: int


def _server_deployer_class() -> type:
    from local.cfn import LocalDeployer, generated_secret

    class ServerDeployer(LocalDeployer):
        """LocalDeployer + what the long-running local cloud needs (see the module docstring)."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.api_keys: dict[str, str] = {}  # key id -> key value (never logged)
            self.event_source_mappings: list[EventSourceMapping] = []
            self.schedules: list[tuple[str, list[str]]] = []  # (rate expression, target function ARNs)
            self.queues: dict[str, dict[str, Any]] = {}  # queue ARN -> url, visibility timeout
            self._creators.update({
                "AWS::ApiGateway::ApiKey": self._api_key,
                "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            })

        def _api_key(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            value = str(props.get("Value") or "")
            found = _RESOLVE_SECRET.fullmatch(value)
            if found:
                value = self.secret_values[found.group(1)]
            if not value:
                value = generated_secret({"GenerateSecretString": {"ExcludePunctuation": True, "PasswordLength": 40}})
            key_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(10))
            self.api_keys[key_id] = value
            return key_id, {"APIKeyId": key_id}

        def _queue(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            url, attrs = super()._queue(lid, props)
            attributes: dict[str, str] = {}
            if props.get("RedrivePolicy"):
                attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
            if props.get("VisibilityTimeout") is not None:
                attributes["VisibilityTimeout"] = str(props["VisibilityTimeout"])
            if attributes:
                self._client("sqs").set_queue_attributes(QueueUrl=url, Attributes=attributes)
            self.queues[attrs["Arn"]] = {"url": url, "visibility": int(props.get("VisibilityTimeout", 30))}
            return url, attrs

        def _event_source_mapping(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            self.event_source_mappings.append(
                EventSourceMapping(props["EventSourceArn"], props["FunctionName"], int(props.get("BatchSize", 10)))
            )
            return str(uuid.uuid4()), {}

        def _rule(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            if "ScheduleExpression" in props and props.get("State", "ENABLED") == "ENABLED":
                self.schedules.append((props["ScheduleExpression"], [t["Arn"] for t in props.get("Targets", [])]))
            return super()._rule(lid, props)

    return ServerDeployer


def _rate_seconds(expression: str) -> float | None:
    found = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not found:
        return None  # cron(...) schedules are not played locally
    unit = found.group(2).rstrip("s")
    return int(found.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[unit]


# ----- moto patches for a long-running server ----------------------------------------------------------


def _endpoint_server(endpoint: Any) -> Any:
    """moto's threaded server with the local endpoint (IAM, fakes) in front of its WSGI application."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from local.endpoint.endpoint import wsgi_middleware

    class EndpointServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = wsgi_middleware(DomainDispatcherApplication(create_backend_app), endpoint)
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return EndpointServer(ip_address="127.0.0.1", port=0, verbose=False)


def _serialize_dynamodb_writes() -> None:
    """DynamoDB applies each write atomically; moto's backend does not under concurrent threads (the
    same guard as tests/conftest.py's)."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def atomic(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, atomic)


def _loopback_only_http_delivery() -> None:
    """moto's SNS posts HTTP(S) notifications with `requests.post` and no timeout: deliver only to
    loopback endpoints (a local webhook), with a timeout; log the others as not delivered."""
    import moto.sns.models as sns_models
    import requests

    from client.deployment import is_loopback_url

    class _Requests:
        def __getattr__(self, name: str) -> Any:
            return getattr(requests, name)

        @staticmethod
        def post(url: str, **kwargs: Any) -> Any:
            if not is_loopback_url(url):
                LOGGER.info("SNS HTTP(S) notification to %s not delivered (local cloud: loopback only)",
                            urlsplit(url).netloc)
                return None
            try:
                return requests.post(url, timeout=5, **kwargs)
            except requests.RequestException as exc:
                LOGGER.warning("SNS HTTP(S) notification to %s failed: %s", urlsplit(url).netloc, type(exc).__name__)
                return None

    sns_models.requests = _Requests()  # type: ignore[attr-defined]


# ----- the server ----------------------------------------------------------------------------------------


@dataclass
class Stats:
    started_at: float = field(default_factory=time.time)
    receiver_batches: int = 0
    receiver_failures: int = 0
    notifications: int = 0
    schedule_runs: int = 0


class LocalCloudServer:
    def __init__(
        self,
        *,
        paths: StatePaths,
        port: int = DEFAULT_PORT,
        time_factor: float = DEFAULT_TIME_FACTOR,
        stack_tag: str | None = None,
        inject: list[str] | None = None,
        inspector: bool = True,
        durations: Durations | None = None,
    ) -> None:
        for kind in inject or []:
            if kind not in INJECTIONS:
                raise ValueError(f"unknown injection {kind!r}; expected one of {', '.join(INJECTIONS)}")
        self.paths, self.port, self.time_factor, self.stack_tag = paths, port, time_factor, stack_tag
        self.initial_injections = list(inject or [])
        self.durations = durations  # None: the fakes' defaults
        self.inspector_enabled = inspector
        self.stop_event = threading.Event()
        self.stats = Stats()
        self._threads: list[threading.Thread] = []
        self._notifications_lock = threading.Lock()
        self.moto: Any = None
        self.cloud: Any = None
        self.gateway: Any = None
        self.control: ThreadingHTTPServer | None = None
        self.control_token = secrets.token_urlsafe(32)
        self.profile: dict[str, Any] = {}
        self.failure: str | None = None

    # ----- start -------------------------------------------------------------------------------------

    def start(self) -> LocalCloudServer:
        started = time.monotonic()
        self.paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._write_status("starting")
        templates = synthesize(self.paths.assembly, self.stack_tag)
        self._create_cloud()
        self._start_moto()
        self._enter_cloud()
        self._deploy(templates)
        # Everything deployed lives as long as the cloud: keep it out of the collector's full passes, and
        # make those rarer. Each stops every thread for up to a second (a simulated minute at factor 0.02).
        gc.freeze()
        gc.set_threshold(700, 10, 1000)
        self._start_notifications()
        self._start_event_sources()
        self._start_schedules()
        self._start_gateway()
        self._start_control()
        for kind in self.initial_injections:
            self.inject(kind)
        self._write_profile()
        self._write_status("ready")
        LOGGER.info("local cloud ready in %.1f s", time.monotonic() - started)
        return self

    def _start_moto(self) -> None:
        import requests

        from local.credentials import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY

        for name in [n for n in os.environ if n.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"))]:
            del os.environ[name]
        # This process's own clients (deployer, event sources, scheduler) act as the administrator;
        # each function gets its role's credentials for the time of its invocation.
        os.environ.update({
            "AWS_ACCESS_KEY_ID": ADMIN_ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET_ACCESS_KEY,
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
        })
        self.moto = _endpoint_server(self.cloud.endpoint)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.aws_endpoint_url = f"http://{host}:{port}"
        # Step Functions' interpreter calls Lambda and the other services at localhost:MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        os.environ["AWS_ENDPOINT_URL"] = self.aws_endpoint_url
        response = requests.post(f"{self.aws_endpoint_url}/moto-api/config",
                                 json={"stepfunctions": {"execute_state_machine": True}}, timeout=10)
        response.raise_for_status()
        _serialize_dynamodb_writes()
        _loopback_only_http_delivery()
        LOGGER.info("moto server on %s", self.aws_endpoint_url)

    def _create_cloud(self) -> None:
        from local.cloud import LocalCloud

        cloud = LocalCloud(region=REGION, account=ACCOUNT, time_factor=self.time_factor, mock=False,
                           durations=self.durations or Durations())
        cloud.deployer = _server_deployer_class()(
            region=REGION, account=ACCOUNT, router=cloud.router, image_builder=cloud.image_builder,
            encryption=cloud.endpoint.resolver.facts.encryption,
        )
        cloud.inspector.set_ec2_scanning(self.inspector_enabled)
        self.cloud = cloud

    def _enter_cloud(self) -> None:
        self.cloud.__enter__()

    def _deploy(self, templates: dict[str, Path]) -> None:
        core = next(name for name in templates if name.startswith("AmiLifecycle-"))
        workflows = next(name for name in templates if name.startswith("AmiLifecycleWorkflows-"))
        self.deployment_tag = core.removeprefix("AmiLifecycle-")
        # Both stacks' bootstrap check (CheckBootstrapVersion) reads this parameter.
        self.cloud.client("ssm").put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String")
        resources = {}
        for name in (core, workflows):
            template = json.loads(templates[name].read_text())
            resources[name] = (template, self.cloud.deploy(template, self.paths.assembly, name))
        deployer = self.cloud.deployer
        outputs = deployer.outputs[core]
        self.functions = {
            f["Handler"].removesuffix(".lambda_handler"): f["FunctionName"]
            for page in self.cloud.client("lambda").get_paginator("list_functions").paginate()
            for f in page["Functions"] if f["Handler"].startswith("lambdas.")
        }
        environment = self.cloud.client("lambda").get_function_configuration(
            FunctionName=self.functions["lambdas.api.handlers.read"])["Environment"]["Variables"]
        key_ids: dict[str, str] = json.loads(environment["API_KEY_IDS"])  # role -> key id
        self.role_keys = {role: deployer.api_keys[key_id] for role, key_id in key_ids.items()}
        self.lookup_table = outputs["LookupTableName"]
        self.patch_bucket = outputs["PatchComponentBucketName"]
        self.topic_arn = outputs["NotificationTopicArn"]
        self.lifecycle_table = outputs["LifecycleTableName"]
        template, _ = resources[core]
        tags = [t["Value"] for r in template["Resources"].values() for t in r.get("Properties", {}).get("Tags", [])
                if isinstance(t, dict) and t.get("Key") == "ami-lifecycle:stack-tag"]
        self.stack_tag_value = tags[0] if tags else self.deployment_tag

    # ----- background work ----------------------------------------------------------------------------

    def _thread(self, name: str, target: Any, *args: Any) -> None:
        def run() -> None:
            while not self.stop_event.is_set():
                try:
                    target(*args)
                except Exception:  # noqa: BLE001 - a loop must survive one bad round; logged
                    LOGGER.exception("%s failed; retrying", name)
                    self.stop_event.wait(1)

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _lambda(self, read_timeout: int = 150) -> Any:
        import boto3
        from botocore.config import Config

        # One attempt: a retried invocation would run a non-idempotent handler twice.
        return boto3.client("lambda", region_name=REGION, config=Config(
            retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=read_timeout))

    def _start_event_sources(self) -> None:
        deployer = self.cloud.deployer
        lambda_ = self.cloud.client("lambda")
        for mapping in deployer.event_source_mappings:
            queue = deployer.queues[mapping.queue_arn]
            # Lambda's event source polls the queue with the function's execution role.
            role = lambda_.get_function_configuration(FunctionName=mapping.function)["Role"]
            sqs = self.cloud.sessions.client(role, "sqs", REGION)
            self._thread(f"esm-{mapping.queue_arn.rsplit(':', 1)[1]}", self._poll_queue, mapping, queue,
                         sqs, self._lambda())

    def _poll_queue(self, mapping: EventSourceMapping, queue: dict[str, Any], sqs: Any, lambda_: Any) -> None:
        """One round of the SQS event source: receive a batch, invoke, delete what succeeded."""
        messages = sqs.receive_message(
            QueueUrl=queue["url"], MaxNumberOfMessages=min(10, mapping.batch_size), WaitTimeSeconds=1,
            AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return
        records = [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {
                name: {"stringValue": a.get("StringValue"), "binaryValue": a.get("BinaryValue"),
                       "stringListValues": [], "binaryListValues": [], "dataType": a.get("DataType")}
                for name, a in m.get("MessageAttributes", {}).items()
            },
            "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": mapping.queue_arn,
            "awsRegion": REGION,
        } for m in messages]
        response = lambda_.invoke(FunctionName=mapping.function, Payload=json.dumps({"Records": records}).encode())
        payload = json.loads(response["Payload"].read() or b"null")
        self.stats.receiver_batches += 1
        if "FunctionError" in response:
            failed = {m["MessageId"] for m in messages}
            LOGGER.warning("%s failed on a batch of %d: %s", mapping.function, len(messages),
                           (payload or {}).get("errorType"))
        else:
            failed = {f["itemIdentifier"] for f in (payload or {}).get("batchItemFailures", [])}
        self.stats.receiver_failures += len(failed)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(QueueUrl=queue["url"], Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        retry_after = max(1, round(queue["visibility"] * self.time_factor))
        for m in messages:
            if m["MessageId"] in failed:
                sqs.change_message_visibility(QueueUrl=queue["url"], ReceiptHandle=m["ReceiptHandle"],
                                              VisibilityTimeout=retry_after)

    def _start_schedules(self) -> None:
        lambda_ = self._lambda()
        for expression, targets in self.cloud.deployer.schedules:
            rate = _rate_seconds(expression)
            if rate is None:
                continue
            interval = max(15.0, rate * self.time_factor)

            def run(targets: list[str] = targets, interval: float = interval) -> None:
                if self.stop_event.wait(interval):
                    return
                for arn in targets:
                    lambda_.invoke(FunctionName=arn, InvocationType="Event", Payload=json.dumps({
                        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                        "source": "aws.events", "account": ACCOUNT, "region": REGION, "resources": [],
                        "detail": {}}).encode())
                    self.stats.schedule_runs += 1

            self._thread(f"schedule-{expression}", run)

    def _start_notifications(self) -> None:
        from lambdas.domain.models import NotificationMethod, NotificationTarget

        sqs, sns = self.cloud.client("sqs"), self.cloud.client("sns")
        url = sqs.create_queue(QueueName="ami-lc-local-notifications")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=arn)
        if not self.paths.notifications.exists():
            write_private(self.paths.notifications, "")
        # Who SNS would deliver each message to, by address: messages name their recipients by a hash
        # (NotificationTarget.target_id), which only the subscriptions' endpoints resolve.
        protocols = {"email", "https"}
        subscriptions: list[tuple[str, dict[str, list[str]]]] = []

        def refresh() -> None:
            subscriptions.clear()
            pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=self.topic_arn)
            for subscription in (s for page in pages for s in page["Subscriptions"] if s["Protocol"] in protocols):
                attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
                subscriptions.append((subscription["Endpoint"],
                                      json.loads(attributes["Attributes"].get("FilterPolicy") or "{}")))

        def id_of(endpoint: str) -> str:
            method = NotificationMethod.HTTPS if endpoint.startswith("https://") else NotificationMethod.EMAIL
            return NotificationTarget(method=method, target=endpoint).target_id

        def matches(policy: dict[str, list[str]], attributes: dict[str, Any]) -> bool:
            recipients = json.loads(attributes.get("recipients") or "[]")
            return all(
                bool(set(allowed) & set(recipients)) if name == "recipients" else attributes.get(name) in allowed
                for name, allowed in policy.items()
            )

        def addresses(attributes: dict[str, Any]) -> list[str]:
            wanted = json.loads(attributes.get("recipients") or "[]")
            if not set(wanted) <= {id_of(endpoint) for endpoint, _ in subscriptions}:
                refresh()  # a target subscribed since the last look
            return sorted({endpoint for endpoint, policy in subscriptions if matches(policy, attributes)})

        def drain() -> None:
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
                envelope = json.loads(message["Body"])
                attributes = {k: v.get("Value") for k, v in (envelope.get("MessageAttributes") or {}).items()}
                record = {
                    "received_at": envelope.get("Timestamp"),
                    "to": addresses(attributes),
                    "subject": envelope.get("Subject"),
                    "message": envelope.get("Message"),
                    "attributes": attributes,
                }
                with self._notifications_lock, self.paths.notifications.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(record) + "\n")
                self.stats.notifications += 1
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

        refresh()  # the deployment's static subscriptions (operators, QA)
        self._thread("notifications", drain)

    def _start_gateway(self) -> None:
        from local.api_gateway import ApiGateway

        lambda_ = self._lambda(read_timeout=60)
        functions = self.functions

        def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
            response = lambda_.invoke(FunctionName=functions[f"lambdas.api.handlers.{function}"],
                                      Payload=json.dumps(event).encode())
            payload = json.loads(response["Payload"].read() or b"null")
            if "FunctionError" in response:
                raise RuntimeError(f"the {function} function failed: {(payload or {}).get('errorType')}")
            return payload

        key_ids = {value: key_id for key_id, value in self.cloud.deployer.api_keys.items()}
        self.gateway = ApiGateway("127.0.0.1", self.port, key_ids=key_ids, invoke=invoke).start()

    def _start_control(self) -> None:
        server = self
        token = self.control_token

        class Handler(BaseHTTPRequestHandler):
            timeout = 10

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                given = self.headers.get("x-local-cloud-token") or ""
                if secrets.compare_digest(given.encode(), token.encode()):
                    return True
                self._reply(401, {"message": "missing or wrong x-local-cloud-token"})
                return False

            def do_GET(self) -> None:  # noqa: N802 - BaseHTTPRequestHandler's name
                if not self._authorized():
                    return
                split = urlsplit(self.path)
                if split.path != "/stats":
                    return self._reply(404, {"message": "GET /stats"})
                prefix = parse_qs(split.query).get("prefix", [""])[0]
                self._reply(200, server.statistics(prefix))

            def do_POST(self) -> None:  # noqa: N802
                if not self._authorized():
                    return
                kind = urlsplit(self.path).path.removeprefix("/inject/")
                if kind not in INJECTIONS:
                    return self._reply(404, {"message": f"POST /inject/<{'|'.join(INJECTIONS)}>"})
                server.inject(kind)
                self._reply(200, {"injected": kind, "effect": INJECTIONS[kind]})

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                LOGGER.debug("control: %s", self.path)

        self.control = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.control.daemon_threads = True
        thread = threading.Thread(target=self.control.serve_forever, kwargs={"poll_interval": 0.2},
                                  name="control", daemon=True)
        thread.start()
        write_private(self.paths.control, json.dumps({
            "url": f"http://127.0.0.1:{self.control.server_address[1]}", "token": token, "pid": os.getpid()}))

    # ----- control ------------------------------------------------------------------------------------

    def inject(self, kind: str) -> None:
        cloud = self.cloud
        {
            "build-failure": lambda: cloud.image_builder.fail_next_build(),
            "smoke-failure": lambda: cloud.ssm.fail_next_check(),
            "scan-critical": lambda: cloud.inspector.next_scan_reports({"CRITICAL": 1}),
            "export-failure": lambda: cloud.ec2_images.fail_next_export(),
            "store-failure": lambda: cloud.ec2_images.fail_next_store(),
        }[kind]()
        LOGGER.info("injected: %s", INJECTIONS[kind])

    def statistics(self, prefix: str = "") -> dict[str, Any]:
        """Lambda invocations (per function, since start) and, for the executions whose name starts
        with `prefix` (a lifecycle id): state transitions (states entered plus Retry attempts, both
        billed by Step Functions) and the workflows' Lambda invocations (their steps with that
        lifecycle id, and the callbacks function's EventBridge invocations since start)."""
        from local.cloud import state_transitions

        invocations = list(self.cloud.runtime.invocations)
        by_function = Counter(i.handler.removesuffix(".lambda_handler") for i in invocations)
        executions, counts = Counter(), Counter()
        for execution in self.cloud.executions(prefix) if prefix else []:
            executions[execution["status"]] += 1
            counts.update(state_transitions(execution["history"]))
        steps = [i for i in invocations if i.handler.startswith("lambdas.steps.")]
        return {
            "lambda_invocations": len(invocations),
            "lambda_errors": sum(1 for i in invocations if i.errored),
            "by_function": dict(by_function),
            "executions": dict(executions),
            "state_transitions": counts["billed"],
            "states_entered": counts["entered"],
            "retried_attempts": counts["retried"],
            "workflow_lambda_invocations": sum(
                1 for i in steps if prefix and str(i.event.get("lifecycle_id", "")).startswith(prefix)),
            "event_listener_invocations": sum(1 for i in steps if "detail-type" in i.event),
            "receiver_batches": self.stats.receiver_batches,
            "receiver_failed_records": self.stats.receiver_failures,
            "notifications": self.stats.notifications,
            "schedule_runs": self.stats.schedule_runs,
            "uptime_seconds": round(time.time() - self.stats.started_at, 1),
        }

    # ----- files --------------------------------------------------------------------------------------

    def _write_profile(self) -> None:
        from local.credentials import admin_credentials

        self.profile = {
            "endpoint": self.gateway.url,
            "aws_endpoint_url": self.aws_endpoint_url,
            "region": REGION,
            "stack_tag": self.stack_tag_value,
            "deployment_tag": self.deployment_tag,
            "keys": self.role_keys,
            "lookup_table": self.lookup_table,
            "patch_bucket": self.patch_bucket,
            "lifecycle_table": self.lifecycle_table,
            # Administrator credentials of the local endpoint (IAM is enforced for everyone else).
            "aws_credentials": admin_credentials(),
            "notifications_log": str(self.paths.notifications),
            "pid": os.getpid(),
        }
        write_private(self.paths.profile, json.dumps(self.profile, indent=2) + "\n")

    def _write_status(self, state: str, **extra: Any) -> None:
        status = {"state": state, "pid": os.getpid(), "time": time.time(), **extra}
        if state == "ready":
            status.update(endpoint=self.gateway.url, aws_endpoint_url=self.aws_endpoint_url,
                          profile=str(self.paths.profile), notifications_log=str(self.paths.notifications),
                          log=str(self.paths.log), time_factor=self.time_factor)
        write_private(self.paths.status, json.dumps(status, indent=2) + "\n")

    def next_steps(self) -> str:
        default = self.paths.root == DEFAULT_STATE_DIR.resolve() and self.paths.profile == self.paths.root / "profile.json"
        exports = "" if default else (
            f"  export AMI_LC_STATE_DIR={self.paths.root} AMI_LC_PROFILE={self.paths.profile}\n")
        tag = self.stack_tag_value
        return f"""
The local cloud is running (API {self.gateway.url}, AWS endpoint {self.aws_endpoint_url}, time x{self.time_factor}).
The CLI and get_ami.sh find it through the profile {self.paths.profile} (mode 0600; it holds the API keys).

Try a whole lifecycle; from the repository root each command runs as printed, and each prints the next one
(QA certification, approval, the timeline link):
{exports}  python3 cli/api-cli.py --operation AMI_CREATE --owner me --productName demo --productVer 1.0.0 \\
      --notifications EMAIL::me@example.com \\
      --events SMOKE_TESTS --events VULNERABILITY_SCANS --events QA_CERTIFICATION_REQUEST --wait
  python3 cli/api-cli.py --operation AMI_DASHBOARD
  bash client/get_ami.sh --stackTag {tag} --minStage production
api-cli on your PATH (optional, one step): mkdir -p ~/.local/bin && ln -sf "$PWD/cli/api-cli" ~/.local/bin/api-cli

Notifications (no e-mail is sent locally; each line names its recipients): {self.paths.notifications}
Make the next run of a step fail: bash deploy.sh --local inject build-failure
  (the other kinds: {", ".join(kind for kind in INJECTIONS if kind != "build-failure")})
Stop: Ctrl-C (foreground) or bash deploy.sh --local --stop
"""

    # ----- stop ---------------------------------------------------------------------------------------

    def stop(self) -> None:
        self.stop_event.set()
        if self.gateway is not None:
            self.gateway.stop()
        if self.control is not None:
            self.control.shutdown()
            self.control.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.cloud is not None:
            self.cloud.__exit__(None, None, None)
        if self.moto is not None:
            self.moto.stop()
        for path in (self.paths.profile, self.paths.control):
            # Only our own profile: another local cloud may have written the file since.
            try:
                if path.is_file() and json.loads(path.read_text()).get("pid") == os.getpid():
                    path.unlink()
            except (OSError, ValueError):
                pass
        if self.failure:
            self._write_status("failed", error=self.failure)
        else:
            self._write_status("stopped")


def serve(*, paths: StatePaths, port: int, time_factor: float, stack_tag: str | None, inject: list[str],
          inspector: bool = True, durations: Durations | None = None) -> int:
    """Run in the foreground until SIGINT/SIGTERM; returns the exit code."""
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    write_private(paths.pid, f"{os.getpid()}\n")
    server = LocalCloudServer(paths=paths, port=port, time_factor=time_factor, stack_tag=stack_tag, inject=inject,
                              inspector=inspector, durations=durations)
    try:
        server.start()
        print(server.next_steps(), flush=True)
        while not stop.wait(0.5):
            pass
        LOGGER.info("stopping ...")
        return 0
    except Exception as exc:  # noqa: BLE001 - reported, then the process ends
        LOGGER.exception("the local cloud failed to start")
        server.failure = f"{type(exc).__name__}: {exc}"
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        server.stop()
        try:
            if paths.pid.read_text().strip() == str(os.getpid()):
                paths.pid.unlink()
        except OSError:
            pass
        LOGGER.info("stopped")
