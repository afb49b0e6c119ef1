"""The quality gates: a smoke test fails on any failed check, a scan fails when a severity's findings
exceed the gate's threshold, and a failed gate says why."""

from __future__ import annotations

import pytest

from lambdas.domain.contracts import SmokeCheck
from lambdas.domain.quality_gates import REASON_LIMIT, FindingsGate, smoke_verdict


def _checks(*results: tuple[str, bool, str]) -> list[SmokeCheck]:
    return [SmokeCheck(name=name, passed=passed, detail=detail) for name, passed, detail in results]


def test_smoke_tests_pass_when_every_check_passes() -> None:
    verdict = smoke_verdict(_checks(("sshd", True, "running"), ("imdsv2", True, "")))

    assert (verdict.passed, verdict.status, verdict.reason) == (True, "COMPLETED", None)


def test_one_failed_check_fails_the_smoke_tests_and_the_reason_names_each_failure() -> None:
    verdict = smoke_verdict(_checks(("sshd", True, ""), ("imdsv2", False, "token not required"), ("agent", False, "")))

    assert (verdict.passed, verdict.status) == (False, "FAILED")
    assert verdict.reason == "2 smoke check(s) failed: imdsv2: token not required; agent"


def test_a_script_that_reports_no_checks_fails_the_smoke_tests() -> None:
    verdict = smoke_verdict([])

    assert (verdict.status, verdict.reason) == ("FAILED", "the check script reported no checks")


def test_a_long_list_of_failures_is_cut_to_the_reason_limit() -> None:
    verdict = smoke_verdict(_checks(*((f"check-{n}", False, "x" * 50) for n in range(100))))

    assert verdict.reason is not None and len(verdict.reason) == REASON_LIMIT
    assert verdict.reason.startswith("100 smoke check(s) failed: check-0: ")


@pytest.mark.parametrize(
    ("critical", "high", "passed"),
    [(0, 0, True), (0, 5, True), (0, 6, False), (1, 0, False)],
)
def test_the_default_gate_fails_any_critical_or_more_than_five_high_findings(critical: int, high: int,
                                                                              passed: bool) -> None:
    gate = FindingsGate(max_critical=0, max_high=5)

    verdict = gate.verdict({"CRITICAL": critical, "HIGH": high, "MEDIUM": 40, "LOW": 90})

    assert (verdict.passed, verdict.status) == (passed, "COMPLETED" if passed else "FAILED")
    assert gate.rule == "CRITICAL>0 or HIGH>5"
    if not passed:
        assert verdict.reason == f"{critical} CRITICAL and {high} HIGH findings fail the gate CRITICAL>0 or HIGH>5"


def test_thresholds_are_the_deployments_and_a_severity_not_found_counts_zero() -> None:
    lenient = FindingsGate(max_critical=2, max_high=10)

    assert lenient.verdict({"CRITICAL": 2, "HIGH": 10}).passed
    assert not lenient.verdict({"CRITICAL": 3}).passed
    assert FindingsGate(max_critical=0, max_high=0).verdict({}).passed
