"""Create a synthesized CloudFormation template's resources in moto, with CloudFormation's intrinsics
resolved locally.

moto's CloudFormation cannot create this project's templates (Image Builder, cross-stack imports,
S3-hosted state machine definitions), so `LocalDeployer` creates each resource with the service API
instead, in dependency order. Resources the local cloud does not need to run (policies, log groups,
...) are only given a physical id. Image Builder resources are registered in the Image Builder fake,
EventBridge rules in the event router, and state machines are created in Step Functions with their
definition read from the cloud assembly and substituted like CloudFormation does.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import string
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from local.events import EventRouter
from local.fakes.image_builder import ImageBuilderFake

_SUB = re.compile(r"\$\{([^}!][^}]*)\}")


def generated_secret(props: dict[str, Any]) -> str:
    spec = props.get("GenerateSecretString") or {}
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation", False):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    return "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))



class TemplateError(RuntimeError):
    pass


def _placeholder_zip() -> bytes:
    # The in-process runtime imports handlers from the repository; moto only needs a valid zip.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "code runs in-process from the repository's lambdas package\n")
    return buffer.getvalue()


class LocalDeployer:
    def __init__(self, *, region: str, account: str, router: EventRouter, image_builder: ImageBuilderFake,
                 encryption: dict[str, str] | None = None) -> None:
        """`encryption` receives resource ARN -> customer managed key ARN for what the template
        encrypts with one (queues, topics, buckets, secrets): the local endpoint then requires the
        key permissions AWS requires of their callers."""
        self.region, self.account = region, account
        self.encryption = encryption if encryption is not None else {}
        self.router, self.image_builder = router, image_builder
        self.exports: dict[str, Any] = {}
        self.secret_values: dict[str, str] = {}  # secret ARN -> value (never logged)
        self.outputs: dict[str, dict[str, Any]] = {}  # stack name -> output name -> value
        self._zip = _placeholder_zip()
        self._creators: dict[str, Callable[[str, dict[str, Any]], tuple[Any, dict[str, Any]]]] = {
            "AWS::KMS::Key": self._kms_key,
            "AWS::SQS::Queue": self._queue,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::SNS::Topic": self._topic,
            "AWS::S3::Bucket": self._bucket,
            "AWS::DynamoDB::Table": self._table,
            "AWS::IAM::Role": self._role,
            "AWS::IAM::InstanceProfile": self._instance_profile,
            "AWS::IAM::Policy": self._policy,
            "AWS::IAM::ManagedPolicy": self._managed_policy,
            "AWS::Lambda::Function": self._function,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::Events::Rule": self._rule,
            "AWS::EC2::VPC": self._vpc,
            "AWS::EC2::Subnet": self._subnet,
            "AWS::EC2::SecurityGroup": self._security_group,
            "AWS::ImageBuilder::ImagePipeline": self._image_pipeline,
            "AWS::ImageBuilder::InfrastructureConfiguration": self._infrastructure_configuration,
            "AWS::ImageBuilder::DistributionConfiguration": self._distribution_configuration,
        }

    # ---- public
    def deploy(self, template: dict[str, Any], assembly_dir: Path, stack_name: str) -> dict[str, dict[str, Any]]:
        """Create the template's resources; returns {logical id: {"Ref": ..., attributes...}}."""
        self._template, self._assembly_dir, self._stack_name = template, assembly_dir, stack_name
        self.resources: dict[str, dict[str, Any]] = {}
        resources = template.get("Resources", {})
        for logical_id in self._order(resources):
            resource = resources[logical_id]
            creator = self._creators.get(resource["Type"])
            if creator is None:
                ref, attrs = logical_id, {}
            else:
                ref, attrs = creator(logical_id, self.resolve(resource.get("Properties", {})))
            self.resources[logical_id] = {"Ref": ref, **attrs}
        outputs = self.outputs.setdefault(stack_name, {})
        for name, output in template.get("Outputs", {}).items():
            outputs[name] = self.resolve(output["Value"])
            if "Export" in output:
                self.exports[self.resolve(output["Export"]["Name"])] = outputs[name]
        return self.resources

    def physical(self, logical_prefix: str, resource_type: str) -> dict[str, Any]:
        """The one resource of a type whose logical id starts with the prefix (test lookups)."""
        found = [
            lid for lid, r in self._template["Resources"].items()
            if r["Type"] == resource_type and lid.startswith(logical_prefix)
        ]
        if len(found) != 1:
            raise TemplateError(f"{len(found)} {resource_type} resources start with {logical_prefix!r}: {found}")
        return self.resources[found[0]]

    # ---- intrinsics
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (name, arg), = value.items()
            if name == "Ref":
                return self._ref(arg)
            if name == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._attribute(logical_id, attribute)
            if name == "Fn::Join":
                return arg[0].join(str(self.resolve(v)) for v in arg[1])
            if name == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if name == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            if name == "Fn::ImportValue":
                key = self.resolve(arg)
                if key not in self.exports:
                    raise TemplateError(f"no stack exports {key!r}")
                return self.exports[key]
            if name == "Fn::GetStackOutput":
                stack, output = self.resolve(arg["StackName"]), self.resolve(arg["OutputName"])
                if output not in self.outputs.get(stack, {}):
                    raise TemplateError(f"stack {stack!r} has no output {output!r} (deploy it first)")
                return self.outputs[stack][output]
            if name == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return _SUB.sub(lambda m: str(variables.get(m.group(1), self._sub_name(m.group(1)))), text)
            if name == "Fn::GetAZs":
                return [f"{self.region}a", f"{self.region}b"]
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub_name(self, name: str) -> Any:
        if "." in name:
            return self._attribute(*name.split(".", 1))
        return self._ref(name)

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region, "AWS::AccountId": self.account, "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": self._stack_name, "AWS::NoValue": None,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.resources:
            return self.resources[name]["Ref"]
        parameters = self._template.get("Parameters", {})
        if name in parameters:
            return parameters[name].get("Default")
        raise TemplateError(f"Ref to {name!r}, which is not created (yet)")

    def _attribute(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.resources:
            raise TemplateError(f"GetAtt {logical_id}.{attribute}: resource not created (yet)")
        resource = self.resources[logical_id]
        return resource.get(attribute, f"arn:aws:local:{self.region}:{self.account}:{logical_id}/{attribute}")

    def _order(self, resources: dict[str, Any]) -> list[str]:
        def refs(value: Any) -> set[str]:
            found: set[str] = set()
            if isinstance(value, dict):
                for key, arg in value.items():
                    if key == "Ref" and isinstance(arg, str):
                        found.add(arg)
                    elif key == "Fn::GetAtt":
                        found.add(arg[0] if isinstance(arg, list) else arg.split(".")[0])
                    elif key == "Fn::Sub":
                        text = arg if isinstance(arg, str) else arg[0]
                        found |= {m.group(1).split(".")[0] for m in _SUB.finditer(text)}
                        found |= refs(arg[1]) if isinstance(arg, list) else set()
                    else:
                        found |= refs(arg)
            elif isinstance(value, list):
                for item in value:
                    found |= refs(item)
            return found

        deps = {
            lid: (refs(r.get("Properties", {})) | set(r.get("DependsOn", []) if isinstance(r.get("DependsOn"), list) else [r.get("DependsOn")] if r.get("DependsOn") else [])) & set(resources)
            for lid, r in resources.items()
        }
        ordered: list[str] = []
        visiting: set[str] = set()

        def visit(lid: str) -> None:
            if lid in ordered:
                return
            if lid in visiting:
                raise TemplateError(f"dependency cycle through {lid}")
            visiting.add(lid)
            for dep in sorted(deps[lid]):
                visit(dep)
            visiting.discard(lid)
            ordered.append(lid)

        for lid in resources:
            visit(lid)
        return ordered

    # ---- creators
    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    def _name(self, logical_id: str, props: dict[str, Any], key: str, lower: bool = False) -> str:
        name = props.get(key) or f"{self._stack_name}-{logical_id}"[:63]
        return name.lower() if lower else name

    def _encrypted(self, resource_arn: str, key: Any) -> None:
        if not key:
            return
        key = str(key)
        self.encryption[resource_arn] = key if key.startswith("arn:") else f"arn:aws:kms:{self.region}:{self.account}:key/{key}"

    def _kms_key(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        meta = self._client("kms").create_key(Description=props.get("Description", lid))["KeyMetadata"]
        return meta["KeyId"], {"Arn": meta["Arn"]}

    def _queue(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(lid, props, "QueueName")
        attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
        url = self._client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.region}:{self.account}:{name}"
        self._encrypted(arn, props.get("KmsMasterKeyId"))
        return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}

    def _queue_policy(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Queue policies: the local endpoint evaluates them (local/endpoint/facts.py)."""
        for url in props["Queues"]:
            policy = json.dumps(props["PolicyDocument"])
            self._client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        return lid, {}

    def _topic(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        arn = self._client("sns").create_topic(Name=self._name(lid, props, "TopicName"))["TopicArn"]
        self._encrypted(arn, props.get("KmsMasterKeyId"))
        return arn, {"TopicArn": arn, "TopicName": arn.rsplit(":", 1)[1]}

    def _bucket(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(lid, props, "BucketName", lower=True)
        self._client("s3").create_bucket(Bucket=name, **({} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}))
        rules = (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or [{}]
        default = rules[0].get("ServerSideEncryptionByDefault") or {}
        if default:  # what the VM export fake reads (it refuses SSE-KMS buckets, as AWS does)
            self._client("s3").put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                 **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {})}
                for rule in rules if "ServerSideEncryptionByDefault" in rule]})
        self._encrypted(f"arn:aws:s3:::{name}", default.get("KMSMasterKeyID"))
        return name, {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}

    def _table(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(lid, props, "TableName")
        args: dict[str, Any] = {"TableName": name, "KeySchema": props["KeySchema"],
                                "AttributeDefinitions": props["AttributeDefinitions"], "BillingMode": "PAY_PER_REQUEST"}
        indexes = [{k: v for k, v in gsi.items() if k != "ProvisionedThroughput"} for gsi in props.get("GlobalSecondaryIndexes", [])]
        if indexes:
            args["GlobalSecondaryIndexes"] = indexes
        arn = self._client("dynamodb").create_table(**args)["TableDescription"]["TableArn"]
        return name, {"Arn": arn}

    def _secret(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        value = props.get("SecretString") or generated_secret(props)
        arn = self._client("secretsmanager").create_secret(
            Name=self._name(lid, props, "Name"), SecretString=value, Description=props.get("Description", "")
        )["ARN"]
        self.secret_values[arn] = value
        self._encrypted(arn, props.get("KmsKeyId"))
        return arn, {"Id": arn}

    def _role(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(lid, props, "RoleName")[:64]
        iam = self._client("iam")
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]))["Role"]
        for policy in props.get("Policies", []):
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(policy["PolicyDocument"]))
        for arn in props.get("ManagedPolicyArns", []):
            # AWS managed policies (logs for Lambda, SSM for instances) grant nothing the local cloud's
            # callers use, and moto does not load them; customer managed ones are attached.
            if not str(arn).startswith("arn:aws:iam::aws:"):
                iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        return name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}

    def _policy(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Inline policies: what the local endpoint checks each role's calls against."""
        iam = self._client("iam")
        name = props.get("PolicyName") or lid
        for role in props.get("Roles", []):
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(props["PolicyDocument"]))
        return name, {}

    def _managed_policy(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        iam = self._client("iam")
        arn = iam.create_policy(PolicyName=props.get("ManagedPolicyName") or f"{self._stack_name}-{lid}"[:128],
                                PolicyDocument=json.dumps(props["PolicyDocument"]))["Policy"]["Arn"]
        for role in props.get("Roles", []):
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        return arn, {"PolicyArn": arn}

    def _instance_profile(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(lid, props, "InstanceProfileName")
        iam = self._client("iam")
        profile = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        for role in props.get("Roles", []):
            iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
        return name, {"Arn": profile["Arn"]}

    def _function(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(lid, props, "FunctionName")[:64]
        env = {k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
        function = self._client("lambda").create_function(
            FunctionName=name, Runtime="python3.12", Role=props["Role"], Handler=props["Handler"],
            Code={"ZipFile": self._zip}, Timeout=int(props.get("Timeout", 3)), MemorySize=int(props.get("MemorySize", 128)),
            Environment={"Variables": env},
        )
        return name, {"Arn": function["FunctionArn"]}

    def _state_machine(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        if "DefinitionString" in props:
            definition = props["DefinitionString"]
        else:
            key = props["DefinitionS3Location"]["Key"]
            definition = (self._assembly_dir / f"asset.{key}").read_text()
        for name, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace(f"${{{name}}}", str(value))
        arn = self._client("stepfunctions").create_state_machine(
            name=props.get("StateMachineName") or lid, definition=definition, roleArn=props["RoleArn"]
        )["stateMachineArn"]
        return arn, {"Arn": arn, "Name": arn.rsplit(":", 1)[1]}

    def _rule(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        # Scheduled rules (no pattern) are the local cloud's scheduler business, not event routing.
        if "EventPattern" in props:
            self.router.add_rule(props["EventPattern"], [t["Arn"] for t in props.get("Targets", [])])
        return lid, {"Arn": f"arn:aws:events:{self.region}:{self.account}:rule/{lid}"}

    def _vpc(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        vpc_id = self._client("ec2").create_vpc(CidrBlock=props.get("CidrBlock", "10.0.0.0/16"))["Vpc"]["VpcId"]
        return vpc_id, {"VpcId": vpc_id}

    def _subnet(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        subnet = self._client("ec2").create_subnet(VpcId=props["VpcId"], CidrBlock=props["CidrBlock"])["Subnet"]
        return subnet["SubnetId"], {"SubnetId": subnet["SubnetId"]}

    def _security_group(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        kwargs = {"GroupName": props.get("GroupName") or lid, "Description": props.get("GroupDescription", lid)}
        if props.get("VpcId"):
            kwargs["VpcId"] = props["VpcId"]
        group_id = self._client("ec2").create_security_group(**kwargs)["GroupId"]
        return group_id, {"GroupId": group_id}

    def _infrastructure_configuration(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("Name") or lid
        arn = self.image_builder.add_infrastructure_configuration(name)
        return arn, {"Arn": arn, "Name": name}

    def _distribution_configuration(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("Name") or lid
        arn = self.image_builder.add_distribution_configuration(name)
        return arn, {"Arn": arn, "Name": name}

    def _image_pipeline(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        arn = self.image_builder.add_pipeline(props.get("Name") or lid)
        return arn, {"Arn": arn, "Name": props.get("Name") or lid}
