"""What the authorization of a request needs to know about existing resources (their tags, owners,
roles, resource-based policies), read from moto's in-process backends: a lookup must not itself be a
signed request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local.endpoint.policy import statements


class Facts:
    def __init__(self, account: str) -> None:
        self.account = account
        # resource ARN (queue, topic, bucket, secret) -> the ARN of the customer managed KMS key that
        # encrypts it, as the deployer read it from the template: callers need that key too.
        self.encryption: dict[str, str] = {}
        # Tags of resources a fake keeps (export tasks), for ec2:ResourceTag conditions.
        self.tag_sources: list[Callable[[str], dict[str, str] | None]] = []

    def resource_policy(self, arn: str) -> list[dict[str, Any]] | None:
        """The statements of the resource-based policy on `arn`; None when it has none or its service's
        policies are not modelled yet (SQS queue policies are; add a reader per service here)."""
        parts = arn.split(":", 5)
        reader = {"sqs": self._queue_policy}.get(parts[2]) if len(parts) == 6 else None
        document = reader(parts[3], parts[4], parts[5]) if reader else None
        return statements([document]) if document else None

    @staticmethod
    def _queue_policy(region: str, account: str, name: str) -> str | None:
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[account][region].queues.get(name)
        return getattr(queue, "policy", None)

    def _ec2(self, region: str) -> Any:
        from moto.ec2.models import ec2_backends

        return ec2_backends[self.account][region]

    def ec2_tags(self, region: str, resource_id: str) -> dict[str, str]:
        for source in self.tag_sources:
            found = source(resource_id)
            if found is not None:
                return found
        return dict(self._ec2(region).tags.get(resource_id, {}))

    def image_owner(self, region: str, image_id: str) -> str | None:
        image = self._ec2(region).amis.get(image_id)
        if image is None:
            return None
        # Amazon's public images are owned by the alias "amazon" for ec2:Owner.
        return "amazon" if getattr(image, "owner_alias", None) == "amazon" else str(image.owner_id)

    def profile_roles(self, profile: dict[str, Any]) -> list[str]:
        from moto.iam.models import iam_backends

        backend = iam_backends[self.account]["aws"]
        name = profile.get("Name") or str(profile.get("Arn", "")).rsplit("/", 1)[-1]
        try:
            return [role.arn for role in backend.get_instance_profile(name).roles]
        except Exception:  # noqa: BLE001 - an unknown profile: EC2 itself refuses the launch
            return []

    def secret_arn(self, region: str, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        from moto.secretsmanager.models import secretsmanager_backends

        backend = secretsmanager_backends[self.account][region]
        for secret in backend.secrets.values():
            if getattr(secret, "name", None) == secret_id:
                return str(secret.arn)
        return f"arn:aws:secretsmanager:{region}:{self.account}:secret:{secret_id}"

    def role_trust_policy(self, role_arn: str) -> str | None:
        from moto.iam.models import iam_backends

        try:
            return str(iam_backends[self.account]["aws"].get_role_by_arn(role_arn).assume_role_policy_document)
        except Exception:  # noqa: BLE001 - unknown role
            return None
