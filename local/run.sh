#!/usr/bin/env bash
# The local cloud: the whole AMI lifecycle orchestrator on this machine, no AWS account.
# `bash deploy.sh --local [ARGS]` execs this script. Usage: bash local/run.sh --help
#
#   bash deploy.sh --local                      foreground; Ctrl-C stops it
#   bash deploy.sh --local --background         start detached, return once ready
#   bash deploy.sh --local --stop               stop the background one
#   bash deploy.sh --local --port 0 --time-factor 0.002 --inject build-failure
#   bash deploy.sh --local inject scan-critical   (a running cloud: the next scan finds a CRITICAL)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export CDK_DISABLE_VERSION_CHECK=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

# shellcheck source=local/setup-env.sh
source "$ROOT/local/setup-env.sh"
# --stop, --status and inject need no refreshed environment, only a working one.
case " $* " in
  *" --stop "*|*" --status "*|*" inject "*|*" stats "*|*" --help "*|*" -h "*)
    [ -x .venv/bin/python ] || ensure_venv .venv requirements-dev.txt ;;
  *) ensure_venv .venv requirements-dev.txt ;;
esac

exec .venv/bin/python -m local "$@"
