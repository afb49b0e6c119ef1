"""A small local API Gateway: HTTP on 127.0.0.1 in front of the API functions, run in this process.

    with ApiGateway(key_ids={"<key value>": "<key id>", ...}) as gateway:
        urllib.request.urlopen(gateway.url + "/ami-creation/lifecycles/<id>/status")  # + x-api-key header

It behaves like the deployed REST API (stacks/core/api.py) where clients can tell:

- routes: the same (method, resource) table (lambdas/api/catalog.py), each sent to the same function
  (`read`, `lifecycles`, `certify`, `approve`) as a REST proxy event
  (`lambdas.api.handlers.<function>.lambda_handler`);
  an unknown path or method (any method, TRACE or made-up ones included) gets the deployed
  MISSING_AUTHENTICATION_TOKEN gateway response (404);
- API keys: a route that requires one refuses a missing or unknown `x-api-key` with the deployed
  INVALID_API_KEY response (401) before any function runs; a known value becomes
  `requestContext.identity.apiKeyId` (the key's *id*). The value stays in the headers, as on AWS,
  and nowhere else. Keyless routes (catalog auth "link": the timeline page and its data, which
  the handler authenticates by their signed token) pass without a key;
- errors: the deployed gateway responses, same status and body (catalog.GATEWAY_RESPONSES): a
  function that raises gives DEFAULT_5XX's 502 "Internal server error", a busy gateway
  INTEGRATION_TIMEOUT's 504; a body over 10 MB gives API Gateway's fixed 413, which cannot be
  customized. Not modelled: throttling and quotas (429).

One function call at a time (a lock): Lambda runs one request per container, and the Powertools
resolvers and the shared `os.environ` are not thread-safe. The server listens on loopback only and
every socket read has a timeout. Requests are recorded (method, path, status; never headers) so tests
can count what reached the gateway.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from client.deployment import is_loopback_host
from lambdas.api.catalog import GATEWAY_RESPONSES, GATEWAY_TOO_LARGE
from lambdas.api.catalog import ROUTES as CATALOG

LOGGER = logging.getLogger(__name__)

# (method, resource, function) and the routes that need no key ("link" auth: the timeline page and
# its data, opened by a browser with a signed token): lambdas/api/catalog.py, the table the deployed
# API is built from.
ROUTES: tuple[tuple[str, str, str], ...] = tuple((route.method, route.path, route.function) for route in CATALOG)
KEYLESS_ROUTES: frozenset[tuple[str, str]] = frozenset(
    (route.method, route.path) for route in CATALOG if route.auth != "key"
)



def _gateway(response_type: str, status: int | None = None, message_string: str = "") -> tuple[int, dict[str, str]]:
    response = GATEWAY_RESPONSES[response_type]
    return status or response.status or 500, response.body(message_string)


# The deployed gateway responses (stacks/core/api.py _gateway_responses), as API Gateway renders them.
INVALID_API_KEY = _gateway("INVALID_API_KEY")
UNKNOWN_ROUTE = _gateway("MISSING_AUTHENTICATION_TOKEN")
INTERNAL_ERROR = _gateway("DEFAULT_5XX", 502, "Internal server error")
TIMED_OUT = _gateway("INTEGRATION_TIMEOUT")
TOO_LARGE = GATEWAY_TOO_LARGE

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
API_KEY_HEADER = "x-api-key"

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    resource: str
    function: str
    key_required: bool
    pattern: re.Pattern[str]
    parameters: tuple[str, ...]

    @classmethod
    def of(cls, method: str, resource: str, function: str, key_required: bool) -> Route:
        names: list[str] = []
        parts = []
        for segment in resource.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                names.append(segment[1:-1])
                parts.append("([^/]+)")
            else:
                parts.append(re.escape(segment))
        return cls(method, resource, function, key_required, re.compile("^/" + "/".join(parts) + "$"), tuple(names))


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    status: int
    function: str | None


@dataclass
class _Context:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str
    aws_request_id: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    timeout_seconds: int = 29
    _started: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def invoke_in_process(function: str, event: dict[str, Any]) -> dict[str, Any]:
    """Call `lambdas.api.handlers.<function>.lambda_handler` in this process."""
    module = importlib.import_module(f"lambdas.api.handlers.{function}")
    context = _Context(
        function_name=f"ami-lc-local-api-{function}",
        aws_request_id=str(uuid.uuid4()),
        invoked_function_arn=f"arn:aws:lambda:local:000000000000:function:ami-lc-local-api-{function}",
        _started=time.monotonic(),
    )
    return module.lambda_handler(event, context)


class ApiGateway:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        key_ids: Mapping[str, str],
        stage: str = "api",
        routes: Iterable[tuple[str, str, str]] = ROUTES,
        keyless_routes: Iterable[tuple[str, str]] = KEYLESS_ROUTES,
        invoke: Invoke | None = None,
        socket_timeout: float = 30.0,
        invoke_wait_timeout: float = 60.0,
    ) -> None:
        if not is_loopback_host(host):
            raise ValueError(f"the local API gateway listens on loopback only, not {host!r}")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", stage):
            raise ValueError(f"invalid stage name {stage!r}")
        self.host, self.stage = host, stage
        self._requested_port = port
        self._key_ids = dict(key_ids)  # key value -> key id
        keyless = set(keyless_routes)
        routes = list(routes)
        # API Gateway prefers a static path segment to a path parameter.
        self.routes = sorted(
            (Route.of(method, resource, function, (method, resource) not in keyless)
             for method, resource, function in routes),
            key=lambda route: len(route.parameters),
        )
        self.invoke: Invoke = invoke or invoke_in_process  # replaceable (tests, the local cloud)
        self._socket_timeout = socket_timeout
        self._invoke_wait_timeout = invoke_wait_timeout
        self._lock = threading.Lock()
        self._recorded_lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ApiGateway:
        if self._server is not None:
            raise RuntimeError("the gateway is already running")
        gateway = self

        class Handler(_RequestHandler):
            owner = gateway
            timeout = self._socket_timeout

        server = ThreadingHTTPServer((self.host, self._requested_port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="local-api-gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> ApiGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the gateway is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The stage URL, like the deployed ApiEndpoint output (without its trailing slash)."""
        return f"http://{self.host}:{self.port}/{self.stage}"

    # ----- request handling --------------------------------------------------------------------

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Run other in-process function work (e.g. a receiver) between two gateway requests, as
        separate Lambda containers would, instead of interleaved with one in this shared process."""
        if not self._lock.acquire(timeout=self._invoke_wait_timeout):
            raise TimeoutError("the gateway stayed busy")
        try:
            yield
        finally:
            self._lock.release()

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found:
                values = zip(route.parameters, found.groups(), strict=True)
                return route, {name: unquote(value) for name, value in values}
        return None

    def handle(
        self, method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes, str | None]:
        """One HTTP request -> (status, headers, body, function called)."""
        split = urlsplit(raw_path)
        prefix = f"/{self.stage}"
        if not (split.path == prefix or split.path.startswith(prefix + "/")):
            return (*_json_response(*UNKNOWN_ROUTE), None)
        path = split.path[len(prefix):] or "/"
        matched = self.match(method, path)
        if matched is None:
            return (*_json_response(*UNKNOWN_ROUTE), None)
        route, path_parameters = matched
        key_id = None
        if route.key_required:
            value = next((v for name, v in headers if name.lower() == API_KEY_HEADER), None)
            key_id = self._key_ids.get(value) if value else None
            if key_id is None:
                return (*_json_response(*INVALID_API_KEY), None)
        if len(body) > MAX_BODY_BYTES:
            return (*_json_response(*TOO_LARGE), None)
        event = self._event(method, path, split.query, route, path_parameters, headers, body, key_id, source_ip)
        if not self._lock.acquire(timeout=self._invoke_wait_timeout):
            return (*_json_response(*TIMED_OUT), route.function)
        try:
            response = self.invoke(route.function, event)
        except Exception:  # noqa: BLE001 - a function error is a 502, as on AWS
            LOGGER.exception("the %s function raised", route.function)
            return (*_json_response(*INTERNAL_ERROR), route.function)
        finally:
            self._lock.release()
        return (*_proxy_response(response), route.function)

    def _event(
        self,
        method: str,
        path: str,
        query: str,
        route: Route,
        path_parameters: dict[str, str],
        headers: list[tuple[str, str]],
        body: bytes,
        key_id: str | None,
        source_ip: str,
    ) -> dict[str, Any]:
        single_headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            single_headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        single_query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            single_query[name] = value
            multi_query.setdefault(name, []).append(value)
        try:
            text, is_base64 = (body.decode("utf-8"), False) if body else (None, False)
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode("ascii"), True
        now = datetime.now(UTC)
        return {
            "resource": route.resource,
            "path": path,
            "httpMethod": method,
            "headers": single_headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": single_query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "accountId": "000000000000",
                "apiId": "local",
                "domainName": f"{self.host}:{self.port}",
                "httpMethod": method,
                "path": f"/{self.stage}{path}",
                "protocol": "HTTP/1.1",
                "requestId": str(uuid.uuid4()),
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "resourceId": "local",
                "resourcePath": route.resource,
                "stage": self.stage,
                # The key's id only; API Gateway leaves the value in the x-api-key header.
                "identity": {
                    "apiKeyId": key_id,
                    "sourceIp": source_ip,
                    "userAgent": single_headers.get("User-Agent"),
                },
            },
            "body": text,
            "isBase64Encoded": is_base64,
        }

    def record(self, request: RecordedRequest) -> None:
        with self._recorded_lock:
            self.requests.append(request)


def _json_response(status: int, body: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps(body).encode()


def _proxy_response(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """A Lambda proxy integration response -> HTTP; a malformed one is a 502, as on AWS."""
    if not isinstance(response, dict) or not isinstance(response.get("statusCode"), int):
        LOGGER.error("malformed Lambda proxy response")
        return _json_response(*INTERNAL_ERROR)
    headers: list[tuple[str, str]] = []
    multi = response.get("multiValueHeaders") or {}
    for name, value in (response.get("headers") or {}).items():
        if name not in multi:
            headers.append((name, str(value)))
    for name, values in multi.items():
        headers.extend((name, str(value)) for value in values)
    body = response.get("body") or ""
    data = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode("utf-8")
    return response["statusCode"], headers, data


class _RequestHandler(BaseHTTPRequestHandler):
    owner: ApiGateway
    protocol_version = "HTTP/1.1"
    server_version = "ami-lc-local-api-gateway"

    def _serve(self) -> None:
        function = None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            status, headers, body = _json_response(400, {"error": "BadRequest", "message": "invalid Content-Length"})
        elif length > MAX_BODY_BYTES:
            status, headers, body = _json_response(*TOO_LARGE)
            self.close_connection = True
        else:
            payload = self.rfile.read(length) if length else b""
            status, headers, body, function = self.owner.handle(
                self.command, self.path, list(self.headers.items()), payload, self.client_address[0]
            )
        # Recorded before the response goes out, so a client that has its answer sees the record.
        # The path may carry a timeline token: record it without the query string.
        self.owner.record(RecordedRequest(self.command, urlsplit(self.path).path, status, function))
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the route table, as on API Gateway: TRACE or a made-up method is an
        # unknown route (404), not BaseHTTPRequestHandler's 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        # The default writes every request line (with its query string) to stderr.
        LOGGER.debug("%s %s", self.command, urlsplit(self.path).path)
