#!/usr/bin/env bash
# Deploy the AMI lifecycle orchestrator (both stacks of one stack tag) to the current AWS account and
# region, or run it on this machine with --local. destroy.sh sources this file for its helpers.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export CDK_DISABLE_VERSION_CHECK=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

deploy_usage() {
  cat <<'EOF'
Usage: bash deploy.sh [--stack-tag TAG] [--region REGION] [--yes] [--no-inspector]
       bash deploy.sh --local [ARGS...]

Deploys the stacks AmiLifecycle-<tag> and AmiLifecycleWorkflows-<tag> with the AWS CDK.

  --stack-tag TAG   deployment to create or update (default: $STACK_TAG, else cdk.json's
                    amiLifecycle.stackTag). Different tags deploy side by side.
  --region REGION   AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / your profile's region)
  --yes, -y         do not ask: enable Amazon Inspector EC2 scanning and deploy, including IAM
                    changes, without a confirmation prompt
  --no-inspector    do not enable Amazon Inspector EC2 scanning (vulnerability scans will then fail)
  --local           run the whole application on this machine, no AWS account needed
                    (execs local/run.sh with the remaining arguments)
  --help, -h        show this help

Needs AWS credentials (any source the AWS CLI/boto3 accepts) and a CDK-bootstrapped account/region.
Installs its own tooling on first run: .venv (pip, requirements.txt) and node_modules (npm ci).
EOF
}

die() { echo "error: $*" >&2; exit 1; }

# Ask a yes/no question on the terminal; "no" without a terminal.
confirm() {
  local answer
  [ -t 0 ] || return 1
  read -r -p "$1 [y/N] " answer
  [[ "$answer" =~ ^[Yy]([Ee][Ss])?$ ]]
}

ensure_tooling() {
  # shellcheck source=local/setup-env.sh
  source "$ROOT/local/setup-env.sh"
  ensure_venv "$ROOT/.venv" requirements-dev.txt || die "could not set up .venv"
  ensure_cdk_cli || die "could not install the AWS CDK CLI"
}

# Runs a boto3 snippet with the project's Python; the snippet may use ACCOUNT and REGION.
boto3_run() {
  "$ROOT/.venv/bin/python" -c "import os, boto3; ACCOUNT = os.environ.get('AMI_LC_ACCOUNT'); REGION = os.environ.get('AWS_REGION')
$1"
}

# Sets ACCOUNT and REGION (exported for cdk), or fails pointing at the local cloud.
require_aws() {
  local hint="No AWS account is needed to try the application: bash deploy.sh --local"
  REGION="${REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}"
  if [ -z "$REGION" ]; then
    REGION="$(boto3_run 'print(boto3.session.Session().region_name or "")' 2>/dev/null || true)"
  fi
  [ -n "$REGION" ] || die "no AWS region: pass --region or set AWS_REGION (or a region in your AWS profile).
$hint"
  export AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION"
  if command -v aws >/dev/null && aws --version >/dev/null 2>&1; then
    ACCOUNT="$(aws sts get-caller-identity --query Account --output text 2>/dev/null || true)"
  else
    ACCOUNT="$(boto3_run 'print(boto3.client("sts").get_caller_identity()["Account"])' 2>/dev/null || true)"
  fi
  [[ "$ACCOUNT" =~ ^[0-9]{12}$ ]] || die "no usable AWS credentials (sts get-caller-identity failed).
Configure credentials (aws configure, aws sso login, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).
$hint"
  export AMI_LC_ACCOUNT="$ACCOUNT"
  echo "AWS account $ACCOUNT, region $REGION"
}

require_bootstrap() {
  local version
  version="$(boto3_run '
try:
    print(boto3.client("ssm").get_parameter(Name="/cdk-bootstrap/hnb659fds/version")["Parameter"]["Value"])
except Exception:
    print("")' 2>/dev/null || true)"
  [ -n "$version" ] || die "account $ACCOUNT / region $REGION is not bootstrapped for the AWS CDK
(SSM parameter /cdk-bootstrap/hnb659fds/version not found). Bootstrap it once with:
  node_modules/.bin/cdk bootstrap aws://$ACCOUNT/$REGION"
  echo "CDK bootstrap version $version"
}

