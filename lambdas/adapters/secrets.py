"""Secrets Manager reads, cached for the life of the container (one call per cold start)."""

from __future__ import annotations

from functools import cache

from lambdas.adapters.aws import client


@cache
def secret_bytes(secret_id: str) -> bytes:
    return client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"].encode()
