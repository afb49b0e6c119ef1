"""PATCH_AMI on the real definition: dynamic Image Builder resources are deleted on every path."""

from __future__ import annotations

from lambdas.domain.contracts import BuildOutputs
from tests.integration.workflows.conftest import Deployment
from tests.integration.workflows.helpers import one_error, one_result, register_ami, workflow_input


def _patch_input() -> dict:
    parent = register_ami("golden-approved")
    return workflow_input(
        "PATCH_AMI", "ami-patch", patch_number=1, semver="1.1.0",
        parent_ami={"ami_id": parent, "region": "us-east-1", "semver": "1.0.0"},
        patch={"component_s3_uri": "s3://patch-bucket/lc-0123456789abcdef/openssl.yml",
               "change_description": "openssl CVE fix", "semver_bump_type": "MINOR"},
    )


def _dynamic(deployment: Deployment) -> list[str]:
    return [arn for arn in deployment.cloud.image_builder.dynamic_resources() if "-patch-" in arn]


def test_patch_builds_a_new_ami_and_deletes_its_image_builder_resources(deployment: Deployment) -> None:
    deployment.run("patch", _patch_input())

    result = one_result(deployment.messages("patch"))
    assert result.status == "COMPLETED", result.reason
    outputs = result.typed_outputs()
    assert isinstance(outputs, BuildOutputs) and outputs.ami.semver == "1.1.0"
    assert "-patch-" in outputs.image_builder.recipe_name
    assert _dynamic(deployment) == []


def test_failed_patch_build_is_failed_and_cleaned_up(deployment: Deployment) -> None:
    deployment.cloud.image_builder.fail_next_build("Component 'openssl' failed")

    deployment.run("patch", _patch_input())

    result = one_result(deployment.messages("patch"))
    assert result.status == "FAILED" and "openssl" in result.reason
    assert _dynamic(deployment) == []


def test_a_step_raising_midway_still_deletes_what_was_created(deployment: Deployment) -> None:
    deployment.cloud.fakes.fail_next("imagebuilder", "CreateImagePipeline", "ServiceQuotaExceededException")

    deployment.run("patch", _patch_input())

    error = one_error(deployment.messages("error"))
    assert error.error["Error"] == "ServiceQuotaExceededException"
    assert deployment.messages("patch") == []
    assert _dynamic(deployment) == []
