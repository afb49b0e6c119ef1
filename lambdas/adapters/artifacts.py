"""Download links to artifacts the workflows leave in S3 (the QA team's exported disk image)."""

from __future__ import annotations

from lambdas.adapters.aws import client


def presigned_download(bucket: str, key: str, seconds: int) -> str:
    # Signed with the function's role session at request time, so the link is fresh and outlives
    # nothing: ask again for a new one rather than mailing a week-long URL around.
    return str(client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds
    ))