# Prints ENABLED, DISABLED, ENABLING, ... for Inspector EC2 scanning in this account and region.
inspector_ec2_status() {
  boto3_run '
status = boto3.client("inspector2").batch_get_account_status(accountIds=[ACCOUNT])["accounts"][0]
print(status["resourceState"]["ec2"]["status"])' 2>/dev/null || echo UNKNOWN
}

set_inspector_ec2() {  # set_inspector_ec2 enable|disable
  boto3_run "boto3.client('inspector2').$1(accountIds=[ACCOUNT], resourceTypes=['EC2'])" >/dev/null
}

resolve_stack_tag() {
  if [ -z "${TAG:-}" ]; then
    TAG="${STACK_TAG:-$("$ROOT/.venv/bin/python" -c 'import json, sys
print(json.load(open(sys.argv[1]))["context"]["amiLifecycle"]["stackTag"])' "$ROOT/cdk.json")}"
  fi
}

# --local hands every other argument to the local cloud, whatever it is (including --help).
run_local() {
  local args=() arg
  for arg in "$@"; do [ "$arg" = --local ] || args+=("$arg"); done
  if [ -f "$ROOT/local/run.sh" ]; then
    exec bash "$ROOT/local/run.sh" "${args[@]+"${args[@]}"}"
  fi
  echo "the local cloud is not built yet (see issue 'Local cloud')" >&2
  exit 3
}

# Shared by deploy.sh and destroy.sh: sets TAG, REGION, YES and INSPECTOR from the arguments.
parse_args() {  # parse_args USAGE_FUNCTION INSPECTOR_FLAG INSPECTOR_VALUE ARGS...
  local usage=$1 inspector_flag=$2 inspector_value=$3
  shift 3
  TAG="" REGION="" YES=false INSPECTOR=ask
  while [ $# -gt 0 ]; do
    case "$1" in
      --stack-tag) [ $# -ge 2 ] || die "--stack-tag needs a value"; TAG="$2"; shift ;;
      --region) [ $# -ge 2 ] || die "--region needs a value"; REGION="$2"; shift ;;
      --yes|-y) YES=true ;;
      "$inspector_flag") INSPECTOR=$inspector_value ;;
      --help|-h) "$usage"; exit 0 ;;
      *) "$usage" >&2; die "unknown argument: $1" ;;
    esac
    shift
  done
}

deploy_main() {
  local arg
  for arg in "$@"; do [ "$arg" != --local ] || run_local "$@"; done
  parse_args deploy_usage --no-inspector skip "$@"

  ensure_tooling
  require_aws
  require_bootstrap
  resolve_stack_tag

  # The vulnerability-scan workflow needs Amazon Inspector's EC2 scanning (billed per instance
  # scanned; new accounts get a 15-day free trial).
  if [ "$INSPECTOR" = ask ]; then
    local status; status="$(inspector_ec2_status)"
    if [ "$status" = ENABLED ] || [ "$status" = ENABLING ]; then
      echo "Amazon Inspector EC2 scanning: $status"
    elif $YES || confirm "Enable Amazon Inspector EC2 scanning in $ACCOUNT/$REGION (billed per scanned instance; 15-day free trial for new accounts)?"; then
      set_inspector_ec2 enable
      echo "Amazon Inspector EC2 scanning enabled"
    else
      echo "warning: Amazon Inspector EC2 scanning stays $status; vulnerability scans will fail until it is enabled" >&2
    fi
  fi

  local approval=()
  if $YES || confirm "Deploy stack tag '$TAG' to $ACCOUNT/$REGION now, including its IAM roles and policies?"; then
    approval=(--require-approval never)
  elif [ -t 0 ]; then
    echo "nothing deployed"; exit 1
  fi
  # Without a terminal and without --yes, cdk's own approval rule applies (it refuses IAM changes).
  cd "$ROOT"
  node_modules/.bin/cdk deploy --all -c "stackTag=$TAG" --no-notices "${approval[@]+"${approval[@]}"}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  deploy_main "$@"
fi
