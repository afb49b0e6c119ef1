#!/usr/bin/env python3
"""api-cli: operate AMI lifecycles through the orchestrator API. `python3 cli/api-cli.py --help`.

Runs with any Python 3.11+: when the packages it needs (pydantic, boto3, PyYAML) are missing, as with
a bare /usr/bin/python3, it re-executes itself with the repository's .venv/bin/python, which
`bash deploy.sh --local` (or `bash tests/run.sh`) creates. This part uses the standard library only.
"""

import importlib.util
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_PYTHON = HERE.parent / ".venv" / "bin" / "python"
NEEDED = ("pydantic", "boto3", "yaml")


def _bootstrap() -> None:
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if not missing:
        return
    running_venv = Path(sys.prefix).resolve() == VENV_PYTHON.parent.parent.resolve()
    if VENV_PYTHON.exists() and not running_venv:
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])
    print(f"api-cli: error: this Python ({sys.executable}) lacks {', '.join(missing)}; create the repository's "
          f".venv with `bash deploy.sh --local` (or: pip install -r requirements.txt -r cli/requirements.txt)",
          file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    _bootstrap()
    sys.path.insert(0, str(HERE))
    from ami_cli.main import main

    sys.exit(main())
