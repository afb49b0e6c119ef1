"""Property-based fuzzing of the API with schemathesis, from docs/openapi.json, against the local cloud
over real HTTP with the documented role keys (`bash deploy.sh --local --background`).

Every answer must be documented: no server error, a status code the operation documents, and a body
and content type that match its schema. Positive and negative (schema-violating) cases, every
operation; each failure is recorded and the run goes on, so a run reports all it found.

The suite runs a few examples per operation (~1,300 cases, about 40 s on two cores). A big run
(450 per operation gave 10,617 cases in 8 minutes; the summary line counts them):

    AMI_LC_FUZZ_EXAMPLES=450 .venv/bin/python -m pytest -s tests/e2e/test_api_fuzz.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lambdas.api.catalog import ROUTES

REPO = Path(__file__).resolve().parents[2]
OPENAPI = REPO / "docs" / "openapi.json"
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
EXAMPLES = int(os.environ.get("AMI_LC_FUZZ_EXAMPLES", "6"))  # per operation and generation mode
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLE_OF_FUNCTION = {"read": "operator", "lifecycles": "operator", "certify": "qa", "approve": "approver"}
# (METHOD, OpenAPI path) -> the role whose key the route takes; None for the signed-link routes.
ROLE = {
    (route.method, route.path.replace("{lifecycle-id}", "{lifecycle_id}").replace("{stack-tag}", "{stack_tag}")):
        ROLE_OF_FUNCTION[route.function] if route.auth == "key" else None
    for route in ROUTES
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A local cloud of its own (any free port); yields its profile (endpoint and role keys)."""
    state_dir = tmp_path_factory.mktemp("fuzz-cloud")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AMI_LC_"))}
    env.update(AMI_LC_STATE_DIR=str(state_dir), AMI_LC_PROFILE=str(state_dir / "profile.json"))

    def deploy(*args: str) -> None:
        subprocess.run(["bash", "deploy.sh", "--local", *args], cwd=REPO, env=env, check=True, capture_output=True,
                       timeout=300)

    deploy("--background", "--port", "0")
    try:
        yield json.loads((state_dir / "profile.json").read_text())
    finally:
        deploy("--stop")


@pytest.fixture(scope="module")
def outcomes() -> Iterator[dict[str, Any]]:
    """Every case's status and failure; the run fails here, once every operation was explored."""
    found: dict[str, Any] = {"cases": 0, "statuses": Counter(), "failures": []}
    yield found
    server_errors = sum(count for status, count in found["statuses"].items() if status >= 500)
    print(f"\nfuzz: {found['cases']} cases, statuses {dict(sorted(found['statuses'].items()))}, "
          f"{server_errors} server errors, {len(found['failures'])} failed checks")
    assert found["cases"] >= len(ROLE) * EXAMPLES // 2, "the fuzzer hardly ran"
    assert not found["failures"], "\n\n".join(found["failures"][:20])


# Loaded at collection (one test per operation); the base URL is the running cloud's, given per call.
# (schemathesis.pytest.from_fixture would load it from the fixture, but 4.32 does not run on pytest 9.2.)
schema = schemathesis.openapi.from_path(str(OPENAPI))
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize="AMI_LC_FUZZ_EXAMPLES" not in os.environ,
          suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented(case: Any, local_cloud: dict[str, Any], outcomes: dict[str, Any]) -> None:
    role = ROLE[(case.operation.method.upper(), case.operation.path)]
    headers = {"x-api-key": local_cloud["keys"][role]} if role else {}
    response = case.call(base_url=local_cloud["endpoint"], headers=headers, timeout=30)
    outcomes["cases"] += 1
    outcomes["statuses"][response.status_code] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as failure:  # record it and explore on
        outcomes["failures"].append(f"{case.operation.method.upper()} {case.operation.path} -> "
                                    f"{response.status_code}: {str(failure)[:1500]}")
