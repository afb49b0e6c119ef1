"""EC2 Image Builder: pipelines, images and the dynamic resources of a patch build."""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from lambdas.adapters.aws import client

# Image statuses after which nothing will change for a build in progress.
TERMINAL_FAILURES = frozenset({"FAILED", "CANCELLED", "DEPRECATED", "DELETED", "DISABLED"})
IN_PROGRESS = frozenset({"PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING"})


def client_token(seed: str) -> str:
    """Image Builder client tokens are at most 36 characters: derive one from any idempotency seed."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def _ib() -> Any:
    return client("imagebuilder")


def _missing(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ResourceNotFoundException"


def start_pipeline(pipeline_arn: str, seed: str) -> str:
    """Start one pipeline execution; the client token makes a retried start return the same image."""
    response = _ib().start_image_pipeline_execution(
        imagePipelineArn=pipeline_arn, clientToken=client_token(seed)
    )
    return response["imageBuildVersionArn"]


def get_image(image_arn: str) -> dict[str, Any]:
    image = _ib().get_image(imageBuildVersionArn=image_arn)["image"]
    state = image.get("state", {})
    recipe = image.get("imageRecipe", {})
    return {
        "image_arn": image["arn"],
        "status": state.get("status", "PENDING"),
        "reason": state.get("reason"),
        "amis": image.get("outputResources", {}).get("amis", []),
        "recipe_arn": recipe.get("arn"),
        "recipe_name": recipe.get("name"),
        "components": [c["componentArn"] for c in recipe.get("components", [])],
        "pipeline_arn": image.get("sourcePipelineArn"),
    }


def cancel_image(image_arn: str) -> bool:
    """Cancel a build still in progress; False when there was nothing left to cancel."""
    try:
        _ib().cancel_image_creation(imageBuildVersionArn=image_arn, clientToken=client_token(f"cancel:{image_arn}"))
        return True
    except ClientError as exc:
        if _missing(exc) or exc.response["Error"]["Code"] == "ResourceDependencyException":
            return False
        raise


def create_component(*, name: str, version: str, uri: str, kms_key_id: str, description: str, token: str) -> str:
    response = _ib().create_component(
        name=name,
        semanticVersion=version,
        platform="Linux",
        uri=uri,
        kmsKeyId=kms_key_id,
        description=description[:1024],
        changeDescription=description[:1024],
        clientToken=client_token(token),
    )
    return response["componentBuildVersionArn"]


def create_recipe(*, name: str, version: str, parent_image: str, component_arns: list[str], token: str) -> str:
    response = _ib().create_image_recipe(
        name=name,
        semanticVersion=version,
        parentImage=parent_image,
        components=[{"componentArn": arn} for arn in component_arns],
        clientToken=client_token(token),
    )
    return response["imageRecipeArn"]


def create_pipeline(*, name: str, recipe_arn: str, infrastructure_arn: str, distribution_arn: str, token: str) -> str:
    response = _ib().create_image_pipeline(
        name=name,
        imageRecipeArn=recipe_arn,
        infrastructureConfigurationArn=infrastructure_arn,
        distributionConfigurationArn=distribution_arn,
        enhancedImageMetadataEnabled=True,
        status="ENABLED",
        clientToken=client_token(token),
    )
    return response["imagePipelineArn"]


def find_arn(kind: str, name: str) -> str | None:
    """ARN of our own component/recipe/pipeline by exact name (cleanup must work without state)."""
    ib = _ib()
    name_filter = [{"name": "name", "values": [name]}]
    if kind == "component":
        items = ib.list_components(owner="Self", filters=name_filter)["componentVersionList"]
        if not items:
            return None
        builds = ib.list_component_build_versions(componentVersionArn=items[0]["arn"])["componentSummaryList"]
        return builds[0]["arn"] if builds else None
    if kind == "recipe":
        items = ib.list_image_recipes(owner="Self", filters=name_filter)["imageRecipeSummaryList"]
    else:
        items = ib.list_image_pipelines(filters=name_filter)["imagePipelineList"]
    return items[0]["arn"] if items else None


def pipeline_images(pipeline_arn: str) -> list[dict[str, Any]]:
    response = _ib().list_image_pipeline_images(imagePipelineArn=pipeline_arn)
    return [{"arn": i["arn"], "status": i.get("state", {}).get("status")} for i in response["imageSummaryList"]]


def delete(kind: str, arn: str) -> None:
    """Delete an Image Builder resource; one already gone is fine (cleanup is re-run by retries)."""
    ib = _ib()
    calls = {
        "image": lambda: ib.delete_image(imageBuildVersionArn=arn),
        "pipeline": lambda: ib.delete_image_pipeline(imagePipelineArn=arn),
        "recipe": lambda: ib.delete_image_recipe(imageRecipeArn=arn),
        "component": lambda: ib.delete_component(componentBuildVersionArn=arn),
    }
    try:
        calls[kind]()
    except ClientError as exc:
        if not _missing(exc):
            raise
