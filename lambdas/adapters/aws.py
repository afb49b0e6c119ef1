"""boto3 clients, created lazily and once per process.

Lazy creation keeps cold starts small (a handler pays only for the clients it uses). boto3 honours
AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, which is how the local cloud points every client at
its moto server without code changes.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling; a bounded connect/read timeout stops a hung call from
# eating the whole function timeout.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
# SigV4 for S3 presigned links (SigV2 is deprecated and would put the access key id in the URL).
_SERVICE_CONFIG = {"s3": _CONFIG.merge(Config(signature_version="s3v4"))}


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_SERVICE_CONFIG.get(service, _CONFIG))


@cache
def dynamodb_resource() -> Any:
    return boto3.session.Session().resource("dynamodb", config=_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests switch moto backends and credentials between cases)."""
    client.cache_clear()
    dynamodb_resource.cache_clear()
