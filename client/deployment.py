"""Where a deployment is and how to reach it; shared by the AMI selection client and the operator CLI.

- Stack tags: `slugify` turns a git branch into a lifecycle stack tag (63 characters at most, the
  API's `StackTag`) or, with `max_length=DEPLOYMENT_TAG_MAX_LENGTH`, into the deployment tag of the
  stack names (`stacks/naming.py`; a unit test keeps the two in step, see below).
- Git defaults: the current branch and HEAD commit of the working directory (the `git` command, with
  a timeout; no GitPython).
- Deployment: either the local cloud's profile file (`AMI_LC_PROFILE`, else
  `<repo>/.local-cloud/profile.json` when it exists) or the deployed core stack
  `AmiLifecycle-<deployment tag>` and its CloudFormation outputs.

Nothing here prints or logs a secret: `Profile.keys` is left out of the repr.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lambdas.domain.slug import slugify as shared_slugify

REPO_ROOT = Path(__file__).resolve().parents[1]
PROFILE_ENV = "AMI_LC_PROFILE"
DEFAULT_PROFILE = REPO_ROOT / ".local-cloud" / "profile.json"
CDK_JSON = REPO_ROOT / "cdk.json"
DEFAULT_DEPLOYMENT_TAG = "main"
DEFAULT_STACK_TAG = "main"

# stacks/naming.py cuts the same slug at 20 characters for resource names.
DEPLOYMENT_TAG_MAX_LENGTH = 20
STACK_TAG_MAX_LENGTH = 63  # lambdas/domain/requests.py StackTag
_GIT_TIMEOUT_SECONDS = 5


class DeploymentError(Exception):
    """The deployment cannot be found or read (missing stack or output, unreadable profile, no credentials)."""


def slugify(value: str, max_length: int = STACK_TAG_MAX_LENGTH) -> str:
    return shared_slugify(value, max_length)


# ----- git ---------------------------------------------------------------------------------------


def _git(args: list[str], cwd: str | Path | None) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=_GIT_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    output = completed.stdout.strip()
    return output if completed.returncode == 0 and output else None


def git_branch(cwd: str | Path | None = None) -> str | None:
    """The checked-out branch (works before the first commit); None when detached or not in git."""
    return _git(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd)


def git_head(cwd: str | Path | None = None) -> str | None:
    """The HEAD commit id; None outside git or before the first commit."""
    return _git(["rev-parse", "--verify", "--quiet", "HEAD"], cwd)


def default_stack_tag(cwd: str | Path | None = None) -> tuple[str, str]:
    """(stack tag, where it came from): the slug of the current git branch, else "main"."""
    branch = git_branch(cwd)
    if branch is None:
        return DEFAULT_STACK_TAG, "not on a git branch"
    return slugify(branch), f"git branch {branch!r}"


# ----- local cloud profile -------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """What the local cloud writes for its clients (JSON; `keys` are API key values)."""

    path: Path
    endpoint: str | None = None
    aws_endpoint_url: str | None = None
    region: str | None = None
    stack_tag: str | None = None
    lookup_table: str | None = None
    patch_bucket: str | None = None
    keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    # The local endpoint's administrator credentials (it enforces IAM like AWS).
    aws_credentials: Mapping[str, str] = field(default_factory=dict, repr=False)


START_LOCAL = "start it with: bash deploy.sh --local --background"


def profile_path(env: Mapping[str, str] = os.environ) -> Path | None:
    """AMI_LC_PROFILE if set, else the repository's .local-cloud/profile.json if it exists."""
    if env.get(PROFILE_ENV):
        path = Path(env[PROFILE_ENV]).expanduser()
        if not path.exists():
            # The local cloud removes its profile when it stops.
            raise DeploymentError(f"the local cloud is not running (no profile {path}); {START_LOCAL}")
        return path
    return DEFAULT_PROFILE if DEFAULT_PROFILE.is_file() else None


def _stopped_local_cloud() -> bool:
    """A local cloud ran from this checkout and is stopped (its state is there, its profile is gone)."""
    return (DEFAULT_PROFILE.parent / "status.json").is_file() and not DEFAULT_PROFILE.exists()


