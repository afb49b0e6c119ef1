"""Patch workflow steps: dynamic Image Builder resources around one pipeline run.

The component, recipe and pipeline are named from the execution, so cleanup finds and deletes them
on every path even when the step that created them failed half way.
"""

from __future__ import annotations

from typing import Any

from lambdas.adapters import image_builder_gateway as image_builder
from lambdas.steps import images
from lambdas.steps.common import Step, step_handler
from lambdas.steps.errors import CleanupPending
from lambdas.steps.patch.inputs import CreateResourcesInput, PatchRunInput

# Every dynamic resource is unique to its execution, so one version is enough.
_VERSION = "1.0.0"


def _name(event: PatchRunInput) -> str:
    return f"ami-lc-{event.deployment_tag}-patch-{event.execution_name}"[:126]


def create_resources(event: CreateResourcesInput) -> dict[str, Any]:
    name = _name(event)
    component = image_builder.create_component(
        name=name, version=_VERSION, uri=event.component_s3_uri, kms_key_id=event.kms_key_arn,
        description=event.change_description, token=f"c:{name}",
    )
    recipe = image_builder.create_recipe(
        name=name, version=_VERSION, parent_image=event.parent_ami_id, component_arns=[component], token=f"r:{name}"
    )
    pipeline = image_builder.create_pipeline(
        name=name, recipe_arn=recipe, infrastructure_arn=event.infrastructure_arn,
        distribution_arn=event.distribution_arn, token=f"p:{name}",
    )
    return {"component_arn": component, "recipe_arn": recipe, "pipeline_arn": pipeline}


def delete_resources(event: PatchRunInput) -> dict[str, Any]:
    """Delete the image resource (the AMI stays), pipeline, recipe and component, in dependency order."""
    name = _name(event)
    deleted: list[str] = []
    pipeline = image_builder.find_arn("pipeline", name)
    if pipeline:
        busy = False
        for image in image_builder.pipeline_images(pipeline):
            if image["status"] in image_builder.IN_PROGRESS:
                image_builder.cancel_image(image["arn"])
                busy = True
            else:
                image_builder.delete("image", image["arn"])
                deleted.append(image["arn"])
        if busy:
            raise CleanupPending(f"images of {name} are being cancelled")
        image_builder.delete("pipeline", pipeline)
        deleted.append(pipeline)
    for kind in ("recipe", "component"):
        arn = image_builder.find_arn(kind, name)
        if arn:
            image_builder.delete(kind, arn)
            deleted.append(arn)
    return {"deleted": deleted}


STEPS: dict[str, Step] = {
    "create_resources": create_resources,
    "start_pipeline": images.start_pipeline,
    "image_details": images.image_details,
    "failed_verdict": images.failed_verdict,
    "delete_resources": delete_resources,
}
lambda_handler = step_handler(STEPS)
