"""AWS wire protocols, server side: an HTTP request becomes (service, operation, parameters), and an
operation's output or error becomes the HTTP response an SDK expects.

botocore ships the service models and client-side serializers/parsers only; the local endpoint needs
the other direction, for every protocol the app's clients use (json, rest-json, query, ec2,
rest-xml). Parameters are decoded by walking the operation's input shape, so they have the types the
API reference gives them (timestamps become datetimes, integers ints, blobs bytes).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

# Credential-scope names (SigV4 signing names) that differ from botocore's service names.
_SIGNING_TO_SERVICE = {"states": "stepfunctions", "monitoring": "cloudwatch", "email": "ses"}
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"


class WireError(Exception):
    """A request the endpoint cannot map to an operation (answered like AWS answers it)."""


@dataclass
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @classmethod
    def of(cls, method: str, url: str, headers: Any, body: Any) -> HttpRequest:
        """From what an HTTP stack hands over (header values and body as str, bytes or a stream)."""
        if hasattr(body, "read"):
            position = body.tell() if hasattr(body, "tell") else None
            data = body.read()
            if position is not None and hasattr(body, "seek"):
                body.seek(position)
            body = data
        if isinstance(body, str):
            body = body.encode()

        def text(value: Any) -> str:
            return value.decode() if isinstance(value, bytes) else str(value)

        return cls(method.upper(), url, {text(k).lower(): text(v) for k, v in headers.items()}, body or b"")

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.url).query, keep_blank_values=True)


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class AwsCall:
    service: str  # botocore's name, e.g. "stepfunctions"
    operation: str  # e.g. "StartExecution"
    params: dict[str, Any]
    region: str
    access_key_id: str | None
    model: OperationModel = field(repr=False)

    @property
    def service_model(self) -> ServiceModel:
        return self.model.service_model


@cache
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def signature_scope(request: HttpRequest) -> tuple[str, str, str] | None:
    """(access key id, region, signing name) of a SigV4-signed request (header or presigned query)."""
    found = _CREDENTIAL.search(request.headers.get("authorization", ""))
    if found:
        return found.group(1), found.group(2), found.group(3)
    credential = request.query.get("X-Amz-Credential", [""])[0]
    parts = credential.split("/")
    if len(parts) == 5:
        return parts[0], parts[2], parts[3]
    return None


def parse(request: HttpRequest) -> AwsCall | None:
    """The AWS call a request makes, or None for what is not an AWS API call (moto's own /moto-api)."""
    if request.path.startswith("/moto-api"):
        return None
    scope = signature_scope(request)
    if scope is None:
        raise WireError("MissingAuthenticationToken")
    access_key_id, region, signing_name = scope
    service = _SIGNING_TO_SERVICE.get(signing_name, signing_name)
    try:
        model = service_model(service)
    except Exception as exc:  # noqa: BLE001 - an unknown service is the caller's error
        raise WireError(f"UnknownService:{signing_name}") from exc
    operation, params = _PARSERS.get(model.protocol, _parse_unknown)(model, request)
    return AwsCall(service, operation.name, params, region, access_key_id, operation)


# ----- request parsing -------------------------------------------------------------------------------


def _parse_json(model: ServiceModel, request: HttpRequest) -> tuple[OperationModel, dict[str, Any]]:
    target = request.headers.get("x-amz-target", "")
    name = target.rsplit(".", 1)[-1]
    if name not in model.operation_names:
        raise WireError(f"UnknownOperation:{target}")
    operation = model.operation_model(name)
    body = json.loads(request.body or b"{}")
    return operation, _decode(operation.input_shape, body) if operation.input_shape else {}


def _form(request: HttpRequest) -> dict[str, str]:
    pairs = parse_qs(request.body.decode() if request.body else "", keep_blank_values=True)
    pairs.update(request.query)
    return {key: values[0] for key, values in pairs.items()}


def _parse_query(model: ServiceModel, request: HttpRequest) -> tuple[OperationModel, dict[str, Any]]:
    form = _form(request)
    name = form.get("Action", "")
    if name not in model.operation_names:
        raise WireError(f"UnknownOperation:{name}")
    operation = model.operation_model(name)
    ec2 = model.protocol == "ec2"
    params = _unflatten(operation.input_shape, form, "", ec2) if operation.input_shape else {}
    return operation, params or {}


def _query_name(member: Shape, name: str, ec2: bool) -> str:
    if ec2:
        if "queryName" in member.serialization:
            return member.serialization["queryName"]
        location = member.serialization.get("name")
        return location[0].upper() + location[1:] if location else name
    return member.serialization.get("name", name)


def _unflatten(shape: Shape, form: dict[str, str], prefix: str, ec2: bool) -> Any:
    if shape.type_name == "structure":
        result = {}
        for name, member in shape.members.items():
            key = f"{prefix}.{_query_name(member, name, ec2)}" if prefix else _query_name(member, name, ec2)
            value = _unflatten(member, form, key, ec2)
            if value is not None:
                result[name] = value
        return result if result or not prefix else None
    if shape.type_name == "list":
        item = shape.member
        if ec2 or shape.serialization.get("flattened"):
            base = prefix
        else:
            base = f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        items, index = [], 1
        while any(k == f"{base}.{index}" or k.startswith(f"{base}.{index}.") for k in form):
            items.append(_unflatten(item, form, f"{base}.{index}", ec2))
            index += 1
        return items if items else None
    if shape.type_name == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        entries, index = {}, 1
        while f"{prefix}.entry.{index}.{key_name}" in form:
            entry = f"{prefix}.entry.{index}"
            entries[form[f"{entry}.{key_name}"]] = _unflatten(shape.value, form, f"{entry}.{value_name}", ec2)
            index += 1
        return entries or None
    if prefix not in form:
        return None
    return _scalar(shape, form[prefix])


def _match_uri(template: str, path: str, query: dict[str, list[str]]) -> dict[str, str] | None:
    """Path parameters of a request URI template such as /{Bucket}/{Key+}?tagging, or None."""
    path_template, _, query_template = template.partition("?")
    for literal in filter(None, query_template.split("&")):
        name, _, value = literal.partition("=")
        if name not in query or (value and query[name][0] != value):
            return None
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", path_template):
        if part.startswith("{"):
            name = part[1:-1]
            greedy = name.endswith("+")
            pattern += f"(?P<{re.sub(r'[^A-Za-z0-9_]', '_', name.rstrip('+'))}>{'.+' if greedy else '[^/]+'})"
        else:
            pattern += re.escape(part)
    found = re.fullmatch(pattern.rstrip("/") + "/?", path) or re.fullmatch(pattern, path)
    return dict(found.groupdict()) if found else None


_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+?)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$")


