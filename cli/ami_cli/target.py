"""Which API to call and with which key.

Each value comes from the first source that has it:
  endpoint:     --endpoint, AMI_LC_ENDPOINT, the local cloud profile, the stack output ApiEndpoint
  API key:      AMI_LC_<ROLE>_KEY, the profile's keys, Secrets Manager (the stack output <Role>KeySecretArn)
  patch bucket: the profile, the stack output PatchComponentBucketName
The profile is AMI_LC_PROFILE, else <repo>/.local-cloud/profile.json when it exists, unless
--deploymentTag asks for the deployed stack AmiLifecycle-<tag>. CloudFormation and Secrets Manager are
called only for what is needed: one GetSecretValue, for the role of the operation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from client.deployment import DEPLOYMENT_TAG_MAX_LENGTH, Deployment, DeploymentError, slugify

from .errors import CliError, UsageError

KEY_ENV = {"operator": "AMI_LC_OPERATOR_KEY", "qa": "AMI_LC_QA_KEY", "approver": "AMI_LC_APPROVER_KEY"}
SECRET_OUTPUT = {"operator": "OperatorKeySecretArn", "qa": "QaKeySecretArn", "approver": "ApproverKeySecretArn"}
ENDPOINT_ENV = "AMI_LC_ENDPOINT"


class Target:
    def __init__(self, *, endpoint: str | None, deployment_tag: str | None, region: str | None,
                 env: Mapping[str, str] = os.environ) -> None:
        self._endpoint, self._deployment_tag, self._region, self._env = endpoint, deployment_tag, region, env
        self._deployment: Deployment | None = None
        self._keys: dict[str, str] = {}

    @property
    def deployment(self) -> Deployment:
        if self._deployment is None:
            try:
                self._deployment = Deployment(deployment_tag=self._deployment_tag, region=self._region, env=self._env)
            except DeploymentError as exc:
                raise CliError(str(exc)) from exc
        return self._deployment

    def _output(self, name: str) -> str:
        try:
            return self.deployment.output(name)
        except DeploymentError as exc:
            raise CliError(str(exc)) from exc

    def endpoint(self) -> str:
        explicit = self._endpoint or self._env.get(ENDPOINT_ENV)
        if explicit:
            return explicit
        profile = self.deployment.profile
        if profile is not None:
            if not profile.endpoint:
                raise CliError(f"the local cloud profile {profile.path} has no endpoint")
            return profile.endpoint
        return self._output("ApiEndpoint")

    def key(self, role: str) -> str:
        if role in self._keys:
            return self._keys[role]
        value = self._env.get(KEY_ENV[role])
        if not value:
            profile = self.deployment.profile
            if profile is not None:
                value = profile.keys.get(role)
                if not value:
                    raise CliError(
                        f"no {role} API key: the local cloud profile {profile.path} has none; set {KEY_ENV[role]}"
                    )
            else:
                value = self._secret(role)
        self._keys[role] = value.strip()
        return self._keys[role]

    def _secret(self, role: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        arn = self._output(SECRET_OUTPUT[role])
        try:
            secret = self.deployment.client("secretsmanager").get_secret_value(SecretId=arn)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise CliError(
                f"cannot read the {role} API key from Secrets Manager ({arn}): "
                f"{error.get('Code')}: {error.get('Message')}"
            ) from exc
        except BotoCoreError as exc:
            raise CliError(f"cannot read the {role} API key from Secrets Manager ({arn}): {exc}") from exc
        value = secret.get("SecretString")
        if not value:
            raise CliError(f"the secret {arn} holds no {role} API key")
        return value

    def default_stack_tag(self) -> str:
        """The stack tag of the deployment this CLI talks to (lifecycles live under their deployment's)."""
        deployment = self.deployment
        if deployment.profile is not None and deployment.profile.stack_tag:
            return deployment.profile.stack_tag
        return slugify(deployment.deployment_tag, DEPLOYMENT_TAG_MAX_LENGTH)

    def check_stack_tag(self, stack_tag: str) -> None:
        """Refuse a stack tag no deployment serves: a lifecycle under it would never be seen again."""
        if self._endpoint or self._env.get(ENDPOINT_ENV):
            return  # an endpoint given by hand: its deployment is not known here
        deployed = self.default_stack_tag()
        if stack_tag != deployed:
            raise UsageError(
                f"--stackTag '{stack_tag}': no deployment here serves this stack tag; deployed: {deployed} "
                f"({self.describe()}). Leave --stackTag out to use it, or pass --deploymentTag {stack_tag} "
                "for a deployment of that tag in AWS")

    def patch_bucket(self) -> str:
        try:
            return self.deployment.patch_bucket()
        except DeploymentError as exc:
            raise CliError(str(exc)) from exc

    def client(self, service: str) -> Any:
        return self.deployment.client(service)

    def describe(self) -> str:
        if self._endpoint or self._env.get(ENDPOINT_ENV):
            return "the endpoint given by --endpoint/AMI_LC_ENDPOINT"
        return self.deployment.source
