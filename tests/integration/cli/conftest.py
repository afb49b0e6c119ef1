"""The CLI against the local API gateway in front of the moto deployment, run in this process.

moto's mocks live in this process, so the CLI runs in-process too (`main(argv)` with captured
streams), reaching the gateway over real HTTP on 127.0.0.1 with the endpoint and keys of a local
cloud profile written to tmp_path.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cli.ami_cli.main import main
from local.api_gateway import ApiGateway, RecordedRequest
from tests.support.aws import API_KEY_IDS, API_KEY_VALUES

KEY_VALUES = tuple(API_KEY_VALUES.values())


@dataclass
class Run:
    code: int
    out: str
    err: str
    requests: list[RecordedRequest] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("api-cli: error:")]


@pytest.fixture
def gateway(deployment: Any) -> Iterator[ApiGateway]:
    key_ids = {API_KEY_VALUES[role]: key_id for role, key_id in API_KEY_IDS.items()}
    with ApiGateway(key_ids=key_ids) as running:
        yield running


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory outside git (no commit ref, no cli-config.json unless a test writes one)."""
    path = tmp_path / "work"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


@pytest.fixture
def profile(tmp_path: Path, gateway: ApiGateway, deployment: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({
        "endpoint": gateway.url,
        "aws_endpoint_url": None,
        "region": "us-east-1",
        "stack_tag": "main",  # the stack tag the CLI creates lifecycles under (the deployment's)
        "keys": dict(API_KEY_VALUES),
        "lookup_table": deployment.lookup_table,
        "patch_bucket": deployment.patch_bucket,
    }))
    for name in ("AMI_LC_ENDPOINT", "AMI_LC_OPERATOR_KEY", "AMI_LC_QA_KEY", "AMI_LC_APPROVER_KEY", "STACK_TAG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AMI_LC_PROFILE", str(path))
    monkeypatch.setenv("USER", "ci-user")
    return path


@pytest.fixture
def cli(profile: Path, gateway: ApiGateway, workdir: Path) -> Callable[..., Run]:
    """run(*argv, stdin="", sleep=None, clock=None) -> Run; asserts that no API key value is ever printed."""

    def run(*argv: str, stdin: str = "", sleep: Callable[[float], None] | None = None,
            clock: Callable[[], float] | None = None, cwd: Path | None = None) -> Run:
        before = len(gateway.requests)
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err, cwd=cwd or workdir, sleep=sleep,
                    clock=clock)
        result = Run(code, out.getvalue(), err.getvalue(), list(gateway.requests[before:]))
        for value in KEY_VALUES:
            assert value not in result.out and value not in result.err, "an API key was printed"
        return result

    return run
