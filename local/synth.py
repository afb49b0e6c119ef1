"""Synthesize the app into a directory, as app.py composes it with cdk.json's context (the local
cloud runs this in a subprocess: python -m local.synth OUTDIR [STACK_TAG])."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_VERSION_CHECK", "1")

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    import aws_cdk as cdk

    import app as cdk_app

    outdir = Path(argv[0])
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    if len(argv) > 1 and argv[1]:
        context["stackTag"] = argv[1]
    application = cdk.App(outdir=str(outdir), context=context)
    cdk_app.build(application)
    application.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
