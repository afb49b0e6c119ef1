"""Entry point: `python3 cli/api-cli.py ...`, the cli/api-cli wrapper, or the console script of cli/pyproject.toml."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from lambdas.domain.cli_commands import CLI_PROGRAM

from .errors import USAGE, CliError
from .operations import Session, execute
from .options import parse_args
from .target import Target
from .ui import run_ui


PROGRAM_ENV = "AMI_LC_CLI_PROG"


def main(
    argv: list[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 API or lifecycle failure, 2 usage error)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    environment = os.environ if env is None else env
    workdir = cwd or Path.cwd()
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv)
        session = Session(
            target=Target(endpoint=options.endpoint, deployment_tag=options.deployment_tag, region=options.region,
                          env=environment),
            out=out,
            err=err,
            env=environment,
            cwd=workdir,
            sleep=sleep,
            clock=clock,
            program=program_name(environment, workdir, sys.argv[0] if argv is None else None),
        )
        if options.mode == "UI":
            return run_ui(options, session, stdin or sys.stdin)
        return execute(options, session)
    except CliError as exc:
        print(f"api-cli: error: {' '.join(exc.message.split())}", file=err)
        return exc.exit_code
    except KeyboardInterrupt:
        print("api-cli: interrupted", file=err)
        return 130


def program_name(env: Mapping[str, str], cwd: Path, script: str | None) -> str:
    """How the commands this run prints name the CLI, so they run when pasted where it ran: the
    wrapper's name (cli/api-cli sets AMI_LC_CLI_PROG), else `python3 <path of api-cli.py>`."""
    if env.get(PROGRAM_ENV):
        return env[PROGRAM_ENV]
    if script and Path(script).name == "api-cli.py":
        path = Path(script).resolve()
        relative = os.path.relpath(path, cwd)
        return f"python3 {relative if not relative.startswith('..') else path}"
    return CLI_PROGRAM


def run() -> None:
    """Console script entry point."""
    sys.exit(main())


__all__ = ["main", "run", "USAGE"]
