#!/usr/bin/env bash
# Print the id of an AMI selected from the orchestrator's lookup table; only the id goes to stdout:
#
#   AMI=$(bash client/get_ami.sh)                       # latest hardened AMI of this git branch's stack tag
#   bash get_ami.sh --minStage production --semver ^2.1 --productName "My Product Name"
#   bash get_ami.sh --json                              # the AMI's record (see --help)
#
# Defaults: stack tag = slug of the current git branch ("main" outside git), min stage hardened, latest
# semver, the region of AWS_REGION (or of the local cloud profile). Options: python3 ami_selection.py --help.
# Exit codes: 0 found, 1 no AMI matches (message on stderr), 2 usage error, 3 lookup table unreadable.
# Uses the repository's .venv python when present, else python3 (which then needs boto3 and pydantic).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="$here/../.venv/bin/python"
if [ ! -x "$python" ]; then
  python="$(command -v python3 || true)"
  if [ -z "$python" ]; then
    echo "get_ami.sh: python3 not found (create the repository's .venv, see README)" >&2
    exit 3
  fi
fi
exec "$python" "$here/ami_selection.py" "$@"
