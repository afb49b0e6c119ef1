"""api-cli: the operator command line of the AMI lifecycle orchestrator (BATCH and UI modes).

The package validates requests with the API's own models (lambdas/domain/requests.py) and shares the
deployment discovery of the AMI selection client (client/deployment.py), so the repository root must
be importable; it is added to sys.path here when the package runs from a checkout (`python
cli/api-cli.py`, or `pip install -e cli`, which keeps the package in place).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if (REPO_ROOT / "lambdas").is_dir() and str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
