"""The waits' budget, measured as the README reports it: `python -m local bench` runs one full creation
lifecycle (all events, certify, approve over HTTP) on a fresh local cloud, in a process of its own.

At time factor 0.01 a second of handler time is 100 simulated seconds, so the event-driven lags are
only reported here; the counts do not depend on the factor (backoff sums its simulated Waits)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.synth import REPO

WORKFLOWS = ("build", "smoke-tests", "vulnerability-scans", "qa-certification-request", "mark-for-production")


def test_a_creation_lifecycle_stays_within_the_transition_and_invocation_budget() -> None:
    done = subprocess.run([sys.executable, "-m", "local", "bench", "--json", "--time-factor", "0.01"],
                          cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert set(report["transitions"]) == set(WORKFLOWS), report["transitions"]
    assert report["totals"]["transitions"] <= 60, report["transitions"]
    assert report["totals"]["invocations"] <= 35, report["invocations"]
    assert report["totals"]["original_transitions"] > 3 * report["totals"]["transitions"]
    backoff = [w for w in report["waits"] if w["mechanism"] == "backoff"]
    assert backoff and all(w["lag_percent"] <= 25 for w in backoff), backoff
    print(json.dumps({"totals": report["totals"], "waits": report["waits"]}, indent=1))
