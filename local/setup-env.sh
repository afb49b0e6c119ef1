#!/usr/bin/env bash
# Sourced by tests/run.sh, deploy.sh and local/run.sh: the one way this project sets up its tools.
#   ensure_venv DIR REQUIREMENTS...   a virtualenv, refreshed when the requirements files change
#   ensure_cdk_cli                    the pinned AWS CDK CLI in node_modules, refreshed with the lock
# A fingerprint of the inputs is kept next to what they built, so later runs skip straight past.

_setup_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PIP_DISABLE_PIP_VERSION_CHECK=1

fingerprint() { cat "$@" | sha256sum | cut -c1-16; }

# A requirements file and the files it includes with "-r" (one level, relative to the repo root).
_with_includes() {
  local req
  for req in "$@"; do
    echo "$req"
    sed -n 's/^-r[[:space:]]*//p' "$_setup_root/$req"
  done
}

ensure_venv() {  # ensure_venv DIR REQUIREMENTS...
  local dir=$1; shift
  local want; want=$(cd "$_setup_root" && fingerprint $(_with_includes "$@"))
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.requirements-fingerprint" 2>/dev/null)" != "$want" ]; then
    echo "setting up $dir (pip install -r $*) ..." >&2
    command -v python3 >/dev/null || { echo "error: python3 is required" >&2; return 1; }
    python3 -m venv "$dir"
    local req
    for req in "$@"; do
      # (grep: this machine's pip config names local wheel folders that may not exist; pip warns per package)
      "$dir/bin/pip" install --quiet -r "$_setup_root/$req" 2> >(grep -v "^WARNING: Location" >&2) >&2 || return 1
    done
    echo "$want" > "$dir/.requirements-fingerprint"
  fi
}

ensure_cdk_cli() {
  command -v npm >/dev/null || { echo "error: npm (Node.js) is required for the AWS CDK CLI" >&2; return 1; }
  local want; want=$(fingerprint "$_setup_root/package-lock.json")
  if [ ! -x "$_setup_root/node_modules/.bin/cdk" ] || [ "$(cat "$_setup_root/node_modules/.lock-fingerprint" 2>/dev/null)" != "$want" ]; then
    echo "installing the pinned AWS CDK CLI (npm ci) ..." >&2
    (cd "$_setup_root" && npm ci --no-audit --no-fund --silent) >&2 || return 1
    echo "$want" > "$_setup_root/node_modules/.lock-fingerprint"
  fi
}