def _rest_path(model: ServiceModel, request: HttpRequest) -> str:
    """The request path; for S3's virtual-hosted style (bucket.s3.amazonaws.com/key), /bucket/key."""
    path = unquote(request.path) if model.protocol == "rest-xml" else request.path
    if model.endpoint_prefix == "s3":
        found = _VIRTUAL_HOST.match(urlsplit(request.url).hostname or "")
        if found:
            return f"/{found.group('bucket')}{path}"
    return path


def _parse_rest(model: ServiceModel, request: HttpRequest) -> tuple[OperationModel, dict[str, Any]]:
    query = request.query
    path = _rest_path(model, request)
    candidates = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        if operation.http.get("method") != request.method:
            continue
        uri = operation.http.get("requestUri", "/")
        labels = _match_uri(uri, path, query)
        if labels is not None and _required_headers_present(operation, request.headers):
            # The most specific template wins: most literal characters, then query literals.
            literal = len(re.sub(r"\{[^}]+\}", "", uri))
            candidates.append((literal, uri.count("?"), operation, labels))
    if not candidates:
        raise WireError(f"UnknownOperation:{request.method} {path}")
    _, _, operation, labels = max(candidates, key=lambda c: (c[0], c[1]))
    if model.protocol != "rest-xml":  # (S3's path was unquoted before matching: keys hold "/")
        labels = {k: unquote(v) for k, v in labels.items()}
    return operation, _rest_params(operation, request, labels)


