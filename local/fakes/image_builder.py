"""EC2 Image Builder, faked: components, recipes, pipelines and images that build over simulated time.

A started build moves PENDING -> BUILDING -> TESTING -> DISTRIBUTING over `build_minutes` of simulated
time, then ends AVAILABLE with a real AMI registered in moto's EC2 (or FAILED, with state.reason and
state.failureContext, when a failure was injected). Each state change is emitted as the EventBridge
event "EC2 Image Builder Image State Change" to `emit` (the local event router), as AWS does.

Refusals modelled on the Image Builder API reference (CreateComponent, CreateImageRecipe,
CreateImagePipeline, ImageState): a component or recipe name+version that already exists
(ResourceAlreadyExistsException), and a parent image, component, recipe, infrastructure or
distribution configuration that does not exist (InvalidParameterValueException). Configurations
defined by the template are registered by the deployer (`add_infrastructure_configuration`, ...).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from local.events import aws_event
from local.fakes.hooks import AdminClients, FakeAws, FakeError
from local.time_scale import TimeScale

_STAGES = (("BUILDING", 0.0), ("TESTING", 0.7), ("DISTRIBUTING", 0.9))
# Trailing wildcard nodes of a semantic-version ARN ("image/name/1.x.x", "image/name/x.x.x").
_WILDCARD_TAIL = re.compile(r"[/.]x(?:[./].*)?$")


@dataclass
class _Image:
    arn: str
    pipeline_arn: str
    recipe_arn: str
    started: float
    status: str = "PENDING"
    reason: str | None = None
    failure_context: dict[str, Any] | None = None
    amis: list[dict[str, Any]] = field(default_factory=list)
    timer: threading.Timer | None = None
    finished: float | None = None  # when it reached a final state (scale.now())


class ImageBuilderFake:
    def __init__(
        self,
        *,
        scale: TimeScale,
        region: str,
        account: str,
        emit: Callable[[dict[str, Any]], None] = lambda event: None,
        build_minutes: float = 45,
    ) -> None:
        self.scale, self.region, self.account, self.emit = scale, region, account, emit
        self.build_minutes = build_minutes
        self.components: dict[str, dict[str, Any]] = {}
        self.recipes: dict[str, dict[str, Any]] = {}
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.infrastructure_configurations: dict[str, dict[str, Any]] = {}
        self.distribution_configurations: dict[str, dict[str, Any]] = {}
        self.images: dict[str, _Image] = {}
        self._failures: list[str] = []
        self._tokens: dict[str, str] = {}
        self._lock = threading.RLock()
        self._aws = AdminClients(region)

    # ---- switches
    def fail_next_build(self, reason: str = "Component 'hardening' failed at step 'validate'") -> None:
        self._failures.append(reason)

    def clear_injections(self) -> None:
        self._failures.clear()

    def add_pipeline(self, name: str, recipe_arn: str = "") -> str:
        """Register a pipeline defined by the template (CloudFormation does not reach the fake)."""
        arn = self._arn("image-pipeline", name)
        self.pipelines[arn] = {"arn": arn, "name": name, "imageRecipeArn": recipe_arn or self._arn("image-recipe", name, "1.0.0")}
        return arn

    def add_infrastructure_configuration(self, name: str) -> str:
        """Register an infrastructure configuration defined by the template; returns its ARN
        (CreateImagePipeline refuses every other one)."""
        arn = self._arn("infrastructure-configuration", name)
        self.infrastructure_configurations[arn] = {"arn": arn, "name": name}
        return arn

    def add_distribution_configuration(self, name: str) -> str:
        """Register a distribution configuration defined by the template; returns its ARN."""
        arn = self._arn("distribution-configuration", name)
        self.distribution_configurations[arn] = {"arn": arn, "name": name}
        return arn

    def stop(self) -> None:
        for image in self.images.values():
            if image.timer:
                image.timer.cancel()

    def dynamic_resources(self) -> list[str]:
        """ARNs of every component, recipe, pipeline and image still present (cleanup assertions)."""
        return [*self.components, *self.recipes, *self.pipelines, *self.images]

    def install(self, fakes: FakeAws) -> ImageBuilderFake:
        self._aws.prepare("ec2", "ssm")
        fakes.serve(
            "imagebuilder",
            {
                "CreateComponent": self._create_component,
                "CreateImageRecipe": self._create_recipe,
                "CreateImagePipeline": self._create_pipeline,
                "StartImagePipelineExecution": self._start,
                "GetImage": self._get_image,
                "CancelImageCreation": self._cancel,
                "ListComponents": lambda p: {"componentVersionList": self._named(self.components, p)},
                "ListComponentBuildVersions": self._component_builds,
                "ListImageRecipes": lambda p: {"imageRecipeSummaryList": self._named(self.recipes, p)},
                "ListImagePipelines": lambda p: {"imagePipelineList": self._named(self.pipelines, p)},
                "ListImagePipelineImages": self._pipeline_images,
                "DeleteImage": lambda p: self._delete(self.images, p["imageBuildVersionArn"], "imageBuildVersionArn"),
                "DeleteImagePipeline": self._delete_pipeline,
                "DeleteImageRecipe": self._delete_recipe,
                "DeleteComponent": self._delete_component,
            },
        )
        return self

    # ---- helpers
    def _arn(self, kind: str, name: str, *version: str) -> str:
        suffix = "/".join((name.lower(), *version))
        return f"arn:aws:imagebuilder:{self.region}:{self.account}:{kind}/{suffix}"

    def _idempotent(self, params: dict[str, Any], create: Callable[[], str]) -> str:
        token = params.get("clientToken")
        with self._lock:
            if token and token in self._tokens:
                return self._tokens[token]
            arn = create()
            if token:
                self._tokens[token] = arn
            return arn

    @staticmethod
    def _named(store: dict[str, dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
        names = {v for f in params.get("filters", []) if f["name"] == "name" for v in f["values"]}
        return [dict(item) for item in store.values() if not names or item["name"] in names]

    @staticmethod
    def _missing(arn: str) -> FakeError:
        return FakeError("ResourceNotFoundException", f"{arn} does not exist")

    @staticmethod
    def _invalid(parameter: str, problem: str) -> FakeError:
        # Image Builder's wording for a request value naming something unusable, e.g. "The value
        # supplied for parameter 'instanceProfileName' is not valid. The provided instance profile
        # does not exist." (Create* operations have no ResourceNotFoundException in the API reference).
        return FakeError("InvalidParameterValueException", f"The value supplied for parameter '{parameter}' is not valid. {problem}")

    @staticmethod
    def _exists(kind: str, arn: str) -> FakeError:
        return FakeError("ResourceAlreadyExistsException", f"The following resource '{kind}' already exists: '{arn}'.")

    def _check_parent_image(self, parent: str) -> None:
        """The four forms the API reference documents; the AMI / own image / parameter must exist."""
        if parent.startswith("ami-"):
            try:
                found = self._aws("ec2").describe_images(ImageIds=[parent])["Images"]
            except ClientError:
                found = []
            if not found:
                raise self._invalid("parentImage", f"The AMI '{parent}' does not exist in {self.region}.")
        elif parent.startswith("arn:"):
            fields = parent.split(":", 5)
            # AWS-managed images (owner "aws") exist in every Region; only this account's can be checked.
            if len(fields) < 6 or fields[4] != "aws":
                prefix = _WILDCARD_TAIL.sub("", parent)
                matches = (i for i in self.images.values() if i.status == "AVAILABLE" and i.arn.startswith(prefix))
                if not any(i.arn == prefix or i.arn[len(prefix)] in "/." for i in matches):
                    raise self._invalid("parentImage", f"The image '{parent}' does not exist or is not AVAILABLE.")
        elif parent.startswith("ssm:"):
            try:
                self._aws("ssm").get_parameter(Name=parent.removeprefix("ssm:"))
            except ClientError:
                raise self._invalid("parentImage", f"The parameter '{parent.removeprefix('ssm:')}' does not exist.") from None
        else:
            raise self._invalid("parentImage", "Use an AMI ID, an Image Builder image ARN or an 'ssm:' parameter "
                                               "(Marketplace product IDs are not modelled locally).")

    # ---- components, recipes, pipelines
    def _create_component(self, p: dict[str, Any]) -> dict[str, Any]:
        def create() -> str:
            if not (p.get("uri") or p.get("data")):
                raise FakeError("InvalidParameterException", "either uri or data is required")
            arn = self._arn("component", p["name"], p["semanticVersion"], "1")
            if arn in self.components:
                raise self._exists("Component", arn)
            self.components[arn] = {"arn": arn, "name": p["name"], "version": p["semanticVersion"], "uri": p.get("uri")}
            return arn

        return {"componentBuildVersionArn": self._idempotent(p, create), "clientToken": p.get("clientToken")}

    def _component_builds(self, p: dict[str, Any]) -> dict[str, Any]:
        prefix = p["componentVersionArn"]
        return {"componentSummaryList": [{"arn": a} for a in self.components if a.startswith(prefix)]}

    def _create_recipe(self, p: dict[str, Any]) -> dict[str, Any]:
        def create() -> str:
            arn = self._arn("image-recipe", p["name"], p["semanticVersion"])
            if arn in self.recipes:
                raise self._exists("ImageRecipe", arn)
            for n, component in enumerate(p["components"]):
                if component["componentArn"] not in self.components:
                    raise self._invalid(f"components[{n}].componentArn", f"The component '{component['componentArn']}' does not exist.")
            self._check_parent_image(p["parentImage"])
            self.recipes[arn] = {"arn": arn, "name": p["name"], "parentImage": p["parentImage"], "components": p["components"]}
            return arn

        return {"imageRecipeArn": self._idempotent(p, create), "clientToken": p.get("clientToken")}

    def _create_pipeline(self, p: dict[str, Any]) -> dict[str, Any]:
        def create() -> str:
            arn = self._arn("image-pipeline", p["name"])
            if arn in self.pipelines:
                raise self._exists("ImagePipeline", arn)
            references = (
                ("imageRecipeArn", self.recipes, "image recipe"),
                ("infrastructureConfigurationArn", self.infrastructure_configurations, "infrastructure configuration"),
                ("distributionConfigurationArn", self.distribution_configurations, "distribution configuration"),
            )
            for parameter, store, what in references:
                value = p.get(parameter)
                if (value or parameter != "distributionConfigurationArn") and value not in store:
                    raise self._invalid(parameter, f"The {what} '{value}' does not exist.")
            self.pipelines[arn] = {"arn": arn, "name": p["name"], "imageRecipeArn": p["imageRecipeArn"]}
            return arn

        return {"imagePipelineArn": self._idempotent(p, create), "clientToken": p.get("clientToken")}

    def _delete(self, store: dict[str, Any], arn: str, key: str) -> dict[str, Any]:
        with self._lock:
            if arn not in store:
                raise self._missing(arn)
            del store[arn]
        return {key: arn}

    def _delete_pipeline(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p["imagePipelineArn"]
        if any(i.pipeline_arn == arn and i.status not in ("AVAILABLE", "FAILED", "CANCELLED") for i in self.images.values()):
            raise FakeError("ResourceDependencyException", f"{arn} has an image in progress")
        return self._delete(self.pipelines, arn, "imagePipelineArn")

    def _delete_recipe(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p["imageRecipeArn"]
        if any(pipe["imageRecipeArn"] == arn for pipe in self.pipelines.values()):
            raise FakeError("ResourceDependencyException", f"{arn} is used by a pipeline")
        return self._delete(self.recipes, arn, "imageRecipeArn")

    def _delete_component(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p["componentBuildVersionArn"]
        if any(c["componentArn"] == arn for r in self.recipes.values() for c in r["components"]):
            raise FakeError("ResourceDependencyException", f"{arn} is used by a recipe")
        return self._delete(self.components, arn, "componentBuildVersionArn")

    # ---- builds
    def _start(self, p: dict[str, Any]) -> dict[str, Any]:
        pipeline = self.pipelines.get(p["imagePipelineArn"])
        if pipeline is None:
            raise self._missing(p["imagePipelineArn"])

        def create() -> str:
            build = sum(1 for i in self.images.values() if i.pipeline_arn == pipeline["arn"]) + 1
            arn = self._arn("image", pipeline["name"], "1.0.0", str(build))
            image = _Image(arn=arn, pipeline_arn=pipeline["arn"], recipe_arn=pipeline["imageRecipeArn"], started=self.scale.now())
            image.timer = threading.Timer(self.scale.seconds(self.build_minutes * 60), self._finish, args=(arn,))
            image.timer.daemon = True
            self.images[arn] = image
            self._set_status(image, "BUILDING")
            image.timer.start()
            return arn

        return {"imageBuildVersionArn": self._idempotent(p, create), "clientToken": p.get("clientToken")}

    def _set_status(self, image: _Image, status: str, reason: str | None = None) -> None:
        previous, image.status, image.reason = image.status, status, reason
        if status not in ("PENDING", "BUILDING", "TESTING", "DISTRIBUTING"):
            image.finished = self.scale.now()
        self.emit(aws_event(
            source="aws.imagebuilder", detail_type="EC2 Image Builder Image State Change", account=self.account,
            region=self.region, resources=[image.arn],
            detail={"previous-state": {"status": previous}, "state": {"status": status, **({"reason": reason} if reason else {})}},
        ))

    def _finish(self, arn: str) -> None:
        with self._lock:
            image = self.images.get(arn)
            if image is None or image.status not in ("BUILDING", "TESTING", "DISTRIBUTING"):
                return
            failure = self._failures.pop(0) if self._failures else None
            if failure is None:
                image.amis = [self._register_ami(image)]
            else:
                # ImageState.failureContext: set only for FAILED; the stage and what failed.
                image.failure_context = {"imageStatus": "BUILDING", "componentFailure": {"errorMessage": failure}}
        if failure is None:
            self._set_status(image, "AVAILABLE")
        else:
            self._set_status(image, "FAILED", failure)

    def _register_ami(self, image: _Image) -> dict[str, Any]:
        name = f"{image.arn.split('/')[1]}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
        ec2 = self._aws("ec2")
        ami_id = ec2.register_image(
            Name=name,
            RootDeviceName="/dev/xvda",
            Architecture="x86_64",
            # The recipe encrypts the root volume (stacks/image_builder.py), so the AMI's snapshot is
            # encrypted: what VM export refuses and the QA export's store/restore route exists for.
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {
                "VolumeSize": 8, "VolumeType": "gp3", "Encrypted": True, "KmsKeyId": "alias/aws/ebs"}}],
        )["ImageId"]
        return {"region": self.region, "image": ami_id, "name": name, "accountId": self.account}

    def _get_image(self, p: dict[str, Any]) -> dict[str, Any]:
        image = self.images.get(p["imageBuildVersionArn"])
        if image is None:
            raise self._missing(p["imageBuildVersionArn"])
        status = image.status
        if status in ("BUILDING", "TESTING", "DISTRIBUTING"):
            fraction = self.scale.elapsed(image.started) / (self.build_minutes * 60)
            status = [s for s, start in _STAGES if fraction >= start][-1]
        recipe = self.recipes.get(image.recipe_arn, {"arn": image.recipe_arn, "name": image.recipe_arn.split("/")[1], "components": []})
        state: dict[str, Any] = {"status": status, **({"reason": image.reason} if image.reason else {})}
        if status == "FAILED" and image.failure_context:
            state["failureContext"] = image.failure_context
        return {
            "image": {
                "arn": image.arn,
                "name": image.arn.split("/")[1],
                "state": state,
                "imageRecipe": {"arn": recipe["arn"], "name": recipe["name"], "components": recipe.get("components", [])},
                "sourcePipelineArn": image.pipeline_arn,
                "outputResources": {"amis": image.amis},
            }
        }

    def _cancel(self, p: dict[str, Any]) -> dict[str, Any]:
        image = self.images.get(p["imageBuildVersionArn"])
        if image is None:
            raise self._missing(p["imageBuildVersionArn"])
        if image.status not in ("PENDING", "BUILDING", "TESTING", "DISTRIBUTING"):
            raise FakeError("ResourceDependencyException", f"image is {image.status}")
        if image.timer:
            image.timer.cancel()
        self._set_status(image, "CANCELLED", "cancelled by the workflow")
        return {"imageBuildVersionArn": image.arn}

    def _pipeline_images(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p["imagePipelineArn"]
        if arn not in self.pipelines:
            raise self._missing(arn)
        return {
            "imageSummaryList": [
                {"arn": i.arn, "state": {"status": i.status}} for i in self.images.values() if i.pipeline_arn == arn
            ]
        }
