"""What users rely on in the core stack: state, messaging, the API contract, wiring and outputs."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_cdk import assertions

from lambdas.api.catalog import ROUTES as CATALOG
from tests.infrastructure.conftest import Synth, as_list, functions_by_handler, render, resources

OTHER_CORE = "AmiLifecycle-feature-other-tag"

WORKFLOWS = ("build", "smoke-tests", "vulnerability-scans", "qa-certification-request", "mark-for-production", "patch")
HANDLER = "lambdas.{}.lambda_handler"
API_HANDLERS = {name: HANDLER.format(f"api.handlers.{name}") for name in ("read", "lifecycles", "certify", "approve")}
RECEIVER_HANDLERS = {name: HANDLER.format(f"receivers.{name}") for name in ("creation", "patch", "error")}
RECONCILER = HANDLER.format("jobs.reconciler")
GARBAGE_COLLECTOR = HANDLER.format("jobs.garbage_collector")

# DESIGN §3: the 13 routes and, per docs/ARCHITECTURE.md, the function serving each.
# The deployed API must serve exactly the catalog the handlers and the local gateway use.
ROUTES = {(route.method, route.path): route.function for route in CATALOG}
KEYLESS = {(route.method, route.path) for route in CATALOG if route.auth == "link"}


def _key_ref(core: dict[str, Any]) -> dict[str, Any]:
    (key_id,) = resources(core, "AWS::KMS::Key")
    return {"Fn::GetAtt": [key_id, "Arn"]}


def _table(core: dict[str, Any], hash_key: str) -> dict[str, Any]:
    (table,) = [
        r for r in resources(core, "AWS::DynamoDB::Table").values()
        if r["Properties"]["KeySchema"][0]["AttributeName"] == hash_key
    ]
    return table


def test_three_tables_with_their_keys_and_indexes(core: dict[str, Any]) -> None:
    lifecycle = _table(core, "pk")["Properties"]
    assert lifecycle["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                                      {"AttributeName": "sk", "KeyType": "RANGE"}]
    indexes = {i["IndexName"]: i for i in lifecycle["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by_stack_tag", "in_progress"}
    for name, (pk, sk) in {"by_stack_tag": ("gsi1pk", "gsi1sk"), "in_progress": ("ipk", "isk")}.items():
        assert indexes[name]["KeySchema"] == [{"AttributeName": pk, "KeyType": "HASH"},
                                              {"AttributeName": sk, "KeyType": "RANGE"}]
        assert indexes[name]["Projection"] == {"ProjectionType": "ALL"}
    lookup = _table(core, "selector")["Properties"]
    assert lookup["KeySchema"] == [{"AttributeName": "selector", "KeyType": "HASH"},
                                   {"AttributeName": "rank", "KeyType": "RANGE"}]
    assert "GlobalSecondaryIndexes" not in lookup
    seed = _table(core, "seed_id")["Properties"]
    assert seed["KeySchema"] == [{"AttributeName": "seed_id", "KeyType": "HASH"}]


def test_tables_use_the_cmk_pitr_on_demand_and_are_retained(core: dict[str, Any]) -> None:
    tables = resources(core, "AWS::DynamoDB::Table")
    assert len(tables) == 3
    for table in tables.values():
        properties = table["Properties"]
        assert properties["SSESpecification"] == {
            "KMSMasterKeyId": _key_ref(core), "SSEEnabled": True, "SSEType": "KMS"}
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_the_key_rotates_and_lets_logs_use_it_only_for_this_deployment(core: dict[str, Any]) -> None:
    ((key_id, key),) = resources(core, "AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"  # retained tables stay readable
    logs_statements = [
        s for s in key["Properties"]["KeyPolicy"]["Statement"]
        if "logs" in json.dumps(s.get("Principal", {}))
    ]
    assert logs_statements
    for statement in logs_statements:  # the deployment's groups and Image Builder's build logs
        condition = render(statement["Condition"])["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
        assert all(arn.endswith(("/ami-lc/main/*", "/aws/imagebuilder/ami-lc-main-*",
                                    "/aws/imagebuilder/pipeline/ami-lc-main-*")) for arn in as_list(condition)), condition
        assert not any("*" in action for action in as_list(statement["Action"]))


def test_every_log_group_is_encrypted_expires_and_is_named_for_the_deployment(core: dict[str, Any]) -> None:
    groups = resources(core, "AWS::Logs::LogGroup")
    assert len(groups) == 10  # nine functions and the API access log
    for group in groups.values():
        assert group["Properties"]["KmsKeyId"] == _key_ref(core)
        assert group["Properties"]["RetentionInDays"] == 90
        assert group["Properties"]["LogGroupName"].startswith("/ami-lc/main/")


def test_receiver_queues_have_dead_letter_queues_and_kms(core: dict[str, Any]) -> None:
    queues = resources(core, "AWS::SQS::Queue")
    for queue in queues.values():
        assert queue["Properties"]["KmsMasterKeyId"] == _key_ref(core)
    mappings = resources(core, "AWS::Lambda::EventSourceMapping")
    functions = resources(core, "AWS::Lambda::Function")
    handlers_fed = set()
    for mapping in mappings.values():
        properties = mapping["Properties"]
        assert properties["BatchSize"] == 10
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        queue_id = properties["EventSourceArn"]["Fn::GetAtt"][0]
        function = functions[properties["FunctionName"]["Ref"]]["Properties"]
        handlers_fed.add(function["Handler"])
        queue = queues[queue_id]["Properties"]
        redrive = queue["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == 5
        assert redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] in queues
        assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]
    assert handlers_fed == set(RECEIVER_HANDLERS.values())
    assert len({m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0] for m in mappings.values()}) == 3


def test_queues_and_topic_refuse_plain_http(core_template: assertions.Template) -> None:
    insecure = assertions.Match.object_like({
        "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    for policy_type, count in (("AWS::SQS::QueuePolicy", 6), ("AWS::SNS::TopicPolicy", 2), ("AWS::S3::BucketPolicy", 2)):
        core_template.resource_count_is(policy_type, count)
        core_template.all_resources_properties(policy_type, {
            "PolicyDocument": {"Statement": assertions.Match.array_with([insecure])}})


def test_topic_is_encrypted_with_static_subscriptions_filtered(core: dict[str, Any], other_synth: Synth) -> None:
    for topic in resources(core, "AWS::SNS::Topic").values():  # notifications and alarms
        assert topic["Properties"]["KmsMasterKeyId"] == _key_ref(core)
    assert not resources(core, "AWS::SNS::Subscription")  # none configured by default
    subscriptions = {
        s["Properties"]["Endpoint"]: s["Properties"]
        for s in resources(other_synth.templates[OTHER_CORE], "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"]["Ref"].startswith("MessagingNotifications")  # alarms: tests/infrastructure/test_alarms.py
    }
    assert subscriptions["ops@example.com"]["FilterPolicy"] == {"severity": ["WARNING", "ERROR"]}
    assert subscriptions["qa@example.com"]["FilterPolicy"] == {"audience": ["qa"]}
    assert {s["Protocol"] for s in subscriptions.values()} == {"email"}


def test_retain_data_off_lets_destroy_delete_the_data(other_synth: Synth) -> None:
    template = other_synth.templates[OTHER_CORE]
    for kind in ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key"):
        for name, resource in resources(template, kind).items():
            assert resource["DeletionPolicy"] == "Delete", name
    for table in resources(template, "AWS::DynamoDB::Table").values():
        assert table["Properties"]["DeletionProtectionEnabled"] is False


def test_patch_bucket_is_private_encrypted_versioned_expiring_and_logged(core: dict[str, Any]) -> None:
    buckets = resources(core, "AWS::S3::Bucket")
    (patch,) = [b["Properties"] for b in buckets.values() if "LoggingConfiguration" in b["Properties"]]
    rule = patch["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"KMSMasterKeyID": _key_ref(core), "SSEAlgorithm": "aws:kms"}
    assert patch["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert patch["VersioningConfiguration"] == {"Status": "Enabled"}
    assert any("NoncurrentVersionExpiration" in r for r in patch["LifecycleConfiguration"]["Rules"])
    assert patch["LoggingConfiguration"]["DestinationBucketName"]["Ref"] in buckets


def _routes(core: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    api_resources = resources(core, "AWS::ApiGateway::Resource")

    def path(resource: dict[str, Any]) -> str:
        parent = resource["ParentId"]
        prefix = "" if "Fn::GetAtt" in parent else path(api_resources[parent["Ref"]]["Properties"])
        return f"{prefix}/{resource['PathPart']}"

    return {
        (m["Properties"]["HttpMethod"], path(api_resources[m["Properties"]["ResourceId"]["Ref"]]["Properties"])):
            m["Properties"]
        for m in resources(core, "AWS::ApiGateway::Method").values()
    }


def test_every_route_goes_to_its_function_by_lambda_proxy(core: dict[str, Any]) -> None:
    routes = _routes(core)
    assert set(routes) == set(ROUTES)
    functions = functions_by_handler(core)
    for route, method in routes.items():
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        function_id = functions[API_HANDLERS[ROUTES[route]]][0]
        assert f"${{{function_id}.Arn}}" in render(integration["Uri"]), route


def test_every_method_requires_an_api_key_except_the_signed_pages(core: dict[str, Any]) -> None:
    routes = _routes(core)
    # The 13 routes of the design, 2 timeline links, 2 timeline data, 1 export link, and the fleet
    # dashboard's link, page and data.
    assert len(routes) == 21
    for route, method in routes.items():
        assert method["ApiKeyRequired"] is (route not in KEYLESS), route
    assert KEYLESS == {(m, p) for m, p in ROUTES if p.endswith(("/timeline", "/timeline/data", "/dashboard",
                                                                "/dashboard/data"))}
    (api,) = resources(core, "AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["ApiKeySourceType"] == "HEADER"
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_stage_logs_access_to_an_encrypted_group_and_throttles(core: dict[str, Any]) -> None:
    (stage,) = resources(core, "AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    assert properties["StageName"] == "api"
    destination = re.fullmatch(r".*:log-group:\$\{(\w+)\}", render(properties["AccessLogSetting"]["DestinationArn"]))[1]
    assert core["Resources"][destination]["Properties"]["KmsKeyId"] == _key_ref(core)
    assert "$context.identity.apiKeyId" in properties["AccessLogSetting"]["Format"]
    (settings,) = properties["MethodSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (20, 40)
    assert settings["DataTraceEnabled"] is False
    assert settings["LoggingLevel"] == "OFF"  # no unencrypted, never-expiring execution-log group


def test_three_role_keys_on_a_throttled_usage_plan(core: dict[str, Any]) -> None:
    keys = resources(core, "AWS::ApiGateway::ApiKey")
    assert {k["Properties"]["Name"] for k in keys.values()} == {
        "ami-lc-main-operator-key", "ami-lc-main-qa-key", "ami-lc-main-approver-key"}
    (plan,) = resources(core, "AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"] == {"RateLimit": 20, "BurstLimit": 40}
    assert plan["Properties"]["Quota"] == {"Limit": 10000, "Period": "DAY"}
    plan_keys = resources(core, "AWS::ApiGateway::UsagePlanKey").values()
    assert {k["Properties"]["KeyId"]["Ref"] for k in plan_keys} == set(keys)


def test_gateway_responses_explain_auth_failures_in_json(core: dict[str, Any]) -> None:
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in resources(core, "AWS::ApiGateway::GatewayResponse").values()}
    invalid_key = responses["INVALID_API_KEY"]
    assert invalid_key["StatusCode"] == "401"
    assert "x-api-key" in json.loads(invalid_key["ResponseTemplates"]["application/json"])["message"]
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert responses["ACCESS_DENIED"]["StatusCode"] == "403"
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED", "QUOTA_EXCEEDED", "INTEGRATION_TIMEOUT"):
        assert responses[response_type]["ResponseTemplates"]["application/json"].startswith('{"error": ')


def test_functions_share_one_runtime_setup(core: dict[str, Any]) -> None:
    functions = functions_by_handler(core)
    expected = {*API_HANDLERS.values(), *RECEIVER_HANDLERS.values(), RECONCILER, GARBAGE_COLLECTOR}
    assert set(functions) == expected
    code_keys = set()
    for handler, (_, properties) in functions.items():
        assert properties["Runtime"] == "python3.12"
        assert properties["Architectures"] == ["arm64"]
        assert properties["LoggingConfig"]["LogFormat"] == "JSON"
        assert properties["KmsKeyArn"] == _key_ref(core)
        assert properties["MemorySize"] == 512
        (layer,) = properties["Layers"]
        assert render(layer).endswith(":017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27")
        variables = properties["Environment"]["Variables"]
        assert variables["DEPLOYMENT_TAG"] == "main"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "AmiLifecycle"
        assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"} <= set(variables)
        code_keys.add(json.dumps(properties["Code"]))
        log_group = core["Resources"][properties["LoggingConfig"]["LogGroup"]["Ref"]]
        assert log_group["Type"] == "AWS::Logs::LogGroup", handler
    assert len(code_keys) == 1, "all functions of a stack share one code asset"


def test_environment_follows_the_settings_contract(core: dict[str, Any]) -> None:
    functions = functions_by_handler(core)
    env = {handler: render(properties["Environment"]["Variables"]) for handler, (_, properties) in functions.items()}
    key_ids = {f"${{{k}}}" for k in resources(core, "AWS::ApiGateway::ApiKey")}
    for handler in API_HANDLERS.values():
        api_key_ids = json.loads(env[handler]["API_KEY_IDS"])
        assert set(api_key_ids) == {"operator", "qa", "approver"}
        assert set(api_key_ids.values()) == key_ids  # ids (Ref of the ApiKey), never values
    for handler in (API_HANDLERS["lifecycles"], *RECEIVER_HANDLERS.values(), RECONCILER):
        arns = json.loads(env[handler]["STATE_MACHINE_ARNS"])
        assert set(arns) == set(WORKFLOWS)
        for workflow, arn in arns.items():
            assert arn.endswith(f":states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:ami-lc-main-{workflow}")
    assert set(json.loads(env[API_HANDLERS["approve"]]["STATE_MACHINE_ARNS"])) == {"mark-for-production"}
    assert env[API_HANDLERS["read"]]["STATUS_PAGE_SIZE"] == "25"
    assert env[RECONCILER]["RECONCILER_GRACE_MINUTES"] == "30"
    assert env[GARBAGE_COLLECTOR]["GC_MAX_INSTANCE_HOURS"] == "6"
    assert env[API_HANDLERS["lifecycles"]]["SEMVER_SEED_TABLE"].startswith("${StorageSemverSeedTable")
    assert env[API_HANDLERS["lifecycles"]]["PATCH_COMPONENT_BUCKET"].startswith("${StoragePatchComponents")


def test_jobs_run_on_the_configured_schedules(core: dict[str, Any]) -> None:
    functions = functions_by_handler(core)
    schedules = {}
    for rule in resources(core, "AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        schedules[target["Arn"]["Fn::GetAtt"][0]] = rule["Properties"]["ScheduleExpression"]
    assert schedules == {functions[RECONCILER][0]: "rate(30 minutes)",
                         functions[GARBAGE_COLLECTOR][0]: "rate(1 hour)"}


def test_outputs_have_stable_names(core: dict[str, Any]) -> None:
    outputs = core["Outputs"]
    assert {"ApiEndpoint", "OperatorKeySecretArn", "QaKeySecretArn", "ApproverKeySecretArn", "LifecycleTableName",
            "LookupTableName", "PatchComponentBucketName", "NotificationTopicArn"} <= set(outputs)
    endpoint = render(outputs["ApiEndpoint"]["Value"])
    assert endpoint.startswith("https://${ApiRestApi") and endpoint.endswith("/")
    secrets = resources(core, "AWS::SecretsManager::Secret")
    for name in ("OperatorKeySecretArn", "QaKeySecretArn", "ApproverKeySecretArn"):
        assert outputs[name]["Value"]["Ref"] in secrets


def test_every_taggable_resource_carries_the_stack_tag(core: dict[str, Any]) -> None:
    for kind in ("AWS::Lambda::Function", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::KMS::Key",
                 "AWS::S3::Bucket", "AWS::SNS::Topic", "AWS::IAM::Role", "AWS::SecretsManager::Secret",
                 "AWS::Logs::LogGroup", "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage"):
        for name, resource in resources(core, kind).items():
            assert {"Key": "ami-lifecycle:stack-tag", "Value": "main"} in resource["Properties"]["Tags"], name


def test_two_stack_tags_deploy_side_by_side(synth: Synth, other_synth: Synth) -> None:
    assert OTHER_CORE in other_synth.templates
    assert not set(other_synth.templates) & set(synth.templates)

    def fixed_names(template: dict[str, Any]) -> set[str]:
        names = set()
        for resource in template["Resources"].values():
            for key, value in resource.get("Properties", {}).items():
                if key in {"Name", "LogGroupName", "AliasName", "TableName", "QueueName", "TopicName",
                           "BucketName", "FunctionName", "RoleName", "StateMachineName"} and isinstance(value, str):
                    names.add(value)
        return names

    mine, theirs = fixed_names(synth.templates["AmiLifecycle-main"]), fixed_names(other_synth.templates[OTHER_CORE])
    assert len(mine) == len(theirs) > 10
    assert not mine & theirs
    assert all("feature-other-tag" in name for name in theirs)
