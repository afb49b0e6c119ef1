"""`python -m local bench`: one full creation lifecycle on a fresh local cloud, measured.

Build, smoke tests, scans and the QA request, then certify and approve through the API (as a
client would, over HTTP with the role keys), then mark for production. Printed: state transitions
(states entered plus Retry attempts, as Step Functions bills them) and Lambda invocations of the
workflows' functions (steps and the callbacks function, whoever invoked them: the state machines or
EventBridge), and for every wait how long AWS took, how long the workflow waited and the completion
lag (AWS done -> the next state entered), in simulated seconds. Beside them, the original sample's
polling formulas for the same durations.

Each run needs a process of its own (moto keeps its account in module globals), so `--doubled`
runs the given durations and all of them doubled in two child processes and prints them side by side.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from local.durations import Durations
from local.server import LocalCloudServer
from local.state import DEFAULT_STATE_DIR, REPO, StatePaths

_SETTLED = ("COMPLETED", "FAILED", "ERROR")
_EVENTS = ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST")


@dataclass(frozen=True)
class Wait:
    workflow: str
    label: str
    mechanism: str  # "event" (callback) or "backoff"
    started: float  # epoch seconds: when AWS began the work
    done: float  # when AWS finished it
    resumed: float  # when the state after the wait was entered


# ----- the original sample: its state machines (reference/original-sample.md §5) fed the durations

def _polls(minutes: float, every: float, first_after: float = 0) -> int:
    """Polls of a loop that checks at first_after, then every `every` minutes, until `minutes` passed."""
    return int(max(0.0, minutes - first_after) // every) + 1


def original_sample(d: Durations) -> dict[str, dict[str, int]]:
    """Each step is a Lambda task plus a Choice on ERROR (2 transitions, 1 invocation); each poll is a
    Lambda task, two Choices and, while not ready, a Wait."""
    def loop(polls: int) -> tuple[int, int]:
        return polls * 3 + (polls - 1), polls

    build_t, build_i = loop(_polls(d.build, 3))
    scan_t, scan_i = loop(_polls(d.scan, 1, first_after=3))
    export_t, export_i = loop(_polls(d.export, 3))
    store_t, store_i = loop(_polls(d.store, 3))
    return {
        # start, poll loop (Wait 3 min), details, notify, SQS callback + Choice + Succeed
        "build": {"transitions": 2 + build_t + 2 + 2 + 3, "invocations": 3 + build_i},
        # prepare, executor callback (SQS), Choice, Wait 1 min, terminate, notify, Succeed; the
        # instance's own script calls back, so the smoke-test duration costs nothing
        "smoke-tests": {"transitions": 10, "invocations": 4},
        # prepare, launch, Wait 3 min, poll loop (Wait 1 min), findings, metrics, terminate, notify, Succeed
        "vulnerability-scans": {"transitions": 2 + 2 + 1 + scan_t + 8 + 1, "invocations": 6 + scan_i},
        # start, AMI poll (ready at once), export, poll loop (Wait 3 min), URL, QA notice, prepare, SQS callback
        "qa-certification-request": {"transitions": 2 + 3 + 2 + export_t + 6 + 3, "invocations": 6 + export_i},
        # entry (no Choice), backup, poll loop (Wait 3 min), notify, Succeed
        "mark-for-production": {"transitions": 1 + 2 + store_t + 2 + 1, "invocations": 3 + store_i},
    }


# ----- driving the lifecycle over the API

def _api(server: LocalCloudServer, method: str, path: str, role: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        server.gateway.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"x-api-key": server.role_keys[role], "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _until_settled(server: LocalCloudServer, lifecycle_id: str, event: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = _api(server, "GET", f"/ami-creation/lifecycles/{lifecycle_id}/status", "operator")
        statuses = {e["name"]: e["status"] for e in record["events"]}
        if statuses.get(event) in _SETTLED:
            if statuses[event] != "COMPLETED":
                raise RuntimeError(f"{event} ended {statuses[event]}: {record['events']}")
            return record
        time.sleep(1)  # each look is an API invocation: looking more often would disturb what is measured
    raise TimeoutError(f"{event} of {lifecycle_id} not settled after {timeout:.0f} s")


def run_lifecycle(server: LocalCloudServer, timeout: float) -> str:
    tag = server.stack_tag_value
    created = _api(server, "POST", "/ami-creation/lifecycles", "operator", {
        "stack_tag": tag, "owner": "bench", "product_name": "bench", "product_ver": "1.0.0",
        "notifications": [{"method": "EMAIL", "target": "bench@example.com"}],
        "events": [{"name": name, "enabled": True} for name in _EVENTS]})
    lifecycle_id = created["lifecycle_id"]
    _until_settled(server, lifecycle_id, "QA_CERTIFICATION_REQUEST", timeout)
    body = {"lifecycle_id": lifecycle_id, "stack_tag": tag}
    _api(server, "POST", f"/ami-creation/lifecycles/{lifecycle_id}/certify", "qa", {**body, "certification_status": "CERTIFIED"})
    _api(server, "POST", f"/ami-creation/lifecycles/{lifecycle_id}/approve", "approver",
         {**body, "approval_status": "APPROVED", "approver": "bench"})
    _until_settled(server, lifecycle_id, "MARK_FOR_PRODUCTION_CREATE", timeout)
    return lifecycle_id


# ----- what the run cost and how late each wait resumed

def _entered(history: list[dict[str, Any]], state: str) -> float:
    return next(e["timestamp"].timestamp() for e in history
                if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == state)


def _output(history: list[dict[str, Any]], state: str) -> dict[str, Any]:
    return next(json.loads(e["stateExitedEventDetails"]["output"]) for e in history
                if e["type"].endswith("StateExited") and e["stateExitedEventDetails"]["name"] == state)


def measure_waits(server: LocalCloudServer, lifecycle_id: str) -> list[Wait]:
    cloud = server.cloud
    epoch, seconds = cloud.scale.epoch, cloud.scale.seconds
    prefix = f"ami-lc-{server.deployment_tag}-"  # stacks/naming.py: state machine names
    history = {e["machine"].removeprefix(prefix): e["history"] for e in cloud.executions(lifecycle_id)}
    smoke_instance = _output(history["smoke-tests"], "Launch instance")["run"]["instance"]["instance_id"]
    scan_instance = _output(history["vulnerability-scans"], "Launch instance")["run"]["instance"]["instance_id"]
    (image,), (command,), (restore,), (export,) = (cloud.image_builder.images.values(), cloud.ssm.commands.values(),
                                                    cloud.ec2_images.restores.values(), cloud.ec2_images.exports.values())
    stores = sorted((t for tasks in cloud.ec2_images.stores.values() for t in tasks), key=lambda t: t.started)
    durations, launched = cloud.durations, cloud.ec2_instances.launched

    def task_wait(workflow: str, label: str, task: Any, minutes: float, next_state: str) -> Wait:
        return Wait(workflow, label, "backoff", epoch(task.started), epoch(task.started + seconds(minutes * 60)),
                    _entered(history[workflow], next_state))

    return [
        Wait("build", "Image Builder build", "event", epoch(image.started), epoch(image.finished),
             _entered(history["build"], "Read image details")),
        Wait("smoke-tests", "SSM agent registration", "backoff", epoch(launched[smoke_instance]),
             epoch(cloud.ssm.registered_at(smoke_instance)), _entered(history["smoke-tests"], "Run checks")),
        Wait("smoke-tests", "Run Command checks", "event", epoch(command["started"]), epoch(command["finished"]),
             _entered(history["smoke-tests"], "Read results")),
        Wait("vulnerability-scans", "Inspector initial scan", "event", epoch(launched[scan_instance]),
             epoch(cloud.inspector.scanned[scan_instance]), _entered(history["vulnerability-scans"], "Evaluate findings")),
        task_wait("qa-certification-request", "store (QA staging)", stores[0], durations.store, "Start restore"),
        Wait("qa-certification-request", "restore of the copy", "event", epoch(restore.started), epoch(restore.settled),
             _entered(history["qa-certification-request"], "Start export")),
        task_wait("qa-certification-request", "VM export", export, durations.export, "Clean up"),
        task_wait("mark-for-production", "store (backup)", stores[1], durations.store, "Route outcome"),
    ]


def _invocations(server: LocalCloudServer, lifecycle_id: str) -> dict[str, int]:
    """The workflows' functions, by function: step invocations of this lifecycle, and every EventBridge
    delivery to the callbacks function (the bench's cloud runs nothing else)."""
    counts: dict[str, int] = {}
    for invocation in server.cloud.runtime.invocations:
        module = invocation.handler.removeprefix("lambdas.steps.").split(".", 1)[0]
        event = invocation.event if isinstance(invocation.event, dict) else {}
        if invocation.handler.startswith("lambdas.steps.") and (
                event.get("lifecycle_id") == lifecycle_id or "detail-type" in event):
            name = module.replace("_", "-")
            counts[name] = counts.get(name, 0) + 1
    return counts


def _lag(wait: Wait, factor: float) -> dict[str, Any]:
    waited = (wait.resumed - wait.started) / factor
    lag = (wait.resumed - wait.done) / factor
    return {"workflow": wait.workflow, "wait": wait.label, "mechanism": wait.mechanism,
            "aws_seconds": round((wait.done - wait.started) / factor), "waited_seconds": round(waited),
            "lag_seconds": round(lag, 1), "lag_percent": round(100 * lag / waited, 1) if waited else 0.0}


def measure(time_factor: float, durations: Durations, state_dir: Path, timeout: float = 1800) -> dict[str, Any]:
    from local.cloud import state_transitions  # moto-heavy: only when a bench runs

    # Its own profile, whatever AMI_LC_PROFILE names: a bench never overwrites a running cloud's.
    paths = StatePaths.of(state_dir, profile=state_dir / "profile.json")
    server = LocalCloudServer(paths=paths, port=0, time_factor=time_factor, durations=durations)
    try:
        server.start()
        started = time.monotonic()
        lifecycle_id = run_lifecycle(server, timeout)
        wall = time.monotonic() - started
        time.sleep(0.5)  # late EventBridge deliveries (events no wait needs any more) are counted too
        workflows = {e["machine"].removeprefix(f"ami-lc-{server.deployment_tag}-"): state_transitions(e["history"])
                     for e in server.cloud.executions(lifecycle_id)}
        invocations = _invocations(server, lifecycle_id)
        waits = [_lag(w, time_factor) for w in measure_waits(server, lifecycle_id)]
    finally:
        server.stop()
    original = original_sample(durations)
    return {
        "time_factor": time_factor, "durations": asdict(durations), "lifecycle_id": lifecycle_id,
        "wall_seconds": round(wall, 1), "transitions": {w: t["billed"] for w, t in workflows.items()},
        "invocations": invocations, "waits": waits, "original_sample": original,
        "totals": {"transitions": sum(t["billed"] for t in workflows.values()), "invocations": sum(invocations.values()),
                   "original_transitions": sum(o["transitions"] for o in original.values()),
                   "original_invocations": sum(o["invocations"] for o in original.values())},
    }


# ----- cold imports: what each handler loads before it can answer, against a bare `import boto3`

HANDLERS = (
    *(f"lambdas.api.handlers.{name}" for name in ("read", "lifecycles", "certify", "approve")),
    *(f"lambdas.receivers.{name}" for name in ("creation", "patch", "error")),
    "lambdas.jobs.reconciler", "lambdas.jobs.garbage_collector",
    *(f"lambdas.steps.{name}.handler" for name in ("build", "patch", "smoke_tests", "vulnerability_scans",
                                                  "qa_certification_request", "mark_for_production", "callbacks")),
)
_TIMED_IMPORT = "import sys, time; t = time.perf_counter(); __import__(sys.argv[1]); print(time.perf_counter() - t)"


def import_times(rounds: int = 7) -> dict[str, float]:
    """Median milliseconds to import each handler in a fresh interpreter (bytecode cached, as in a
    deployed package), the rounds interleaved so every module sees the same machine load."""
    modules = ("boto3", *HANDLERS)
    for module in modules:  # compile and cache the bytecode first
        subprocess.run([sys.executable, "-c", _TIMED_IMPORT, module], cwd=REPO, check=True, capture_output=True)
    samples: dict[str, list[float]] = {m: [] for m in modules}
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"}
    for _ in range(rounds):
        for module in modules:
            done = subprocess.run([sys.executable, "-c", _TIMED_IMPORT, module], cwd=REPO, env=env, check=True,
                                  capture_output=True, text=True)
            samples[module].append(1000 * float(done.stdout))
    return {m: round(sorted(v)[len(v) // 2]) for m, v in samples.items()}


def render_imports(times: dict[str, float]) -> str:
    baseline = times["boto3"]
    rows = [["module", "import ms", "x bare boto3"]] + [[m, f"{t:.0f}", f"{t / baseline:.2f}"] for m, t in times.items()]
    return _table(rows)


# ----- printing

def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=False)))
                     for row in rows)