def load_profile(path: Path) -> Profile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeploymentError(f"cannot read the local cloud profile {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise DeploymentError(f"the local cloud profile {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DeploymentError(f"the local cloud profile {path} must be a JSON object")
    keys = data.get("keys") or {}
    if not isinstance(keys, dict) or not all(isinstance(value, str) for value in keys.values()):
        raise DeploymentError(f"the local cloud profile {path}: 'keys' must map role names to strings")
    credentials = data.get("aws_credentials") or {}
    if not isinstance(credentials, dict) or set(credentials) - {"aws_access_key_id", "aws_secret_access_key"}:
        raise DeploymentError(
            f"the local cloud profile {path}: 'aws_credentials' must hold aws_access_key_id and aws_secret_access_key")

    def text(name: str) -> str | None:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise DeploymentError(f"the local cloud profile {path}: '{name}' must be a string")
        return value or None

    return Profile(
        path=path,
        endpoint=text("endpoint"),
        aws_endpoint_url=text("aws_endpoint_url"),
        region=text("region"),
        stack_tag=text("stack_tag"),
        lookup_table=text("lookup_table"),
        patch_bucket=text("patch_bucket"),
        keys=dict(keys),
        aws_credentials={k: str(v) for k, v in credentials.items()},
    )


# ----- deployed stack --------------------------------------------------------------------------------


def default_deployment_tag(env: Mapping[str, str] = os.environ, cdk_json: Path = CDK_JSON) -> str:
    """Like deploy.sh: $STACK_TAG, else cdk.json's amiLifecycle.stackTag, else "main"."""
    if env.get("STACK_TAG"):
        return env["STACK_TAG"]
    try:
        tag = json.loads(cdk_json.read_text(encoding="utf-8"))["context"]["amiLifecycle"]["stackTag"]
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_DEPLOYMENT_TAG
    return tag if isinstance(tag, str) and tag else DEFAULT_DEPLOYMENT_TAG


def core_stack_name(deployment_tag: str) -> str:
    """`stacks/naming.py core_stack_name(slugify(tag))`."""
    return f"AmiLifecycle-{slugify(deployment_tag, DEPLOYMENT_TAG_MAX_LENGTH)}"


def is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Deployment:
    """One deployment's coordinates, read lazily from the profile or the stack outputs.

    The profile is used unless a deployment tag is given explicitly; CloudFormation is called only when
    an output is actually needed, and at most once.
    """

    def __init__(
        self,
        *,
        deployment_tag: str | None = None,
        region: str | None = None,
        env: Mapping[str, str] = os.environ,
    ) -> None:
        self._env = env
        self._region = region
        path = None if deployment_tag else profile_path(env)
        self.profile: Profile | None = load_profile(path) if path else None
        self.deployment_tag = deployment_tag or default_deployment_tag(env)
        self._outputs: dict[str, str] | None = None

    @property
    def source(self) -> str:
        if self.profile:
            return f"local cloud profile {self.profile.path}"
        return f"stack {self.stack_name}"

    @property
    def stack_name(self) -> str:
        return core_stack_name(self.deployment_tag)

    @property
    def region(self) -> str | None:
        """--region; else the profile's; else AWS_REGION / AWS_DEFAULT_REGION; else boto3's default."""
        if self._region:
            return self._region
        if self.profile and self.profile.region:
            return self.profile.region
        return self._env.get("AWS_REGION") or self._env.get("AWS_DEFAULT_REGION") or self._session_region()

    @staticmethod
    def _session_region() -> str | None:
        import boto3

        return boto3.session.Session().region_name

    @property
    def aws_endpoint_url(self) -> str | None:
        """boto3 honours AWS_ENDPOINT_URL itself; the profile's endpoint applies when that is not set."""
        if self._env.get("AWS_ENDPOINT_URL"):
            return None
        return self.profile.aws_endpoint_url if self.profile else None

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)
        session = boto3.session.Session()
        extra: dict[str, Any] = {}
        if self.aws_endpoint_url and self.profile and self.profile.aws_credentials and is_loopback_url(self.aws_endpoint_url):
            # The local cloud enforces IAM: its profile carries the administrator's credentials, and
            # the user's own AWS credentials (for real accounts) mean nothing there.
            extra = dict(self.profile.aws_credentials)
        return session.client(
            service, region_name=self.region, endpoint_url=self.aws_endpoint_url, config=config, **extra
        )

    def outputs(self) -> dict[str, str]:
        if self._outputs is None:
            self._outputs = self._describe_outputs()
        return self._outputs

    def _describe_outputs(self) -> dict[str, str]:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=self.stack_name)["Stacks"]
        except (NoCredentialsError, NoRegionError) as exc:
            missing = "credentials" if isinstance(exc, NoCredentialsError) else "region"
            if _stopped_local_cloud():
                raise DeploymentError(
                    f"the local cloud is not running; {START_LOCAL} (or, for the stack {self.stack_name} in AWS, "
                    f"set AWS_REGION and credentials)") from exc
            raise DeploymentError(
                f"no AWS {missing} to read the stack {self.stack_name}: set "
                f"{'AWS_PROFILE or credentials' if missing == 'credentials' else 'AWS_REGION or pass --region'}, "
                f"or use the local cloud ({START_LOCAL})") from exc
        except ClientError as exc:
            message = exc.response.get("Error", {}).get("Message", str(exc))
            if "does not exist" in message:
                deployed = ", ".join(self.deployed_tags()) or "none"
                raise DeploymentError(
                    f"deployment '{self.deployment_tag}' not found: the stack {self.stack_name} does not exist in "
                    f"{self.region}; deployed stack tags there: {deployed}"
                ) from exc
            raise DeploymentError(f"cannot read the stack {self.stack_name}: {message}") from exc
        except BotoCoreError as exc:
            raise DeploymentError(f"cannot read the stack {self.stack_name}: {exc}") from exc
        return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}

    def deployed_tags(self) -> list[str]:
        """The stack tags that have a deployment here: the local cloud's, or the core stacks in the region."""
        if self.profile:
            return [self.profile.stack_tag] if self.profile.stack_tag else []
        from botocore.exceptions import BotoCoreError, ClientError

        prefix = core_stack_name("x").removesuffix("x")
        try:
            pages = self.client("cloudformation").get_paginator("list_stacks").paginate(
                StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"])
            names = [stack["StackName"] for page in pages for stack in page["StackSummaries"]]
        except (BotoCoreError, ClientError):
            return []  # only used to enrich an error message
        return sorted(name.removeprefix(prefix) for name in names if name.startswith(prefix))

    def output(self, name: str) -> str:
        value = self.outputs().get(name)
        if not value:
            raise DeploymentError(f"the stack {self.stack_name} has no output {name}")
        return value

    def lookup_table(self) -> str:
        if self.profile:
            if not self.profile.lookup_table:
                raise DeploymentError(f"the local cloud profile {self.profile.path} has no lookup_table")
            return self.profile.lookup_table
        return self.output("LookupTableName")

    def patch_bucket(self) -> str:
        if self.profile:
            if not self.profile.patch_bucket:
                raise DeploymentError(f"the local cloud profile {self.profile.path} has no patch_bucket")
            return self.profile.patch_bucket
        return self.output("PatchComponentBucketName")
