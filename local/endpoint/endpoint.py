"""The local AWS endpoint: every request is authenticated, authorized against the caller's own IAM
policies and the resource's own policy where one is modelled (local/endpoint/facts.py), and answered
by a fake (what moto lacks or gets wrong) or by moto. The administrator is checked against neither.

    endpoint = LocalEndpoint(account=..., fakes=fake_registry)
    serve_through(moto_server, endpoint)        # server mode: a WSGI middleware in moto's server
    endpoint.install_in_process()               # decorator mode (mock_aws): a botocore before-send hook

Both modes parse the HTTP request the SDK sent, so any client (boto3, the AWS CLI, Terraform) sees
the same answers as the app's functions. Denials answer with the service's own error code
(AccessDenied, AccessDeniedException, UnauthorizedOperation, AuthorizationError) and the AWS message
naming the principal, the action and the resource; each is also kept in `denials` for tests and stats.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.endpoint import wire
from local.endpoint.facts import Facts
from local.endpoint.policy import Caller, Decision, evaluate_request
from local.endpoint.principals import Principal, Principals
from local.endpoint.resources import Check, Resolver
from local.endpoint.wire import AwsCall, HttpRequest, HttpResponse
from local.fakes.hooks import FakeAws, FakeError

LOGGER = logging.getLogger("local.endpoint")
Forward = Callable[[HttpRequest], HttpResponse | None]

# What each service answers for a denied request (status, code).
_DENIED = {"ec2": (403, "UnauthorizedOperation"), "s3": (403, "AccessDenied"), "sqs": (400, "AccessDenied"),
           "sns": (403, "AuthorizationError"), "iam": (403, "AccessDenied"), "sts": (403, "AccessDenied"),
           "lambda": (403, "AccessDeniedException"), "imagebuilder": (403, "AccessDeniedException"),
           "inspector2": (403, "AccessDeniedException")}
_UNKNOWN_KEY = {"ec2": (401, "AuthFailure"), "s3": (403, "InvalidAccessKeyId"), "sts": (403, "InvalidClientTokenId"),
                "iam": (403, "InvalidClientTokenId"), "sns": (403, "InvalidClientTokenId")}
_ALWAYS_ALLOWED = {("sts", "GetCallerIdentity")}  # needs no permission in AWS either
_ORIGINAL_STUBBER: dict[str, Any] = {}


@dataclass(frozen=True)
class Denial:
    principal: str
    action: str
    resource: str


class LocalEndpoint:
    def __init__(self, *, account: str, fakes: FakeAws | None = None, admin_keys: set[str] | None = None,
                 unknown_keys_are_admin: bool = False) -> None:
        self.account = account
        self.fakes = fakes
        self.principals = Principals(account, admin_keys, unknown_keys_are_admin=unknown_keys_are_admin)
        self.resolver = Resolver(Facts(account))
        self.denials: list[Denial] = []
        self._lock = threading.Lock()

    # ----- the request path -------------------------------------------------------------------------
    def handle(self, request: HttpRequest, forward: Forward) -> HttpResponse | None:
        try:
            call = wire.parse(request)
        except wire.WireError as exc:
            return self._unparsed(request, str(exc), forward)
        if call is None:
            return forward(request)
        protocol = call.service_model.protocol
        principal = self.principals.resolve(call.access_key_id)
        if principal is None:
            status, code = _UNKNOWN_KEY.get(call.service, (400, "UnrecognizedClientException"))
            return wire.error(protocol, code, "The security token included in the request is invalid.", status,
                              query_compatible=call.service == "sqs")
        denied = None if principal.admin else self._denied(call, principal)
        if denied is not None:
            return denied
        return self._answer(call, request, forward)

    def _unparsed(self, request: HttpRequest, problem: str, forward: Forward) -> HttpResponse | None:
        scope = wire.signature_scope(request)
        if scope is None:
            return wire.error("rest-xml", "AccessDenied", "The local cloud requires signed requests (SigV4).", 403)
        principal = self.principals.resolve(scope[0])
        if principal is not None and principal.admin:
            return forward(request)  # an operation this botocore does not know: moto may still
        return wire.error("json", "UnrecognizedClientException" if principal is None else "AccessDeniedException",
                          f"The local cloud cannot authorize this request ({problem}).", 400 if principal is None else 403)

    def _denied(self, call: AwsCall, principal: Principal) -> HttpResponse | None:
        if (call.service, call.operation) in _ALWAYS_ALLOWED:
            return None
        checks = self.resolver.checks(call)
        if call.operation == "AssumeRole" and not self._trusts(call.params.get("RoleArn", ""), principal):
            checks = [Check("sts:AssumeRole", call.params.get("RoleArn", ""), {"trust": ["denied"]})]
            return self._deny(call, principal, checks[0], Decision(False))
        global_context = {"aws:principalarn": [principal.principal_arn], "aws:principalaccount": [principal.account]}
        caller, facts = Caller(principal.names, principal.account), self.resolver.facts
        for check in checks:
            decision = evaluate_request(
                list(principal.statements), facts.resource_policy(check.resource), caller, check.action, check.resource,
                {**global_context, **check.context}, resource_account=_account_of(check.resource) or principal.account,
            )
            if not decision.allowed:
                return self._deny(call, principal, check, decision)
        return None

    def _trusts(self, role_arn: str, principal: Principal) -> bool:
        """A role's trust policy must name the caller (or its account) for AssumeRole."""
        from local.endpoint.policy import statements

        document = self.resolver.facts.role_trust_policy(role_arn)
        if document is None:
            return False
        for statement in statements([document]):
            aws = (statement.get("Principal") or {}).get("AWS", []) if isinstance(statement.get("Principal"), dict) else []
            names = aws if isinstance(aws, list) else [aws]
            caller_role = f"arn:aws:iam::{principal.account}:role/{principal.role_name}" if principal.role_name else principal.arn
            if statement.get("Effect") == "Allow" and any(
                    n in (caller_role, principal.arn, principal.account, f"arn:aws:iam::{principal.account}:root") for n in names):
                return True
        return False

    def _deny(self, call: AwsCall, principal: Principal, check: Check, decision: Decision) -> HttpResponse:
        why = (f"with an explicit deny in a {decision.policy_type} policy" if decision.explicit_deny
               else f"because no {decision.policy_type} policy allows the {check.action} action")
        message = f"User: {principal.arn} is not authorized to perform: {check.action} on resource: {check.resource} {why}"
        if call.service == "ec2":
            message = f"You are not authorized to perform this operation. {message}"
        with self._lock:
            self.denials.append(Denial(principal.arn, check.action, check.resource))
        LOGGER.warning("denied: %s", message)
        status, code = _DENIED.get(call.service, (400, "AccessDeniedException"))
        return wire.error(call.service_model.protocol, code, message, status, query_compatible=call.service == "sqs")

    def _answer(self, call: AwsCall, request: HttpRequest, forward: Forward) -> HttpResponse | None:
        fakes = self.fakes
        if fakes is None:
            return forward(request)
        try:
            output = fakes.answer(call.service, call.operation, call.params)
        except FakeError as exc:
            return wire.error(call.service_model.protocol, exc.code, exc.message, exc.status,
                              query_compatible=call.service == "sqs")
        if output is not None:
            return wire.respond(call, output)
        response = forward(request)
        amend = fakes.amender(call.service, call.operation)
        if amend is None or response is None or response.status >= 300:
            return response
        parsed = wire.parse_output(call, response)
        parsed.pop("ResponseMetadata", None)
        amend(call.params, parsed)
        return wire.respond(call, parsed)

    # ----- decorator mode -----------------------------------------------------------------------------
    def install_in_process(self) -> None:
        """Route mock_aws's in-process requests through this endpoint: moto's stubber is called for
        every botocore request of every session (botocore emits before-send to all handlers), so the
        endpoint takes the stubber's place and calls it for what moto answers."""
        from moto.core.botocore_stubber import BotocoreStubber

        endpoint = self
        original = _ORIGINAL_STUBBER.setdefault("call", BotocoreStubber.__call__)

        def routed(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            if not stubber.enabled:
                return original(stubber, event_name, request, **kwargs)
            return endpoint._in_process(request, stubber)

        BotocoreStubber.__call__ = routed  # type: ignore[method-assign]

    def uninstall(self) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        if "call" in _ORIGINAL_STUBBER:
            BotocoreStubber.__call__ = _ORIGINAL_STUBBER["call"]  # type: ignore[method-assign]

    def _in_process(self, prepared: Any, stubber: Any) -> Any:
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse

        request = HttpRequest.of(prepared.method, prepared.url, prepared.headers, prepared.body)
        prepared.body = request.body  # read once: a streamed body (S3 uploads) cannot be read twice

        def forward(_: HttpRequest) -> HttpResponse | None:
            answered = stubber.process_request(prepared)
            if answered is None:
                return None
            status, headers, body = answered
            return HttpResponse(int(status), dict(headers), body.encode() if isinstance(body, str) else body)

        response = self.handle(request, forward)
        if response is None:
            return None
        return AWSResponse(prepared.url, response.status, response.headers, MockRawResponse(response.body))


def wsgi_middleware(app: Any, endpoint: LocalEndpoint) -> Callable[..., Any]:
    """Wrap moto's WSGI application: every request passes the endpoint first."""
    import io

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            body = environ["wsgi.input"].read(length)
        elif environ.get("wsgi.input_terminated"):  # a chunked upload, already de-chunked by the server
            body = environ["wsgi.input"].read()
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(name):
                headers[name.replace("_", "-").lower()] = environ[name]
        query = environ.get("QUERY_STRING", "")
        url = f"http://{environ.get('HTTP_HOST', 'localhost')}{environ.get('PATH_INFO', '/')}{'?' + query if query else ''}"
        request = HttpRequest(environ["REQUEST_METHOD"], url, headers, body)
        passed: dict[str, Any] = {}

        def forward(_: HttpRequest) -> HttpResponse | None:
            passed["through"] = True
            captured: dict[str, Any] = {}

            def capture(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                captured.update(status=int(status.split()[0]), headers=dict(response_headers))
                return lambda data: None

            environ["wsgi.input"] = io.BytesIO(body)
            chunks = b"".join(app(environ, capture))
            return HttpResponse(captured["status"], captured["headers"], chunks)

        response = endpoint.handle(request, forward)
        if response is None:
            response = HttpResponse(404, {"Content-Type": "text/plain"}, b"not served by the local cloud")
        headers_out = [(k, v) for k, v in response.headers.items() if k.lower() not in ("content-length", "transfer-encoding")]
        headers_out.append(("Content-Length", str(len(response.body))))
        start_response(f"{response.status} {'OK' if response.status < 400 else 'Error'}", headers_out)
        return [response.body]

    return middleware


def _account_of(arn: str) -> str:
    """The account field of an ARN (empty for S3 and for "*")."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""
