"""boto3 clients, created lazily and once per process.

Lazy creation keeps cold starts small (a handler pays only for the clients it uses). boto3 honours
AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, which is how the local cloud points every client at
its moto server without code changes.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

# Standard retry mode backs off on throttling; a bounded connect/read timeout stops a hung call from
# eating the whole function timeout.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
# SigV4 for S3 presigned links (SigV2 is deprecated and would put the access key id in the URL).
_SERVICE_CONFIG = {"s3": _CONFIG.merge(Config(signature_version="s3v4"))}


def client(service: str) -> Any:
    return _client(service, _credentials_in_use())


def dynamodb_resource() -> Any:
    return _dynamodb_resource(_credentials_in_use())


def _credentials_in_use() -> str:
    # On Lambda the execution role's credentials are fixed for the process; the local cloud runs
    # every function in one process and swaps them per invocation, so clients are kept per key.
    return os.environ.get("AWS_ACCESS_KEY_ID", "")


@cache
def _service_models() -> Any:
    """One reader of the AWS service models per process, shared by every session: a new session would
    read a service's model files again (about 70 ms a client instead of about 10)."""
    return botocore.session.get_session().get_component("data_loader")


def new_session(**kwargs: Any) -> boto3.session.Session:
    """A boto3 session (kwargs: credentials, region) that reads service models from the shared reader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _service_models())
    return boto3.session.Session(botocore_session=core, **kwargs)


@cache
def _client(service: str, _access_key_id: str) -> Any:
    return new_session().client(service, config=_SERVICE_CONFIG.get(service, _CONFIG))


@cache
def _dynamodb_resource(_access_key_id: str) -> Any:
    return new_session().resource("dynamodb", config=_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests switch moto backends and credentials between cases)."""
    _client.cache_clear()
    _dynamodb_resource.cache_clear()
