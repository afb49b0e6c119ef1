"""One in-process, offline synthesis of the app exactly as app.py composes it with cdk.json's
context; the cloud assembly (templates and assets) is written to a directory."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Before jsii starts: silence its Node end-of-life banner, and keep the CDK offline.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_VERSION_CHECK", "1")

import aws_cdk as cdk  # noqa: E402
import pytest  # noqa: E402
from aws_cdk import assertions  # noqa: E402

import app as cdk_app  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CDK_CONTEXT: dict[str, Any] = json.loads((REPO / "cdk.json").read_text())["context"]
# Variables that would change what is synthesized (stack tag, target environment).
_AMBIENT = ("STACK_TAG", "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")


@dataclass(frozen=True)
class Synth:
    outdir: Path
    app: cdk.App
    templates: dict[str, dict[str, Any]]  # stack name -> template

    def stack(self, name: str) -> cdk.Stack:
        found = self.app.node.try_find_child(name)
        assert isinstance(found, cdk.Stack), f"no stack {name}"
        return found

    def template(self, name: str) -> assertions.Template:
        return assertions.Template.from_stack(self.stack(name))


def synthesize(outdir: Path, **context: Any) -> Synth:
    with pytest.MonkeyPatch.context() as patch:
        for name in _AMBIENT:
            patch.delenv(name, raising=False)
        application = cdk.App(outdir=str(outdir), context={**CDK_CONTEXT, **context})
        cdk_app.build(application)
        assembly = application.synth()
    return Synth(outdir=outdir, app=application, templates={s.stack_name: s.template for s in assembly.stacks})
