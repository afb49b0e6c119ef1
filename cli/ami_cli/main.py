"""Entry point: `python cli/api-cli.py ...` or `api-cli ...` (console script of cli/pyproject.toml)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from .errors import USAGE, CliError
from .operations import Session, execute
from .options import parse_args
from .target import Target
from .ui import run_ui


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
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv)
        session = Session(
            target=Target(endpoint=options.endpoint, deployment_tag=options.deployment_tag, region=options.region,
                          env=environment),
            out=out,
            err=err,
            env=environment,
            cwd=cwd or Path.cwd(),
            sleep=sleep,
            clock=clock,
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


def run() -> None:
    """Console script entry point."""
    sys.exit(main())


__all__ = ["main", "run", "USAGE"]
