#!/usr/bin/env python3
"""The CDK app: one deployment per stack tag (cdk.json context "amiLifecycle", `-c stackTag=...`)."""

from __future__ import annotations

import os

import aws_cdk as cdk

from lambdas.domain.events import WORKFLOWS
from stacks import naming
from stacks.config import AppConfig
from stacks.core_stack import CoreStack
from stacks.workflows_stack import WorkflowsStack


def build(app: cdk.App) -> cdk.App:
    """Add the deployment's stacks to `app` (the tests call this with cdk.json's context)."""
    config = AppConfig.from_context(app)
    tag = config.stack_tag_slug
    # Unset outside `cdk deploy` (tests, local cloud): the stacks are then environment-agnostic.
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))

    state_machine_arns = {workflow: naming.state_machine_arn(app, tag, workflow) for workflow in WORKFLOWS}
    core = CoreStack(app, naming.core_stack_name(tag), config=config, state_machine_arns=state_machine_arns, env=env)
    WorkflowsStack(app, naming.workflows_stack_name(tag), config=config, core=core, env=env)

    cdk.Tags.of(app).add("ami-lifecycle:stack-tag", tag)
    return app


if __name__ == "__main__":
    build(cdk.App()).synth()
