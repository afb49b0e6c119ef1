"""The local cloud's building blocks: moto plus what moto lacks.

- `time_scale`: compresses Step Functions waits, retry intervals and callback timeouts.
- `lambda_runtime`: runs a moto Lambda function's handler from this repository, in-process.
- `fakes`: Image Builder, VM export / store-image / image deprecation, Inspector reports and SSM
  Run Command, served to plain boto3 clients through botocore hooks.
- `events`: routes EventBridge events to Lambda targets (moto cannot).
- `cfn`: resolves CloudFormation intrinsics of a synthesized template against local resources.
"""
