"""Image Builder steps shared by the build and patch workflows."""

from __future__ import annotations

from typing import Any

from lambdas.adapters import image_builder_gateway as image_builder
from lambdas.domain.contracts import AmiRef, BuildOutputs, ImageBuilderDetails
from lambdas.steps.common import require, verdict
from lambdas.steps.errors import ImageBuildFailed


def start_pipeline(event: dict[str, Any]) -> dict[str, Any]:
    pipeline_arn, execution_name = require(event, "pipeline_arn", "execution_name")
    return {"image_arn": image_builder.start_pipeline(pipeline_arn, seed=execution_name)}


def image_details(event: dict[str, Any]) -> dict[str, Any]:
    image_arn, region = require(event, "image_arn", "region")
    image = image_builder.get_image(image_arn)
    ami = next((a for a in image["amis"] if a.get("region") == region), None)
    if image["status"] != "AVAILABLE" or ami is None:
        raise ImageBuildFailed(f"image {image['status']} without an AMI in {region}")
    outputs = BuildOutputs(
        ami=AmiRef(ami_id=ami["image"], region=region, name=ami.get("name"), semver=event.get("semver")),
        image_builder=ImageBuilderDetails(
            image_arn=image_arn,
            recipe_arn=image["recipe_arn"],
            recipe_name=image["recipe_name"],
            pipeline_arn=image["pipeline_arn"],
            components=image["components"],
        ),
    )
    return verdict("COMPLETED", outputs.model_dump(mode="json"))


def cancel_build(event: dict[str, Any]) -> dict[str, Any]:
    """Error path: stop a build still running so it does not produce an orphan AMI."""
    image_arn = event.get("image_arn")
    if not image_arn:
        return {"cancelled": False}
    status = image_builder.get_image(image_arn)["status"]
    return {"cancelled": status in image_builder.IN_PROGRESS and image_builder.cancel_image(image_arn)}


def failed_verdict(event: dict[str, Any]) -> dict[str, Any]:
    """The FAILED verdict of an image Image Builder gave up on, with Image Builder's own reason."""
    (image_arn,) = require(event, "image_arn")
    image = image_builder.get_image(image_arn)
    reason = f"image build {image['status']}: {image['reason'] or 'no reason given'}"
    return verdict("FAILED", {}, reason)
