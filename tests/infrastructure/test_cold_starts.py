"""Cold starts: no function uses SnapStart, and the README says why with its measurements (the
decision is revisited with the numbers, not silently: enabling it must change this test)."""

from __future__ import annotations

from tests.infrastructure.conftest import resources
from tests.support.synth import REPO, Synth


def test_no_function_uses_snapstart_and_the_readme_gives_the_measured_reason(synth: Synth) -> None:
    for name, template in synth.templates.items():
        for logical_id, function in resources(template, "AWS::Lambda::Function").items():
            assert "SnapStart" not in function["Properties"], f"{name}: {logical_id}"

    performance = (REPO / "README.md").read_text().split("## Performance", 1)[1].split("\n## ", 1)[0]
    assert "SnapStart is not enabled" in performance
    assert "import boto3" in performance and "python -m local bench --imports" in performance
