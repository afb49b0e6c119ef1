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

This module composes them; the parts live beside it: local/state.py (the state directory and its
private files), local/synthesis.py, local/server_deployer.py, local/moto_server.py (the endpoint
in front of moto and moto's patches) and local/background.py (event sources, schedules, the
notification log, the control endpoint).

Secrets (DESIGN §5): the API key values exist only in the local Secrets Manager and in the profile
file (mode 0600); the timeline signing key only in Secrets Manager. None is printed or logged.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import secrets
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from local import background
from local.background import INJECTIONS
from local.durations import Durations
from local.moto_server import endpoint_server, loopback_only_http_delivery, serialize_dynamodb_writes
from local.server_deployer import server_deployer_class
from local.state import ACCOUNT, DEFAULT_STATE_DIR, REGION, StatePaths, write_private
from local.synthesis import synthesize

DEFAULT_PORT = 8787
DEFAULT_TIME_FACTOR = 0.001
LOGGER = logging.getLogger("local.server")


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
        self.notifications_lock = threading.Lock()
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
        background.start_notifications(self)
        background.start_event_sources(self)
        background.start_schedules(self)
        self._start_gateway()
        background.start_control(self)
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
        self.moto = endpoint_server(self.cloud.endpoint)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.aws_endpoint_url = f"http://{host}:{port}"
        # Step Functions' interpreter calls Lambda and the other services at localhost:MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        os.environ["AWS_ENDPOINT_URL"] = self.aws_endpoint_url
        response = requests.post(f"{self.aws_endpoint_url}/moto-api/config",
                                 json={"stepfunctions": {"execute_state_machine": True}}, timeout=10)
        response.raise_for_status()
        serialize_dynamodb_writes()
        loopback_only_http_delivery()
        LOGGER.info("moto server on %s", self.aws_endpoint_url)

    def _create_cloud(self) -> None:
        from local.cloud import LocalCloud

        cloud = LocalCloud(region=REGION, account=ACCOUNT, time_factor=self.time_factor, mock=False,
                           durations=self.durations or Durations())
        cloud.deployer = server_deployer_class()(
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

    def run_loop(self, name: str, target: Any, *args: Any) -> None:
        """Call target(*args) in a daemon thread until stop, surviving (and logging) a failed round."""
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

    def lambda_client(self, read_timeout: int = 150) -> Any:
        import boto3
        from botocore.config import Config

        # One attempt: a retried invocation would run a non-idempotent handler twice.
        return boto3.client("lambda", region_name=REGION, config=Config(
            retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=read_timeout))

    def _start_gateway(self) -> None:
        from local.api_gateway import ApiGateway

        lambda_ = self.lambda_client(read_timeout=60)
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
        executions: Counter[str] = Counter()
        counts: Counter[str] = Counter()
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
