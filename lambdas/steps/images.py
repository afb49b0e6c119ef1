"""Image Builder steps shared by the build and patch workflows."""

from __future__ import annotations

from typing import Any

from lambdas.adapters import image_builder_gateway as image_builder
from lambdas.domain.contracts import AmiRef, BuildOutputs, ImageBuilderDetails
from lambdas.steps.common import NonEmptyStr, StepInput, verdict
from lambdas.steps.errors import ImageBuildFailed


class StartPipelineInput(StepInput):
    pipeline_arn: NonEmptyStr
    execution_name: NonEmptyStr  # the run's idempotency token: a retried start starts nothing new


class ImageInput(StepInput):
    image_arn: NonEmptyStr


class ImageDetailsInput(ImageInput):
    region: NonEmptyStr
    semver: str


class CancelBuildInput(StepInput):
    image_arn: str | None  # always sent; None when the run failed before the pipeline started


def start_pipeline(event: StartPipelineInput) -> dict[str, Any]:
    return {"image_arn": image_builder.start_pipeline(event.pipeline_arn, seed=event.execution_name)}


def image_details(event: ImageDetailsInput) -> dict[str, Any]:
    image_arn, region = event.image_arn, event.region
    image = image_builder.get_image(image_arn)
    ami = next((a for a in image["amis"] if a.get("region") == region), None)
    if image["status"] != "AVAILABLE" or ami is None:
        raise ImageBuildFailed(f"image {image['status']} without an AMI in {region}")
    outputs = BuildOutputs(
        ami=AmiRef(ami_id=ami["image"], region=region, name=ami.get("name"), semver=event.semver),
        image_builder=ImageBuilderDetails(
            image_arn=image_arn,
            recipe_arn=image["recipe_arn"],
            recipe_name=image["recipe_name"],
            pipeline_arn=image["pipeline_arn"],
            components=image["components"],
        ),
    )
    return verdict("COMPLETED", outputs.model_dump(mode="json"))


def cancel_build(event: CancelBuildInput) -> dict[str, Any]:
    """Error path: stop a build still running so it does not produce an orphan AMI."""
    image_arn = event.image_arn
    if not image_arn:
        return {"cancelled": False}
    status = image_builder.get_image(image_arn)["status"]
    return {"cancelled": status in image_builder.IN_PROGRESS and image_builder.cancel_image(image_arn)}


def failed_verdict(event: ImageInput) -> dict[str, Any]:
    """The FAILED verdict of an image Image Builder gave up on, with Image Builder's own reason."""
    image = image_builder.get_image(event.image_arn)
    reason = f"image build {image['status']}: {image['reason'] or 'no reason given'}"
    return verdict("FAILED", {}, reason)
