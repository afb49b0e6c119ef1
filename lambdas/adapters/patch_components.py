"""The S3 bucket operators upload patch component documents to."""

from __future__ import annotations

from botocore.exceptions import ClientError

from lambdas.adapters.aws import client


class PatchComponents:
    def exists(self, bucket: str, key: str) -> bool:
        try:
            client("s3").head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound", "403"}:
                return False
            raise
        return True
