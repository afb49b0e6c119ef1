"""The local cloud's background work, played as AWS would: SQS event sources, schedules, the
notification log, and the control endpoint (failure injection, statistics)."""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from local.server_deployer import EventSourceMapping, rate_seconds
from local.state import ACCOUNT, REGION, write_private

if TYPE_CHECKING:
    from local.server import LocalCloudServer

LOGGER = logging.getLogger("local.server")
# Failure injection: the next run of the named step fails (local/fakes switches).
INJECTIONS = {
    "build-failure": "the next Image Builder build ends FAILED",
    "smoke-failure": "the next smoke-test check fails",
    "scan-critical": "the next vulnerability scan reports a CRITICAL finding",
    "export-failure": "the next VM export (QA certification request) fails",
    "store-failure": "the next AMI backup to S3 (mark for production) fails",
}


def start_event_sources(server: LocalCloudServer) -> None:
    deployer = server.cloud.deployer
    lambda_ = server.cloud.client("lambda")
    for mapping in deployer.event_source_mappings:
        queue = deployer.queues[mapping.queue_arn]
        # Lambda's event source polls the queue with the function's execution role.
        role = lambda_.get_function_configuration(FunctionName=mapping.function)["Role"]
        sqs = server.cloud.sessions.client(role, "sqs", REGION)
        server.run_loop(f"esm-{mapping.queue_arn.rsplit(':', 1)[1]}", _poll_queue, server, mapping, queue,
                     sqs, server.lambda_client())


def _poll_queue(server: LocalCloudServer, mapping: EventSourceMapping, queue: dict[str, Any], sqs: Any,
                lambda_: Any) -> None:
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
    server.stats.receiver_batches += 1
    if "FunctionError" in response:
        failed = {m["MessageId"] for m in messages}
        LOGGER.warning("%s failed on a batch of %d: %s", mapping.function, len(messages),
                       (payload or {}).get("errorType"))
    else:
        failed = {f["itemIdentifier"] for f in (payload or {}).get("batchItemFailures", [])}
    server.stats.receiver_failures += len(failed)
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(QueueUrl=queue["url"], Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
    retry_after = max(1, round(queue["visibility"] * server.time_factor))
    for m in messages:
        if m["MessageId"] in failed:
            sqs.change_message_visibility(QueueUrl=queue["url"], ReceiptHandle=m["ReceiptHandle"],
                                          VisibilityTimeout=retry_after)


def start_schedules(server: LocalCloudServer) -> None:
    lambda_ = server.lambda_client()
    for expression, targets in server.cloud.deployer.schedules:
        rate = rate_seconds(expression)
        if rate is None:
            continue
        interval = max(15.0, rate * server.time_factor)

        def run(targets: list[str] = targets, interval: float = interval) -> None:
            if server.stop_event.wait(interval):
                return
            for arn in targets:
                lambda_.invoke(FunctionName=arn, InvocationType="Event", Payload=json.dumps({
                    "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                    "source": "aws.events", "account": ACCOUNT, "region": REGION, "resources": [],
                    "detail": {}}).encode())
                server.stats.schedule_runs += 1

        server.run_loop(f"schedule-{expression}", run)


def start_notifications(server: LocalCloudServer) -> None:
    from lambdas.domain.models import NotificationMethod, NotificationTarget

    sqs, sns = server.cloud.client("sqs"), server.cloud.client("sns")
    url = sqs.create_queue(QueueName="ami-lc-local-notifications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=server.topic_arn, Protocol="sqs", Endpoint=arn)
    if not server.paths.notifications.exists():
        write_private(server.paths.notifications, "")
    # Who SNS would deliver each message to, by address: messages name their recipients by a hash
    # (NotificationTarget.target_id), which only the subscriptions' endpoints resolve.
    protocols = {"email", "https"}
    subscriptions: list[tuple[str, dict[str, list[str]]]] = []

    def refresh() -> None:
        subscriptions.clear()
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=server.topic_arn)
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
            with server.notifications_lock, server.paths.notifications.open("a", encoding="utf-8") as log:
                log.write(json.dumps(record) + "\n")
            server.stats.notifications += 1
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    refresh()  # the deployment's static subscriptions (operators, QA)
    server.run_loop("notifications", drain)


def start_control(server: LocalCloudServer) -> None:
    token = server.control_token

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

    server.control = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.control.daemon_threads = True
    thread = threading.Thread(target=server.control.serve_forever, kwargs={"poll_interval": 0.2},
                              name="control", daemon=True)
    thread.start()
    write_private(server.paths.control, json.dumps({
        "url": f"http://127.0.0.1:{server.control.server_address[1]}", "token": token, "pid": os.getpid()}))
