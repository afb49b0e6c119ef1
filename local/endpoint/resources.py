"""The IAM checks one AWS call needs: actions, resource ARNs and condition keys, per the Service
Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/) of
each service the app calls.

A call is allowed only when every check is. Where an operation is not listed here, its action is
`<prefix>:<Operation>` on resource "*" — a policy that names resources then does not match, so an
unmodelled call errs on the side of AccessDenied, never of a silent allow.

Modelled beyond the plain action: implicit checks AWS makes on the caller (ec2:CreateTags with
ec2:CreateAction for tags given at launch, iam:PassRole with iam:PassedToService for an instance
profile; the constituent actions of DynamoDB transactions), multi-resource actions (RunInstances),
and the condition keys aws:RequestTag/*, aws:TagKeys, aws:ResourceTag/*, ec2:ResourceTag/*,
ssm:resourceTag/*, ec2:Owner, ec2:CreateAction, iam:PassedToService.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from local.endpoint.facts import Facts
from local.endpoint.policy import Context
from local.endpoint.wire import AwsCall

_PREFIX = {"stepfunctions": "states"}
_ACTION = {  # operation -> IAM action, where they differ
    ("s3", "HeadObject"): "GetObject", ("s3", "ListObjectsV2"): "ListBucket", ("s3", "ListObjects"): "ListBucket",
    ("s3", "HeadBucket"): "ListBucket", ("s3", "DeleteObjects"): "DeleteObject", ("s3", "ListBuckets"): "ListAllMyBuckets",
    ("s3", "GetObjectAttributes"): "GetObject", ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("lambda", "Invoke"): "InvokeFunction", ("lambda", "InvokeAsync"): "InvokeFunction",
    ("sqs", "SendMessageBatch"): "SendMessage", ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("secretsmanager", "BatchGetSecretValue"): "GetSecretValue",
}
_EC2_TYPES = {"i": "instance", "vol": "volume", "ami": "image", "snap": "snapshot", "sg": "security-group",
              "subnet": "subnet", "vpc": "vpc", "eni": "network-interface", "export-ami": "export-image-task",
              "lt": "launch-template", "key": "key-pair"}
_EC2_NO_ACCOUNT = {"image", "snapshot"}  # their ARNs carry no account id
_PRODUCE, _CONSUME = ("kms:GenerateDataKey", "kms:Decrypt"), ("kms:Decrypt",)
_KEY_ACTIONS = {  # the action on an encrypted resource -> the key actions it needs
    "sqs:SendMessage": _PRODUCE, "sqs:ReceiveMessage": _CONSUME, "sns:Publish": _PRODUCE,
    "s3:PutObject": ("kms:GenerateDataKey",), "s3:GetObject": _CONSUME, "secretsmanager:GetSecretValue": _CONSUME,
}


@dataclass(frozen=True)
class Check:
    action: str
    resource: str
    context: Context = field(default_factory=dict)


def action_of(call: AwsCall, operation: str | None = None) -> str:
    operation = operation or call.operation
    prefix = _PREFIX.get(call.service, call.service_model.signing_name or call.service)
    return f"{prefix}:{_ACTION.get((call.service, operation), operation)}"


def tag_context(tags: dict[str, str], key_prefix: str = "aws:RequestTag") -> Context:
    context: Context = {f"{key_prefix}/{k}".lower(): [v] for k, v in tags.items()}
    if key_prefix == "aws:RequestTag" and tags:
        context["aws:tagkeys"] = list(tags)
    return context


def resource_tags(tags: dict[str, str], *prefixes: str) -> Context:
    context: Context = {}
    for prefix in ("aws:ResourceTag", *prefixes):
        context.update(tag_context(tags, prefix))
    return context


def _pairs(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}


class Resolver:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._by_service: dict[str, Callable[[AwsCall], list[Check]]] = {
            "dynamodb": self._dynamodb, "sqs": self._sqs, "sns": self._sns, "stepfunctions": self._states,
            "lambda": self._lambda, "s3": self._s3, "secretsmanager": self._secrets, "ssm": self._ssm,
            "ec2": self._ec2, "imagebuilder": self._imagebuilder, "iam": self._iam, "sts": self._sts,
        }

    def checks(self, call: AwsCall) -> list[Check]:
        resolve = self._by_service.get(call.service)
        found = resolve(call) if resolve else None
        checks = found if found is not None else [Check(action_of(call), "*")]
        return checks + self._key_checks(checks)

    def _key_checks(self, checks: list[Check]) -> list[Check]:
        """Using a resource encrypted with a customer managed key needs the key too: a producer of
        an SSE-KMS queue or topic kms:GenerateDataKey and kms:Decrypt, a consumer kms:Decrypt; an
        S3 upload to an SSE-KMS bucket kms:GenerateDataKey, a download kms:Decrypt; reading a
        secret kms:Decrypt (SQS, SNS, S3 and Secrets Manager developer guides, key management)."""
        keys: list[Check] = []
        for check in checks:
            actions = _KEY_ACTIONS.get(check.action)
            resource = check.resource.split("/", 1)[0] if check.action.startswith("s3:") else check.resource
            key = self.facts.encryption.get(resource) if actions else None
            if key:
                keys += [Check(action, key) for action in actions or ()]
        return keys

    def _arn(self, call: AwsCall, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return f"arn:aws:{service}:{call.region if region else ''}:{self.facts.account if account else ''}:{resource}"

    # ----- data services -------------------------------------------------------------------------------
    def _dynamodb(self, call: AwsCall) -> list[Check] | None:
        p = call.params

        def table(name: str) -> str:
            return name if name.startswith("arn:") else self._arn(call, "dynamodb", f"table/{name}")

        if call.operation in ("TransactWriteItems", "TransactGetItems"):
            actions = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                       "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
            return [Check(f"dynamodb:{actions[kind]}", table(body["TableName"]))
                    for item in p.get("TransactItems", []) for kind, body in item.items()]
        if call.operation in ("BatchGetItem", "BatchWriteItem"):
            return [Check(action_of(call), table(name)) for name in p.get("RequestItems", {})]
        if "TableName" not in p:
            return None
        arn = table(p["TableName"])
        if p.get("IndexName"):
            arn = f"{arn}/index/{p['IndexName']}"
        return [Check(action_of(call), arn)]

    def _sqs(self, call: AwsCall) -> list[Check] | None:
        p = call.params
        if "QueueUrl" in p:
            parts = urlsplit(p["QueueUrl"]).path.strip("/").split("/")
            account, name = (parts[-2], parts[-1]) if len(parts) >= 2 else (self.facts.account, parts[-1])
            return [Check(action_of(call), f"arn:aws:sqs:{call.region}:{account}:{name}")]
        if "QueueName" in p:
            return [Check(action_of(call), self._arn(call, "sqs", p["QueueName"]))]
        return None

    def _sns(self, call: AwsCall) -> list[Check] | None:
        p = call.params
        arn = p.get("TopicArn") or p.get("TargetArn") or p.get("ResourceArn")
        if arn is None and p.get("SubscriptionArn"):
            arn = p["SubscriptionArn"].rsplit(":", 1)[0]
        if arn is None and "Name" in p and call.operation == "CreateTopic":
            arn = self._arn(call, "sns", p["Name"])
        return [Check(action_of(call), arn)] if arn else None

    def _states(self, call: AwsCall) -> list[Check] | None:
        p = call.params
        arn = p.get("executionArn") or p.get("stateMachineArn") or p.get("resourceArn")
        if call.operation == "CreateStateMachine":
            arn = self._arn(call, "states", f"stateMachine:{p.get('name')}")
        return [Check(action_of(call), arn)] if arn else None

    def _lambda(self, call: AwsCall) -> list[Check] | None:
        name = call.params.get("FunctionName")
        if not name:
            return None
        arn = name if name.startswith("arn:") else self._arn(call, "lambda", f"function:{name}")
        return [Check(action_of(call), arn)]

    def _s3(self, call: AwsCall) -> list[Check] | None:
        p = call.params
        bucket = p.get("Bucket")
        if not bucket:
            return None
        if "Key" in p:
            checks = [Check(action_of(call), f"arn:aws:s3:::{bucket}/{p['Key']}")]
            if call.operation == "CopyObject":
                checks = [Check("s3:PutObject", checks[0].resource),
                          Check("s3:GetObject", f"arn:aws:s3:::{str(p.get('CopySource', '')).lstrip('/')}")]
            return checks
        if call.operation == "DeleteObjects":
            return [Check("s3:DeleteObject", f"arn:aws:s3:::{bucket}/*")]
        return [Check(action_of(call), f"arn:aws:s3:::{bucket}")]

    def _secrets(self, call: AwsCall) -> list[Check] | None:
        secret = call.params.get("SecretId")
        if not secret:
            return None
        return [Check(action_of(call), self.facts.secret_arn(call.region, secret))]

    def _ssm(self, call: AwsCall) -> list[Check] | None:
        p = call.params
        names = [p["Name"]] if "Name" in p else list(p.get("Names", []))
        if call.operation == "SendCommand":
            document = p.get("DocumentName", "")
            owned_by_aws = document.startswith("AWS-")
            checks = [Check("ssm:SendCommand", self._arn(call, "ssm", f"document/{document}", account=not owned_by_aws))]
            for instance_id in p.get("InstanceIds", []):
                tags = self.facts.ec2_tags(call.region, instance_id)
                checks.append(Check("ssm:SendCommand", self._arn(call, "ec2", f"instance/{instance_id}"),
                                    resource_tags(tags, "ssm:resourceTag")))
            return checks
        if names and "Parameter" in call.operation:
            public = all(n.startswith("/aws/service/") for n in names)
            return [Check(action_of(call), self._arn(call, "ssm", f"parameter/{n.lstrip('/')}", account=not public))
                    for n in names]
        return None

    # ----- EC2 -------------------------------------------------------------------------------------------
    def ec2_arn(self, call: AwsCall, resource_id: str) -> str:
        kind = _EC2_TYPES.get(resource_id.rsplit("-", 1)[0], "")
        return self._arn(call, "ec2", f"{kind}/{resource_id}", account=kind not in _EC2_NO_ACCOUNT)

    def _existing(self, call: AwsCall, resource_id: str, action: str | None = None) -> Check:
        context = resource_tags(self.facts.ec2_tags(call.region, resource_id), "ec2:ResourceTag")
        if resource_id.startswith("ami-"):
            owner = self.facts.image_owner(call.region, resource_id)
            if owner:
                context["ec2:owner"] = [owner]
        return Check(action or action_of(call), self.ec2_arn(call, resource_id), context)

    def _ec2(self, call: AwsCall) -> list[Check] | None:
        p, operation = call.params, call.operation
        if operation == "RunInstances":
            return self._run_instances(call)
        if operation == "CreateTags" or operation == "DeleteTags":
            request = tag_context(_pairs(p.get("Tags")))
            return [Check(action_of(call), c.resource, {**c.context, **request})
                    for c in (self._existing(call, r) for r in p.get("Resources", []))]
        ids = p.get("InstanceIds") if operation in ("TerminateInstances", "StopInstances", "StartInstances",
                                                      "RebootInstances") else None
        if ids:
            return [self._existing(call, i) for i in ids]
        if operation in ("DeregisterImage", "EnableImageDeprecation", "DisableImageDeprecation",
                         "ModifyImageAttribute", "ResetImageAttribute", "DisableImage", "EnableImage"):
            return [self._existing(call, p["ImageId"])]
        if operation == "ExportImage":
            requested = {t["ResourceType"]: _pairs(t.get("Tags")) for t in p.get("TagSpecifications", [])}
            checks = [self._existing(call, p["ImageId"]),
                      Check("ec2:ExportImage", self._arn(call, "ec2", "export-image-task/*"),
                            tag_context(requested.get("export-image-task", {})))]
            if requested:
                checks.append(Check("ec2:CreateTags", self._arn(call, "ec2", "export-image-task/*"),
                                    {**tag_context(requested.get("export-image-task", {})),
                                     "ec2:createaction": ["ExportImage"]}))
            return checks
        if operation in ("DeleteSnapshot", "ModifySnapshotAttribute"):
            return [self._existing(call, p["SnapshotId"])]
        if operation == "CancelExportTask":
            return [self._existing(call, p["ExportTaskId"])]
        if operation == "CreateStoreImageTask":
            # The store writes <ami-id>.bin with the caller's own S3 permissions (EC2 User Guide,
            # "Permissions for storing and restoring AMIs using S3").
            stored = f"arn:aws:s3:::{p['Bucket']}/{p['ImageId']}.bin"
            checks = [self._existing(call, p["ImageId"]), Check("s3:PutObject", stored)]
            return checks + ([Check("s3:PutObjectTagging", stored)] if p.get("S3ObjectTags") else [])
        if operation == "CreateRestoreImageTask":
            requested = {t["ResourceType"]: _pairs(t.get("Tags")) for t in p.get("TagSpecifications", [])}
            checks = [Check(action_of(call), self._arn(call, "ec2", "image/*", account=False),
                            tag_context(requested.get("image", {}))),
                      Check("s3:GetObject", f"arn:aws:s3:::{p['Bucket']}/{p['ObjectKey']}")]
            for kind, tags in requested.items():
                checks.append(Check("ec2:CreateTags", self._arn(call, "ec2", f"{kind}/*", account=kind not in _EC2_NO_ACCOUNT),
                                    {**tag_context(tags), "ec2:createaction": ["CreateRestoreImageTask"]}))
            return checks
        return None

    def _run_instances(self, call: AwsCall) -> list[Check]:
        p = call.params
        requested = {t["ResourceType"]: _pairs(t.get("Tags")) for t in p.get("TagSpecifications", [])}
        checks = [self._existing(call, p["ImageId"])]
        for kind in ("instance", "volume", "network-interface"):
            checks.append(Check("ec2:RunInstances", self._arn(call, "ec2", f"{kind}/*"), tag_context(requested.get(kind, {}))))
        interfaces = p.get("NetworkInterfaces", [])
        subnets = [p["SubnetId"]] if p.get("SubnetId") else [i["SubnetId"] for i in interfaces if i.get("SubnetId")]
        groups = list(p.get("SecurityGroupIds", [])) + [g for i in interfaces for g in i.get("Groups", [])]
        checks += [self._existing(call, resource_id, "ec2:RunInstances") for resource_id in subnets + groups]
        if p.get("KeyName"):
            checks.append(Check("ec2:RunInstances", self._arn(call, "ec2", f"key-pair/{p['KeyName']}")))
        for kind, tags in requested.items():
            checks.append(Check("ec2:CreateTags", self._arn(call, "ec2", f"{kind}/*"),
                                {**tag_context(tags), "ec2:createaction": ["RunInstances"]}))
        for role_arn in self.facts.profile_roles(p.get("IamInstanceProfile") or {}):
            checks.append(Check("iam:PassRole", role_arn, {"iam:passedtoservice": ["ec2.amazonaws.com"]}))
        return checks

    # ----- Image Builder, IAM, STS -----------------------------------------------------------------------
    def _imagebuilder(self, call: AwsCall) -> list[Check] | None:
        p = call.params
        for key in ("imageBuildVersionArn", "imagePipelineArn", "imageRecipeArn", "componentBuildVersionArn",
                    "componentVersionArn", "infrastructureConfigurationArn", "distributionConfigurationArn",
                    "resourceArn", "imageVersionArn", "containerRecipeArn"):
            if key in p:  # (List*BuildVersions and ListImagePipelineImages are scoped to their ARN too)
                return [Check(action_of(call), p[key], tag_context(p.get("tags") or {}))]
        created = {"CreateComponent": "component/{name}/{semanticVersion}/1", "CreateImageRecipe": "image-recipe/{name}/{semanticVersion}",
                   "CreateImagePipeline": "image-pipeline/{name}",
                   "CreateInfrastructureConfiguration": "infrastructure-configuration/{name}",
                   "CreateDistributionConfiguration": "distribution-configuration/{name}"}.get(call.operation)
        if created:
            names = {k: str(v).lower() for k, v in p.items() if isinstance(v, str)}
            resource = created.format_map({"name": names.get("name", ""), "semanticVersion": names.get("semanticVersion", "")})
            return [Check(action_of(call), self._arn(call, "imagebuilder", resource), tag_context(p.get("tags") or {}))]
        return None

    def _iam(self, call: AwsCall) -> list[Check] | None:
        p = call.params
        for key, kind in (("RoleName", "role"), ("UserName", "user"), ("InstanceProfileName", "instance-profile"),
                          ("GroupName", "group")):
            if key in p:
                return [Check(action_of(call), f"arn:aws:iam::{self.facts.account}:{kind}/{p[key]}")]
        if "PolicyArn" in p:
            return [Check(action_of(call), p["PolicyArn"])]
        return None

    def _sts(self, call: AwsCall) -> list[Check] | None:
        if call.operation == "AssumeRole":
            return [Check("sts:AssumeRole", call.params["RoleArn"])]
        return None
