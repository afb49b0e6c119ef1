#!/usr/bin/env bash
# The whole test suite. Sets up what it needs (virtualenvs, pinned pip and npm packages) on first
# run and whenever a requirements or lock file changes; later runs go straight to the tests.
# Extra arguments go to pytest, e.g.: bash tests/run.sh tests/unit -k semver
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export CDK_DISABLE_VERSION_CHECK=1
# shellcheck source=local/setup-env.sh
source local/setup-env.sh
ensure_venv .venv requirements-dev.txt
ensure_venv .venv-checkov requirements-checkov.txt
ensure_cdk_cli

# The timeline page's browser test drives Debian's headless Chromium.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium and chromium-driver ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      chromium chromium-driver >/dev/null
  else
    echo "note: chromium/chromedriver are missing and this is not root: the browser test will be skipped" >&2
  fi
fi

export CHECKOV_BIN="$PWD/.venv-checkov/bin/checkov"
# Two workers: the suite is I/O- and synth-bound, and these machines have two cores.
exec .venv/bin/python -m pytest -n 2 "$@"
