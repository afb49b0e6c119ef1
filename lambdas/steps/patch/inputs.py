"""The inputs of the patch steps (the pipeline run's own: lambdas/steps/images.py)."""

from __future__ import annotations

from lambdas.steps.common import NonEmptyStr, StepInput


class PatchRunInput(StepInput):
    """What names the run's dynamic resources, so cleanup finds them on every path."""

    deployment_tag: NonEmptyStr
    execution_name: NonEmptyStr


class CreateResourcesInput(PatchRunInput):
    component_s3_uri: NonEmptyStr
    change_description: NonEmptyStr
    parent_ami_id: NonEmptyStr
    kms_key_arn: NonEmptyStr
    infrastructure_arn: NonEmptyStr
    distribution_arn: NonEmptyStr
