"""The quality gates of the smoke-test and vulnerability-scan events: whether the AMI passes, and why not.

A gate decides a verdict (the event COMPLETED or FAILED); it never errors: what prevents a verdict (no
check output, an instance Inspector cannot scan) is a step error, raised before any gate is applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from lambdas.domain.contracts import SmokeCheck

# Reasons travel in the result message and the lifecycle record: a long list of failures is cut here.
REASON_LIMIT = 1000


@dataclass(frozen=True)
class GateVerdict:
    passed: bool
    reason: str | None = None  # why the gate failed; None when it passed

    @property
    def status(self) -> Literal["COMPLETED", "FAILED"]:
        return "COMPLETED" if self.passed else "FAILED"


def smoke_verdict(checks: Iterable[SmokeCheck]) -> GateVerdict:
    """Every check must pass, and there must be checks: a script that checked nothing proves nothing.
    The reason names each failed check, with its detail when it gave one."""
    checks = list(checks)
    if not checks:
        return GateVerdict(passed=False, reason="the check script reported no checks")
    failed = [check for check in checks if not check.passed]
    if not failed:
        return GateVerdict(passed=True)
    reason = "; ".join(f"{check.name}: {check.detail}".strip(": ") for check in failed)
    return GateVerdict(passed=False, reason=f"{len(failed)} smoke check(s) failed: {reason}"[:REASON_LIMIT])


@dataclass(frozen=True)
class FindingsGate:
    """The vulnerability gate: the event fails when a severity's finding count exceeds its threshold
    (the thresholds are the deployment's setting, `vulnerabilityGate` in cdk.json)."""

    max_critical: int
    max_high: int

    @property
    def rule(self) -> str:
        """The failing condition, as reported with the findings (e.g. 'CRITICAL>0 or HIGH>5')."""
        return f"CRITICAL>{self.max_critical} or HIGH>{self.max_high}"

    def verdict(self, counts: Mapping[str, int]) -> GateVerdict:
        """`counts`: findings per severity; a severity Inspector found nothing of may be absent."""
        critical, high = counts.get("CRITICAL", 0), counts.get("HIGH", 0)
        if critical <= self.max_critical and high <= self.max_high:
            return GateVerdict(passed=True)
        reason = f"{critical} CRITICAL and {high} HIGH findings fail the gate {self.rule}"
        return GateVerdict(passed=False, reason=reason)
