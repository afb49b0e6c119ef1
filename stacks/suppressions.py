"""Per-resource checkov suppressions. checkov.yaml has no global skip list: each finding that does not
apply is waived on the one resource it concerns, with the reason written next to it."""

from __future__ import annotations

from aws_cdk import CfnResource
from constructs import IConstruct


def suppress_checkov(construct: IConstruct, *checks: tuple[str, str]) -> None:
    """Add `Metadata.checkov.skip` entries (check id, reason) to the construct's CloudFormation resource.

    `construct` is an L1 resource or an L2 whose default child is one. Repeated calls accumulate.
    """
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to attach a suppression to")
    if not checks:
        raise ValueError("suppress_checkov needs at least one (check id, reason) pair")
    for check_id, reason in checks:
        if not reason.strip():
            raise ValueError(f"suppression of {check_id} on {construct.node.path} needs a reason")
    metadata = resource.get_metadata("checkov") or {}
    skips = [*metadata.get("skip", []), *({"id": check_id, "comment": reason} for check_id, reason in checks)]
    resource.add_metadata("checkov", {**metadata, "skip": skips})
