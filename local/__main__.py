"""The local cloud's command line (local/run.sh and `bash deploy.sh --local` call it).

  python -m local [--port N] [--time-factor F] [--stack-tag TAG] [--inject KIND]...   foreground
  python -m local --background [...]       start detached, wait until ready (bounded), exit 0
  python -m local --stop                   stop a background local cloud (exit 0 if none runs)
  python -m local --status                 print the state (exit 0 running, 1 not running)
  python -m local inject KIND              the next run of a step fails (a running local cloud)
  python -m local stats [--prefix ID]      Lambda invocations, state transitions, ... (JSON)
  python -m local bench [--durations D] [--doubled]   one full creation lifecycle, measured
  python -m local bench --imports          each handler's cold import against a bare `import boto3`

`--durations build=90,scan=20,export=40,store=20` (simulated minutes; also registration, command,
restore) sets how long the fakes' AWS work takes, for serve and bench.

State (pid file, log, profile, notifications, cdk.out) lives in --state-dir, else $AMI_LC_STATE_DIR,
else <repo>/.local-cloud; the profile is $AMI_LC_PROFILE, else <state dir>/profile.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from local import bench
from local.background import INJECTIONS
from local.durations import Durations
from local.server import DEFAULT_PORT, DEFAULT_TIME_FACTOR, serve
from local.state import REPO, StatePaths

READY_TIMEOUT = 240.0  # first start synthesizes the app (~10-20 s), then deploys (~5 s)
STOP_TIMEOUT = 30.0
_MOTO_ASL_EVALUATOR = "moto.stepfunctions.parser.asl.component.eval_component"


def _probe_of_an_absent_path(record: logging.LogRecord) -> bool:
    """Drop moto's ERROR line for a Choice rule that tests a path with IsPresent.

    moto's interpreter evaluates the rule's Variable like any JSONPath and logs every exception at
    ERROR before the Choice catches it and reads "absent" (`IsPresent: false`), which is what AWS
    does silently: the `$.error` / `$.run.cleanup_error` probes of a successful run are not errors.
    A path that is really missing elsewhere still fails the state and is logged as a
    FailureEventException.
    """
    return not record.getMessage().startswith("Exception=NoSuchJsonPathError")


def _durations(text: str) -> Durations:
    try:
        return Durations.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bash deploy.sh --local",
        description="Run the AMI lifecycle orchestrator on this machine (moto + in-process Lambda + fakes), "
        "no AWS account needed.",
        epilog="Failure injection kinds: " + "; ".join(f"{k}: {v}" for k, v in INJECTIONS.items()),
    )
    parser.add_argument("command", nargs="?", choices=("serve", "inject", "stats", "bench"), default="serve",
                        help="serve (default), inject KIND into the running cloud, print its stats, or bench: run one "
                             "full creation lifecycle on a fresh cloud and print its transitions, invocations and lags")
    parser.add_argument("kind", nargs="?", help="for inject: " + "|".join(INJECTIONS))
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"API port on 127.0.0.1 (default {DEFAULT_PORT}; 0 = any free port)")
    parser.add_argument("--time-factor", type=float, default=DEFAULT_TIME_FACTOR,
                        help=f"simulated time compression (default {DEFAULT_TIME_FACTOR}: a 45-minute build "
                        f"takes {45 * 60 * DEFAULT_TIME_FACTOR:.1f} s)")
    parser.add_argument("--stack-tag", help="deployment tag to synthesize (default: cdk.json's stackTag)")
    parser.add_argument("--durations", type=_durations, default=Durations(), metavar="NAME=MINUTES,...",
                        help="simulated minutes the fakes take: " + Durations().text())
    parser.add_argument("--doubled", action="store_true", help="for bench: also run every duration doubled, side by side")
    parser.add_argument("--json", action="store_true", help="for bench: print the measurement as JSON")
    parser.add_argument("--imports", action="store_true",
                        help="for bench: measure each handler's cold import against a bare `import boto3` instead")
    parser.add_argument("--inject", action="append", default=[], choices=sorted(INJECTIONS), metavar="KIND",
                        help="make the next run of a step fail; with a running cloud, injects into it")
    parser.add_argument("--no-inspector", action="store_true",
                        help="leave Amazon Inspector EC2 scanning off, as `deploy.sh --no-inspector` does on AWS "
                             "(vulnerability scans then end FAILED with the remedy)")
    parser.add_argument("--background", action="store_true", help="start detached and return once ready")
    parser.add_argument("--stop", action="store_true", help="stop the background local cloud")
    parser.add_argument("--status", action="store_true", help="is a local cloud running?")
    parser.add_argument("--state-dir", type=Path, help="state directory (default: $AMI_LC_STATE_DIR or .local-cloud)")
    parser.add_argument("--prefix", default="", help="for stats: count the executions of this lifecycle id")
    parser.add_argument("--ready-timeout", type=float, default=READY_TIMEOUT, help=argparse.SUPPRESS)
    return parser


# ----- process helpers ---------------------------------------------------------------------------------


def _running_pid(paths: StatePaths) -> int | None:
    """The pid of this state dir's server, if that process is alive and is a local cloud."""
    try:
        pid = int(paths.pid.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return pid
    # A recycled pid belongs to some other program: never signal it.
    return pid if b"local" in cmdline and any(part.endswith(b"python") or b"python3" in part for part in cmdline) else None


def _status(paths: StatePaths) -> dict:
    try:
        return json.loads(paths.status.read_text())
    except (OSError, ValueError):
        return {}


def _control(paths: StatePaths, method: str, path: str) -> dict:
    try:
        control = json.loads(paths.control.read_text())
    except (OSError, ValueError):
        raise SystemExit(f"no running local cloud in {paths.root} (start one: bash deploy.sh --local --background)") from None
    request = urllib.request.Request(control["url"] + path, method=method, data=b"" if method == "POST" else None,
                                     headers={"x-local-cloud-token": control["token"]})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise SystemExit(f"the local cloud in {paths.root} does not answer: {exc}") from None


def _wait_ready(paths: StatePaths, process: subprocess.Popen, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _status(paths)
        if status.get("pid") == process.pid and status.get("state") in ("ready", "failed", "stopped"):
            return status
        if process.poll() is not None:
            return _status(paths) or {"state": "failed", "error": f"exited with code {process.returncode}"}
        time.sleep(0.25)
    return None


def _start_background(args: argparse.Namespace, paths: StatePaths) -> int:
    if (pid := _running_pid(paths)) is not None:
        print(f"a local cloud is already running (pid {pid}); stop it first: bash deploy.sh --local --stop",
              file=sys.stderr)
        return 1
    paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    command = [sys.executable, "-m", "local", "serve", "--port", str(args.port), "--time-factor",
               str(args.time_factor), "--state-dir", str(paths.root)]
    if args.stack_tag:
        command += ["--stack-tag", args.stack_tag]
    for kind in args.inject:
        command += ["--inject", kind]
    if args.no_inspector:
        command.append("--no-inspector")
    command += ["--durations", args.durations.text()]
    fd = os.open(paths.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    env = {**os.environ, "AMI_LC_PROFILE": str(paths.profile), "PYTHONUNBUFFERED": "1"}
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True)
    status = _wait_ready(paths, process, args.ready_timeout)
    if status is None or status.get("state") != "ready":
        reason = (status or {}).get("error") or f"not ready after {args.ready_timeout:.0f} s"
        print(f"the local cloud did not start: {reason} (log: {paths.log})", file=sys.stderr)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
        return 1
    tail = paths.log.read_text(errors="replace")
    marker = tail.find("The local cloud is running")
    print(tail[marker:] if marker >= 0 else f"local cloud ready: {status.get('endpoint')}")
    print(f"Running in the background (pid {process.pid}, log {paths.log}).")
    return 0


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (an exited child its parent has not reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _stop(paths: StatePaths) -> int:
    pid = _running_pid(paths)
    if pid is None:
        print("no local cloud is running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if not _alive(pid):
            print(f"local cloud stopped (pid {pid})")
            return 0
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    print(f"local cloud killed after {STOP_TIMEOUT:.0f} s (pid {pid})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    paths = StatePaths.of(args.state_dir)
    if args.stop:
        return _stop(paths)
    if args.status:
        pid = _running_pid(paths)
        print(json.dumps({**_status(paths), "running": pid is not None}, indent=2))
        return 0 if pid is not None else 1
    if args.command == "inject":
        if args.kind not in INJECTIONS:
            print(f"inject KIND: one of {', '.join(INJECTIONS)}", file=sys.stderr)
            return 2
        print(json.dumps(_control(paths, "POST", f"/inject/{args.kind}")))
        return 0
    if args.command == "stats":
        print(json.dumps(_control(paths, "GET", f"/stats?prefix={args.prefix}"), indent=2))
        return 0
    if args.command == "bench":
        _quiet_logging(logging.WARNING)
        return bench.main(args.time_factor, args.durations, args.state_dir, args.doubled, args.json, args.imports)
    if args.inject and not args.background and _running_pid(paths) is not None:
        # `bash deploy.sh --local --inject KIND` while a cloud runs: inject into it.
        for kind in args.inject:
            print(json.dumps(_control(paths, "POST", f"/inject/{kind}")))
        return 0
    if args.background:
        return _start_background(args, paths)
    if (pid := _running_pid(paths)) is not None and pid != os.getpid():
        print(f"a local cloud is already running in {paths.root} (pid {pid}); stop it: bash deploy.sh --local --stop",
              file=sys.stderr)
        return 1
    _quiet_logging(logging.INFO)
    return serve(paths=paths, port=args.port, time_factor=args.time_factor, stack_tag=args.stack_tag,
                 inject=args.inject, inspector=not args.no_inspector, durations=args.durations)


def _quiet_logging(level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger(_MOTO_ASL_EVALUATOR).addFilter(_probe_of_an_absent_path)


if __name__ == "__main__":
    sys.exit(main())
