"""Build workflow steps: start the pipeline, read the AMI, cancel on error."""

from lambdas.steps import images
from lambdas.steps.common import step_handler

lambda_handler = step_handler(
    {
        "start_pipeline": images.start_pipeline,
        "image_details": images.image_details,
        "failed_verdict": images.failed_verdict,
        "cancel_build": images.cancel_build,
    }
)
