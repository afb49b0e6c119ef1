"""HTTP calls to the orchestrator API: urllib, bounded timeouts, the API key in the x-api-key header only.

The key never goes into a URL, a message or a log line. Redirects are refused (urllib would forward the
x-api-key header to wherever the redirect points), and a key is sent over plain http only to a
loopback address (the local cloud).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from client.deployment import is_loopback_url

from .errors import ApiError, TransportError, UsageError

DEFAULT_TIMEOUT = 30.0
USER_AGENT = "ami-lc-api-cli/1.0"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None  # the 3xx response is raised as an HTTPError instead


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any  # parsed JSON, or text


def check_endpoint(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise UsageError(f"endpoint '{endpoint}' is not an http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError("the endpoint must be a plain stage URL, without credentials, query or fragment")
    if parts.scheme == "http" and not is_loopback_url(endpoint):
        raise UsageError(f"refusing to send an API key over plain http to {parts.hostname}; use https")
    return endpoint.rstrip("/")


class ApiClient:
    def __init__(self, endpoint: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.endpoint = check_endpoint(endpoint)
        self.timeout = timeout
        handlers: list[Any] = [_NoRedirect()]
        if is_loopback_url(self.endpoint):
            handlers.append(urllib.request.ProxyHandler({}))  # never through a proxy to 127.0.0.1
        self._opener = urllib.request.build_opener(*handlers)

    def url(self, path: str, query: dict[str, str] | None = None) -> str:
        """The URL of an API path (never carries a key)."""
        return self.endpoint + quote(path, safe="/-_.~") + (f"?{urlencode(query)}" if query else "")

    def call(
        self, method: str, path: str, *, key: str, body: Any = None, query: dict[str, str] | None = None
    ) -> ApiResponse:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url(path, query), data=data, method=method)
        request.add_header("x-api-key", key)
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", USER_AGENT)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        where = f"{method} {path}"
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return ApiResponse(response.status, _parse(response.read(), response.headers.get("Content-Type")))
        except urllib.error.HTTPError as exc:
            with exc:
                payload = _parse(exc.read(), exc.headers.get("Content-Type") if exc.headers else None)
            if 300 <= exc.code < 400:
                raise TransportError(f"{where}: unexpected redirect ({exc.code}); check the endpoint") from None
            raise _api_error(exc.code, payload) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransportError(f"{where}: cannot reach {urlsplit(self.endpoint).netloc}: {reason}") from None


def _parse(raw: bytes, content_type: str | None) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if content_type and "json" not in content_type.lower():
        return text
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _api_error(status: int, payload: Any) -> ApiError:
    if isinstance(payload, dict):
        message = payload.get("message") or payload.get("Message") or json.dumps(payload)
        return ApiError(status, payload.get("error"), str(message))
    text = str(payload or "").strip().splitlines()
    return ApiError(status, None, text[0][:300] if text else "(empty response)")
