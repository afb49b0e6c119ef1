#!/usr/bin/env python3
"""api-cli: operate AMI lifecycles through the orchestrator API. `python cli/api-cli.py --help`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ami_cli.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
