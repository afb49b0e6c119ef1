"""Buckets for what the workflows produce: VM exports for QA, AMI backups, Inspector reports, and the
staging bucket of the QA export's store/restore round trip.

All private, TLS-only, with lifecycle expiry; KMS-encrypted with the deployment key except the exports
bucket, which VM Import/Export can only write with SSE-S3 (see below).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks import naming
from stacks.suppressions import suppress_checkov

_NO_ACCESS_LOG = (
    "CKV_AWS_18",
    "Objects are written only by AWS services on behalf of the workflows and read through short-lived "
    "API links; CloudTrail data events are the account-level audit trail, an access-log bucket per "
    "deployment would only duplicate it.",
)


_STAGING_UNVERSIONED = (
    "CKV_AWS_21",
    "Holds a decrypted store-image copy of an AMI only while one QA export runs; versioning would keep that "
    "copy after the workflow deletes it, which is exactly what must not happen.",
)


class ArtifactStore(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, tag: str, key: kms.IKey, retain: bool) -> None:
        super().__init__(scope, construct_id)
        # VM Import/Export writes only to an unencrypted or SSE-S3 bucket, never to SSE-KMS ("Exporting a
        # VM directly from an AMI", considerations): S3-managed keys here, at rest still encrypted.
        self.exports = self._bucket(
            "Exports", None, retain, expire_days=30, bucket_name=naming.artifact_bucket_name(self, tag, "exports")
        )
        self.backups = self._bucket("Backups", key, retain, expire_days=None)
        self.reports = self._bucket("Reports", key, retain, expire_days=365)
        # The QA export stores the released AMI here (`<ami-id>.bin` at the root: the store task names it)
        # and restores an unencrypted copy from it. A bucket of its own, not the exports bucket: the object
        # is a decrypted copy of the whole AMI, which QA must not be able to fetch, and it must really be
        # gone after the run: unversioned (a delete leaves no old version), expiring after a day in case a
        # cleanup could not run.
        self.export_staging = self._bucket("ExportStaging", key, retain=False, expire_days=1, versioned=False)
        suppress_checkov(self.export_staging, _STAGING_UNVERSIONED)
        # VM Import/Export writes the exported disk with this role, named per deployment instead of the
        # account-wide fixed name "vmimport" (which collides with an existing role of that name).
        stack = Stack.of(self)
        self.export_role = iam.Role(
            self,
            "ExportRole",
            role_name=naming.resource_name(tag, f"vmexport-{stack.region}")[:64],
            assumed_by=iam.ServicePrincipal(
                "vmie.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": "vmimport"}}
            ),
            description="VM Import/Export service role: writes exported AMI disk images to the exports bucket",
        )
        self.exports.grant_read_write(self.export_role)
        self.export_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:GetBucketAcl"], resources=[self.exports.bucket_arn]
            )
        )
        self.export_role.add_to_policy(
            iam.PolicyStatement(
                # Describe actions have no resource-level permissions.
                actions=["ec2:DescribeImages", "ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"],
                resources=["*"],
            )
        )
        # No KMS permission: the role reads the unencrypted restored copy and writes an SSE-S3 bucket.

    def _bucket(
        self, name: str, key: kms.IKey | None, retain: bool, expire_days: int | None, bucket_name: str | None = None,
        versioned: bool = True,
    ) -> s3.Bucket:
        abort_after = Duration.days(1 if expire_days == 1 else 7)
        if versioned:
            rules = [s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30), abort_incomplete_multipart_upload_after=abort_after)]
        else:
            rules = [s3.LifecycleRule(abort_incomplete_multipart_upload_after=abort_after)]
        if expire_days:
            rules.append(s3.LifecycleRule(expiration=Duration.days(expire_days)))
        bucket = s3.Bucket(
            self,
            name,
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=key,
            bucket_key_enabled=bool(key),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=versioned,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=rules,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        suppress_checkov(bucket, _NO_ACCESS_LOG)
        return bucket