def _required_headers_present(operation: OperationModel, headers: dict[str, str]) -> bool:
    """PutObject and CopyObject share a URI; CopyObject's required x-amz-copy-source tells them apart."""
    shape = operation.input_shape
    if shape is None:
        return True
    return all(
        shape.members[name].serialization.get("name", name).lower() in headers
        for name in shape.required_members
        if shape.members[name].serialization.get("location") == "header"
    )


def _rest_params(operation: OperationModel, request: HttpRequest, labels: dict[str, str]) -> dict[str, Any]:
    shape = operation.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    body: dict[str, Any] = {}
    if model_protocol(operation) == "rest-json" and request.body and not shape.serialization.get("payload"):
        try:
            body = json.loads(request.body)
        except ValueError:
            body = {}
    query, headers = request.query, request.headers
    for name, member in shape.members.items():
        location, wire_name = member.serialization.get("location"), member.serialization.get("name", name)
        if location == "uri":
            value = labels.get(re.sub(r"[^A-Za-z0-9_]", "_", wire_name))
            params[name] = _scalar(member, value) if value is not None else None
        elif location == "querystring":
            if wire_name in query:
                values = query[wire_name]
                params[name] = [_scalar(member.member, v) for v in values] if member.type_name == "list" else _scalar(member, values[0])
        elif location == "header":
            if wire_name.lower() in headers:
                params[name] = _scalar(member, headers[wire_name.lower()])
        elif location == "headers":
            prefix = wire_name.lower()
            params[name] = {k[len(prefix):]: v for k, v in headers.items() if k.startswith(prefix)}
        elif shape.serialization.get("payload") == name:
            params[name] = request.body if member.type_name in ("blob", "string") else _payload(member, request.body)
        elif wire_name in body:
            params[name] = _decode(member, body[wire_name])
    return {k: v for k, v in params.items() if v is not None}


def _payload(shape: Shape, body: bytes) -> Any:
    if not body:
        return None
    try:
        return _decode(shape, json.loads(body))
    except ValueError:
        return None  # an XML payload (S3 configuration documents): not needed by the checks


def model_protocol(operation: OperationModel) -> str:
    return operation.service_model.protocol


def _parse_unknown(model: ServiceModel, request: HttpRequest) -> tuple[OperationModel, dict[str, Any]]:
    raise WireError(f"UnsupportedProtocol:{model.protocol}")


_PARSERS = {"json": _parse_json, "query": _parse_query, "ec2": _parse_query, "rest-json": _parse_rest, "rest-xml": _parse_rest}


def _scalar(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if value is None:
        return None
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind == "timestamp":
        return _timestamp(value)
    if kind == "blob":
        return value if isinstance(value, bytes) else base64.b64decode(value)
    return value


def _timestamp(value: Any) -> datetime:
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value)):
        return datetime.fromtimestamp(float(value), UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _decode(shape: Shape, value: Any) -> Any:
    """JSON-protocol value -> the Python type of its shape."""
    if value is None:
        return None
    if shape.type_name == "structure" and isinstance(value, dict):
        by_wire = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()}
        return {by_wire[k][0]: _decode(by_wire[k][1], v) for k, v in value.items() if k in by_wire}
    if shape.type_name == "list" and isinstance(value, list):
        return [_decode(shape.member, v) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _decode(shape.value, v) for k, v in value.items()}
    return _scalar(shape, value)


# ----- responses -------------------------------------------------------------------------------------


def _encode_json(shape: Shape | None, value: Any) -> Any:
    if shape is None or value is None:
        return value
    if shape.type_name == "structure":
        return {
            m.serialization.get("name", n): _encode_json(m, value[n])
            for n, m in shape.members.items() if n in value and value[n] is not None
        }
    if shape.type_name == "list":
        return [_encode_json(shape.member, v) for v in value]
    if shape.type_name == "map":
        return {k: _encode_json(shape.value, v) for k, v in value.items()}
    if shape.type_name == "timestamp":
        return (value if isinstance(value, datetime) else _timestamp(value)).timestamp()
    if shape.type_name == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    return value


