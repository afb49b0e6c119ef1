"""Synthesis of the app for the local cloud, skipped when none of its inputs changed."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from hashlib import sha256
from pathlib import Path

from local.state import REPO

LOGGER = logging.getLogger("local.server")
# What the synthesized templates depend on (a change re-synthesizes at the next start).
_SYNTH_INPUTS = ("app.py", "cdk.json", "stacks", "statemachines", "components", "lambdas")


def _fingerprint(stack_tag: str | None) -> str:
    digest = sha256(f"stack_tag={stack_tag}\n".encode())
    for name in _SYNTH_INPUTS:
        base = REPO / name
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def synthesize(outdir: Path, stack_tag: str | None = None, timeout: float = 300) -> dict[str, Path]:
    """Synthesize the app into `outdir` (in a subprocess: jsii's node process and memory go away
    with it), unless its inputs did not change since the last synthesis. Returns stack -> template."""
    fingerprint = _fingerprint(stack_tag)
    stamp = outdir / ".local-cloud-fingerprint"
    if not (stamp.is_file() and stamp.read_text() == fingerprint):
        LOGGER.info("synthesizing the app (cdk.json context%s) ...", f", stackTag={stack_tag}" if stack_tag else "")
        if outdir.exists():
            shutil.rmtree(outdir)
        env = {k: v for k, v in os.environ.items() if k not in ("STACK_TAG", "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")}
        env.update(JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", CDK_DISABLE_VERSION_CHECK="1")
        subprocess.run(
            [sys.executable, "-m", "local.synth", str(outdir), stack_tag or ""],
            cwd=REPO, env=env, check=True, timeout=timeout,
        )
        stamp.write_text(fingerprint)
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {
        name: outdir / artifact["properties"]["templateFile"]
        for name, artifact in manifest["artifacts"].items()
        if artifact.get("type") == "aws:cloudformation:stack"
    }
