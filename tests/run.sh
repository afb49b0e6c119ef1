#!/usr/bin/env bash
# The whole test suite. Sets up what it needs (virtualenvs, pinned pip and npm packages) on first
# run and whenever a requirements or lock file changes; later runs go straight to the tests.
# Extra arguments go to pytest, e.g.: bash tests/run.sh tests/unit -k semver
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export CDK_DISABLE_VERSION_CHECK=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

fingerprint() { cat "$@" | sha256sum | cut -c1-16; }

ensure_venv() {  # ensure_venv DIR REQUIREMENTS...
  local dir=$1; shift
  local want; want=$(fingerprint "$@")
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.requirements-fingerprint" 2>/dev/null)" != "$want" ]; then
    echo "setting up $dir (pip install -r $*) ..."
    python3 -m venv "$dir"
    # (grep: this machine's pip config names local wheel folders that may not exist; pip warns per package)
    for req in "$@"; do "$dir/bin/pip" install --quiet -r "$req" 2> >(grep -v "^WARNING: Location" >&2); done
    echo "$want" > "$dir/.requirements-fingerprint"
  fi
}

ensure_venv .venv requirements-dev.txt
ensure_venv .venv-checkov requirements-checkov.txt

if [ ! -x node_modules/.bin/cdk ] || [ "$(cat node_modules/.lock-fingerprint 2>/dev/null)" != "$(fingerprint package-lock.json)" ]; then
  echo "installing the pinned AWS CDK CLI (npm ci) ..."
  npm ci --no-audit --no-fund --silent
  fingerprint package-lock.json > node_modules/.lock-fingerprint
fi

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
