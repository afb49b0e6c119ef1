"""cfn-lint and checkov on the synthesized templates, the checkov waivers, and the code asset."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.lambda_factory import BUNDLED
from tests.infrastructure.conftest import REPO, Synth, checkov_bin, resources

MIN_REASON = 40  # a waiver's reason is a sentence about this resource, not a label


def _checkov(directory: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [checkov_bin(), "--config-file", str(REPO / "checkov.yaml"), "-d", str(directory), "-o", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )


def _report(process: subprocess.Popen[str]) -> dict[str, Any]:
    stdout, stderr = process.communicate(timeout=300)
    report = json.loads(stdout)
    assert isinstance(report, dict), f"expected one cloudformation report, got: {stdout[:500]}\n{stderr[-2000:]}"
    return report


def _suppressions(templates: dict[str, dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(check id, logical id) -> reason, over every template."""
    found = {}
    for template in templates.values():
        for logical_id, resource in template["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                found[(skip["id"], logical_id)] = skip["comment"]
    return found


@pytest.fixture(scope="session")
def checkov_reports(synth: Synth, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """checkov on the real templates, and (in parallel) on copies with every waiver removed."""
    bare = tmp_path_factory.mktemp("no-waivers")
    for name, template in synth.templates.items():
        stripped = json.loads(json.dumps(template))
        for resource in stripped["Resources"].values():
            resource.get("Metadata", {}).pop("checkov", None)
        (bare / f"{name}.template.json").write_text(json.dumps(stripped))
    real, without = _checkov(synth.outdir), _checkov(bare)
    return _report(real), _report(without)


def test_cfn_lint_is_clean(synth: Synth) -> None:
    templates = sorted(str(p) for p in synth.outdir.glob("*.template.json"))
    assert len(templates) == len(synth.templates)
    # W3005 ("DependsOn already enforced by GetAtt") is emitted for CDK's own generated DependsOn.
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--ignore-checks", "W3005", "--", *templates],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_config_has_no_global_skips() -> None:
    config = yaml.safe_load((REPO / "checkov.yaml").read_text())
    assert not {"skip-check", "skip_check", "skip-path", "soft-fail", "soft-fail-on", "hard-fail-on"} & set(config)
    assert config["framework"] == ["cloudformation"]


def test_checkov_reports_no_failure(checkov_reports: tuple[dict, dict], synth: Synth) -> None:
    summary = checkov_reports[0]["summary"]
    failed = [(f["check_id"], f["resource"]) for f in checkov_reports[0]["results"]["failed_checks"]]
    assert summary["failed"] == 0, failed
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= sum(len(t["Resources"]) for t in synth.templates.values()) - len(synth.templates)


def test_every_waiver_is_needed_and_explained(checkov_reports: tuple[dict, dict], synth: Synth) -> None:
    waivers = _suppressions(synth.templates)
    assert waivers, "expected per-resource waivers (e.g. CKV_AWS_117 on functions)"
    for (check, logical_id), reason in waivers.items():
        assert len(reason) >= MIN_REASON, (check, logical_id, reason)
    would_fail = {(f["check_id"], f["resource"].split(".", 1)[1]) for f in checkov_reports[1]["results"]["failed_checks"]}
    assert set(waivers) == would_fail, {
        "waived but passing anyway": sorted(set(waivers) - would_fail),
        "failing and not waived": sorted(would_fail - set(waivers)),
    }


def _project_functions(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Our functions; CDK's own custom-resource providers (handler __entrypoint__.*, e.g. the VPC's
    default-security-group lockdown) ship CDK's code in CDK's asset."""
    return [
        function for function in resources(template, "AWS::Lambda::Function").values()
        if not function["Properties"]["Handler"].startswith("__entrypoint__.")
    ]


def _function_assets(synth: Synth) -> dict[str, Path]:
    """S3 key -> asset directory, for every function of every stack."""
    assets = {}
    for template in synth.templates.values():
        for function in _project_functions(template):
            key = function["Properties"]["Code"]["S3Key"]
            assets[key] = synth.outdir / ("asset." + key.removesuffix(".zip"))
    return assets


def test_code_asset_holds_the_lambdas_package_the_bundled_libraries_and_nothing_else(synth: Synth) -> None:
    assets = _function_assets(synth)
    assert len(assets) == 1, "every function shares one code asset"
    (asset,) = assets.values()
    assert sorted(p.name for p in asset.iterdir()) == sorted(["lambdas", *BUNDLED])
    files = [p.relative_to(asset) for p in asset.rglob("*") if p.is_file()]
    assert Path("lambdas/__init__.py") in files and Path("lambdas/core/settings.py") in files
    assert not [f for f in files if "__pycache__" in f.parts or f.suffix == ".pyc" or "tests" in f.parts]
    shipped = {f for f in files if f.suffix == ".py" and f.parts[0] == "lambdas"}
    source = {p.relative_to(REPO) for p in (REPO / "lambdas").rglob("*.py") if "__pycache__" not in p.parts}
    assert shipped == source


def test_every_handler_resolves_in_the_asset(synth: Synth) -> None:
    (asset,) = _function_assets(synth).values()
    for template in synth.templates.values():
        for function in _project_functions(template):
            module, attribute = function["Properties"]["Handler"].rsplit(".", 1)
            path = asset / (module.replace(".", "/") + ".py")
            assert path.is_file(), f"handler module {module} is not in the asset"
            assert re.search(rf"^(def {attribute}\(|{attribute}\s*=)", path.read_text(), re.M), (
                f"{module} defines no {attribute}")


# What a deployed function resolves from its asset alone (isolated: no site-packages, no repo on the path).
_PROBE = ("import sys; sys.path[:0] = [sys.argv[1]]; from lambdas.domain.semver import Version; "
          "print(Version.parse('1.4.2').bump('MINOR'), __import__('semver').__file__)")


def test_the_bundled_semver_resolves_from_the_asset_alone(synth: Synth) -> None:
    (asset,) = _function_assets(synth).values()

    done = subprocess.run([sys.executable, "-I", "-S", "-c", _PROBE, str(asset)], capture_output=True, text=True,
                          check=False, timeout=60)

    assert done.returncode == 0, done.stderr
    version, location = done.stdout.split()
    assert version == "1.5.0" and location.startswith(str(asset)), done.stdout
