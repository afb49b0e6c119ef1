"""Build workflow steps: start the pipeline, read the AMI, cancel on error."""

from lambdas.steps import images
from lambdas.steps.common import Step, step_handler

STEPS: dict[str, Step] = {
    "start_pipeline": images.start_pipeline,
    "image_details": images.image_details,
    "failed_verdict": images.failed_verdict,
    "cancel_build": images.cancel_build,
}
lambda_handler = step_handler(STEPS)
