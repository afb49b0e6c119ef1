#!/usr/bin/env bash
# Tear down one deployment (both stacks of a stack tag). Retained data (state tables, patch bucket,
# KMS key; cdk.json amiLifecycle.retainData) survives and must be deleted by hand if unwanted.
set -euo pipefail

# shellcheck source=deploy.sh
source "$(dirname "${BASH_SOURCE[0]}")/deploy.sh"  # helpers only; deploy.sh runs nothing when sourced

destroy_usage() {
  cat <<'EOF'
Usage: bash destroy.sh [--stack-tag TAG] [--region REGION] [--yes] [--keep-inspector]

Destroys the stacks AmiLifecycle-<tag> and AmiLifecycleWorkflows-<tag>.

  --stack-tag TAG    deployment to destroy (default: $STACK_TAG, else cdk.json's amiLifecycle.stackTag)
  --region REGION    AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / your profile's region)
  --yes, -y          do not ask: destroy, and disable Amazon Inspector EC2 scanning
  --keep-inspector   leave Amazon Inspector EC2 scanning as it is (choose this while other stack tags,
                     or anything else in the account, still rely on it)
  --help, -h         show this help

With retainData (the default) the state tables, the patch-component bucket and the KMS key are kept.
EOF
}

destroy_main() {
  parse_args destroy_usage --keep-inspector keep "$@"

  ensure_tooling
  require_aws
  resolve_stack_tag

  # Both questions first, so nothing waits for an answer after the (long) destroy.
  if [ "$INSPECTOR" = ask ]; then
    local status; status="$(inspector_ec2_status)"
    if [ "$status" = DISABLED ]; then
      INSPECTOR=keep
    elif $YES || confirm "Disable Amazon Inspector EC2 scanning in $ACCOUNT/$REGION after the destroy (status: $status)? Say no if other deployments use it."; then
      INSPECTOR=disable
    fi
  fi
  if ! $YES && ! confirm "Destroy stack tag '$TAG' in $ACCOUNT/$REGION?"; then
    echo "nothing destroyed"; exit 1
  fi

  (cd "$ROOT" && node_modules/.bin/cdk destroy --all -c "stackTag=$TAG" --no-notices --force)
  if [ "$INSPECTOR" = disable ]; then
    set_inspector_ec2 disable
    echo "Amazon Inspector EC2 scanning disabled"
  fi
}

destroy_main "$@"