def _xml_scalar(shape: Shape, value: Any) -> str:
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp":
        stamp = value if isinstance(value, datetime) else _timestamp(value)
        return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if shape.type_name == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    return escape(str(value))


def _encode_xml(shape: Shape, value: Any, ec2: bool) -> str:
    if shape.type_name == "structure":
        out = []
        for name, member in shape.members.items():
            if name not in value or value[name] is None:
                continue
            tag = member.serialization.get("name", name)
            if member.type_name == "list" and (member.serialization.get("flattened") and not ec2):
                item_tag = member.member.serialization.get("name", tag)
                out += [f"<{item_tag}>{_encode_xml(member.member, v, ec2)}</{item_tag}>" for v in value[name]]
            else:
                out.append(f"<{tag}>{_encode_xml(member, value[name], ec2)}</{tag}>")
        return "".join(out)
    if shape.type_name == "list":
        item_tag = shape.member.serialization.get("name", "item" if ec2 else "member")
        return "".join(f"<{item_tag}>{_encode_xml(shape.member, v, ec2)}</{item_tag}>" for v in value)
    if shape.type_name == "map":
        return "".join(
            f"<entry><key>{escape(str(k))}</key><value>{_encode_xml(shape.value, v, ec2)}</value></entry>"
            for k, v in value.items()
        )
    return _xml_scalar(shape, value)


def respond(call: AwsCall, output: dict[str, Any]) -> HttpResponse:
    """The HTTP response of a successful call with this output (botocore's output shape)."""
    operation, protocol = call.model, call.service_model.protocol
    shape = operation.output_shape
    request_id = str(uuid.uuid4())
    if protocol in ("json", "rest-json"):
        headers = {"Content-Type": "application/x-amz-json-1.1" if protocol == "json" else "application/json",
                   "x-amzn-RequestId": request_id}
        body_value = dict(output)
        if shape is not None and protocol == "rest-json":
            for name, member in shape.members.items():
                if member.serialization.get("location") == "header" and name in body_value:
                    headers[member.serialization.get("name", name)] = str(body_value.pop(name))
        status = int(operation.http.get("responseCode", 200))
        return HttpResponse(status, headers, json.dumps(_encode_json(shape, body_value) or {}).encode())
    inner = _encode_xml(shape, output, protocol == "ec2") if shape is not None else ""
    if protocol == "ec2":
        body = f'<{call.operation}Response xmlns="{_EC2_XMLNS}"><requestId>{request_id}</requestId>{inner}</{call.operation}Response>'
    else:
        body = (f"<{call.operation}Response><{call.operation}Result>{inner}</{call.operation}Result>"
                f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{call.operation}Response>")
    return HttpResponse(200, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode())


def error(protocol: str, code: str, message: str, status: int = 400, *, query_compatible: bool = False) -> HttpResponse:
    """An error response in the protocol's own format (what botocore's parser reads as Error.Code)."""
    request_id = str(uuid.uuid4())
    if protocol in ("json", "rest-json", "unknown"):
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id,
                   "x-amzn-ErrorType": code}
        if query_compatible:
            headers["x-amzn-query-error"] = f"{code};Sender"
        return HttpResponse(status, headers, json.dumps({"__type": code, "message": message, "Message": message}).encode())
    text = escape(message)
    if protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{text}</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>")
    elif protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{text}</Message><RequestId>{request_id}</RequestId></Error>"
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{text}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return HttpResponse(status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode())


def parse_output(call: AwsCall, response: HttpResponse) -> dict[str, Any]:
    """A (moto) response parsed back into the operation's output, as a client would see it."""
    from botocore.parsers import create_parser

    parser = create_parser(call.service_model.protocol)
    return parser.parse({"status_code": response.status, "headers": response.headers, "body": response.body},
                        call.model.output_shape)
