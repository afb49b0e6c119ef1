"""moto as a long-running server: the local endpoint in front of it and the patches it needs to
behave as AWS does under concurrent callers."""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit

LOGGER = logging.getLogger("local.server")


def endpoint_server(endpoint: Any) -> Any:
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


def serialize_dynamodb_writes() -> None:
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


def loopback_only_http_delivery() -> None:
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
