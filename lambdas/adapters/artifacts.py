"""Artifacts the workflows leave in S3: the findings report they write, the download link QA gets."""

from __future__ import annotations

import json
from typing import Any

from lambdas.adapters.aws import client


def put_json(bucket: str, key: str, document: Any, kms_key_arn: str) -> str:
    """Write a JSON document encrypted with the deployment key; returns its s3:// URI."""
    client("s3").put_object(
        Bucket=bucket, Key=key, Body=json.dumps(document, default=str, indent=1).encode(),
        ContentType="application/json", ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key_arn,
    )
    return f"s3://{bucket}/{key}"


def presigned_download(bucket: str, key: str, seconds: int) -> str:
    # Signed with the function's role session at request time, so the link is fresh and outlives
    # nothing: ask again for a new one rather than mailing a week-long URL around.
    return str(client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds
    ))