def render(reports: list[dict[str, Any]]) -> str:
    heads = [r["durations"] for r in reports]
    names = [", ".join(f"{k}={v:g}" for k, v in h.items()) for h in heads]
    lines = [f"time factor {reports[0]['time_factor']:g}; durations in simulated minutes:"]
    lines += [f"  run {n + 1}: {name}" for n, name in enumerate(names)]
    rows = [["workflow"] + [f"run {n + 1}: transitions / invocations (sample's formula)" for n in range(len(reports))]]
    for workflow in reports[0]["original_sample"]:
        rows.append([workflow] + [f"{r['transitions'].get(workflow, 0)} / {r['invocations'].get(workflow, 0)}"
                                  f" ({r['original_sample'][workflow]['transitions']} / {r['original_sample'][workflow]['invocations']})"
                                  for r in reports])
    rows.append(["callbacks function"] + [f"- / {r['invocations'].get('callbacks', 0)}" for r in reports])
    rows.append(["total"] + [f"{r['totals']['transitions']} / {r['totals']['invocations']}"
                             f" ({r['totals']['original_transitions']} / {r['totals']['original_invocations']})" for r in reports])
    lines += ["", _table(rows), ""]
    rows = [["wait", "mechanism"] + [f"run {n + 1}: AWS s / waited s / lag s (%)" for n in range(len(reports))]]
    for i, wait in enumerate(reports[0]["waits"]):
        rows.append([f"{wait['workflow']}: {wait['wait']}", wait["mechanism"]] + [
            f"{r['waits'][i]['aws_seconds']} / {r['waits'][i]['waited_seconds']} / {r['waits'][i]['lag_seconds']:g}"
            f" ({r['waits'][i]['lag_percent']:g} %)" for r in reports])
    lines += [_table(rows), "", "wall: " + ", ".join(f"run {n + 1} {r['wall_seconds']} s" for n, r in enumerate(reports))]
    return "\n".join(lines)


def _child(time_factor: float, durations: Durations, state_dir: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "local", "bench", "--json", "--time-factor", str(time_factor),
               "--durations", durations.text(), "--state-dir", str(state_dir)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench run failed ({done.returncode}): {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(time_factor: float, durations: Durations, state_dir: Path | None, doubled: bool, as_json: bool,
         imports: bool = False) -> int:
    if imports:
        print(render_imports(import_times()), flush=True)
        return 0
    base = state_dir or DEFAULT_STATE_DIR / "bench"  # the synthesized app is cached there between runs
    if doubled:
        reports = [_child(time_factor, d, base / name) for name, d in (("default", durations), ("doubled", durations.times(2)))]
    else:
        with contextlib.redirect_stdout(sys.stderr):  # the handlers' log lines; stdout holds the report only
            reports = [measure(time_factor, durations, base)]
    print(json.dumps(reports[0]) if as_json and not doubled else render(reports), flush=True)
    return 0

