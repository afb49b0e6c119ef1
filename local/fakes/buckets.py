"""The S3 bucket checks VM Import/Export and the store-image task make before they write."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from local.fakes.hooks import FakeError


def require_bucket(s3: Any, bucket: str, region: str, *, sse_kms_refused: bool) -> None:
    """The bucket must exist in the Region; VM export refuses an SSE-KMS bucket (VM Import/Export User
    Guide, Considerations)."""
    try:
        location = s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] or "us-east-1"
    except ClientError:
        raise FakeError("InvalidParameter", f"The S3 bucket {bucket} does not exist (or is not this account's)") from None
    if location != region:
        raise FakeError("InvalidParameter", f"The S3 bucket {bucket} is in {location}, not in {region}")
    if sse_kms_refused and _default_encryption(s3, bucket) == "aws:kms":
        raise FakeError("InvalidParameter", f"The S3 bucket {bucket} is encrypted with SSE-KMS: VM Import/Export "
                        "exports only to an unencrypted or SSE-S3 encrypted bucket")


def _default_encryption(s3: Any, bucket: str) -> str | None:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError:
        return None
    return rules[0].get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") if rules else None
