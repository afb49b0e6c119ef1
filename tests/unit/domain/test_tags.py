import pytest

from lambdas.domain import rules
from lambdas.domain.events import CREATION_SEQUENCE, PATCH_SEQUENCE, EventName, EventStatus
from lambdas.domain.tags import event_tags
from tests.unit.domain.factories import AMI, LIFECYCLE_ID, PATCHED_AMI, build_outputs, creation, patch, run, run_all

BUILD, SMOKE, SCAN, QA_REQUEST, QA_RESPONSE, PRODUCTION = CREATION_SEQUENCE
PATCH_AMI, PATCH_SMOKE, PATCH_SCAN, PATCH_PRODUCTION = PATCH_SEQUENCE
WHEN = "2024-05-01T11:00:00.000000Z"
COMMON = {"AMI_LC_DEPLOYMENT", "AMI_LC_LIFECYCLE_ID", "AMI_LC_STACK_TAG"}


def status_keys(name: EventName) -> set[str]:
    return {f"AMI_LC_EVENT_{name.value}_STATUS", f"AMI_LC_EVENT_{name.value}_STATUS_DATE"}


def tags_of(record, name, deployment="prod"):
    return event_tags(record, record.event(name), deployment)


def test_build_tags_describe_the_ami_and_how_it_was_built():
    record = creation()
    run(record, BUILD, outputs=build_outputs(
        recipe_arn="arn:recipe", recipe_name="golden", pipeline_arn="arn:pipeline", components=["a", "b"]))
    tags = tags_of(record, BUILD)
    assert set(tags) == COMMON | status_keys(BUILD) | {
        "AMI_LC_CURRENT_AMI_SEMVER", "AMI_LC_PRODUCT_VER", "AMI_LC_PRODUCT_NAME", "AMI_LC_COMMIT_REF",
        "AMI_LC_COMPONENTS", "AMI_LC_IMAGEBUILDER_IMAGE_ARN", "AMI_LC_IMAGEBUILDER_RECIPE_ARN",
        "AMI_LC_IMAGEBUILDER_RECIPE_NAME", "AMI_LC_IMAGEBUILDER_SRC_PIPELINE",
    }
    assert tags["AMI_LC_EVENT_BUILD_AMI_STATUS"] == "COMPLETED"
    assert tags["AMI_LC_EVENT_BUILD_AMI_STATUS_DATE"] == WHEN
    assert tags["AMI_LC_CURRENT_AMI_SEMVER"] == "1.0.0"
    assert tags["AMI_LC_COMPONENTS"] == "a,b"
    assert (tags["AMI_LC_DEPLOYMENT"], tags["AMI_LC_LIFECYCLE_ID"], tags["AMI_LC_STACK_TAG"]) == (
        "prod", LIFECYCLE_ID, "main")


def test_optional_build_details_that_are_missing_are_not_written_as_empty_tags():
    record = run_all(creation(), (BUILD,))  # no recipe, pipeline or components
    tags = tags_of(record, BUILD)
    assert "AMI_LC_IMAGEBUILDER_RECIPE_ARN" not in tags
    assert "AMI_LC_COMPONENTS" not in tags
    assert all(value != "" for value in tags.values())


def test_smoke_tests_tag_only_their_status():
    record = run_all(creation(), (BUILD, SMOKE))
    assert set(tags_of(record, SMOKE)) == COMMON | status_keys(SMOKE)


def test_scan_tags_count_the_findings_per_severity():
    record = run_all(creation(), (BUILD, SMOKE))
    run(record, SCAN, outputs={"findings": {"CRITICAL": 0, "HIGH": 2, "MEDIUM": 5}, "report_s3_uri": "s3://r/scan.json"})
    tags = tags_of(record, SCAN)
    assert set(tags) == COMMON | status_keys(SCAN) | {
        "AMI_LC_TOTAL_VULNERABILITIES", "AMI_LC_SEVERITIES", "AMI_LC_SCAN_REPORT"}
    assert tags["AMI_LC_TOTAL_VULNERABILITIES"] == "7"
    assert tags["AMI_LC_SEVERITIES"] == "CRITICAL: 0, HIGH: 2, MEDIUM: 5"
    assert tags["AMI_LC_SCAN_REPORT"] == "s3://r/scan.json"


def test_qa_request_tags_name_the_export():
    record = run_all(creation(), CREATION_SEQUENCE[:4])
    tags = tags_of(record, QA_REQUEST)
    assert tags["AMI_LC_EXPORT_IMAGE_TASK_ID"] == "export-ami-1234"
    assert tags["AMI_LC_EXPORT_IMAGE_PATH"] == "s3://e/ami.vmdk"


def test_qa_request_tags_include_the_exported_image_id():
    record = run_all(creation(), CREATION_SEQUENCE[:4])
    assert tags_of(record, QA_REQUEST)["AMI_LC_EXPORT_IMAGE_ID"] == AMI


@pytest.mark.parametrize(("verdict", "certification"), [
    (EventStatus.COMPLETED, "CERTIFIED"), (EventStatus.FAILED, "FAILED"),
])
def test_qa_response_tags_carry_the_verdict_either_way(verdict, certification):
    record = run_all(creation(), CREATION_SEQUENCE[:4])
    rules.record_manual_verdict(record, QA_RESPONSE, status=verdict, now=WHEN,
                                properties={"certification_status": certification})
    tags = tags_of(record, QA_RESPONSE)
    assert set(tags) == COMMON | status_keys(QA_RESPONSE) | {"AMI_LC_QA_CERTIFICATION_STATUS"}
    assert tags["AMI_LC_QA_CERTIFICATION_STATUS"] == certification
    assert tags[f"AMI_LC_EVENT_{QA_RESPONSE.value}_STATUS"] == verdict.value


def test_an_approval_tags_the_decision_and_the_backup():
    record = run_all(creation(), CREATION_SEQUENCE[:4])
    rules.record_manual_verdict(record, QA_RESPONSE, status=EventStatus.COMPLETED, now=WHEN, properties={})
    state = rules.begin_event(record, PRODUCTION, WHEN)
    state.properties = {"approval_status": "APPROVED", "approver": "jane"}
    rules.apply_result(record, PRODUCTION, attempt=1, status=EventStatus.COMPLETED, status_date=WHEN,
                       outputs={"backup_s3_uri": "s3://b/ami.bin"})
    tags = tags_of(record, PRODUCTION)
    assert set(tags) == COMMON | status_keys(PRODUCTION) | {"AMI_LC_APPROVAL_STATUS", "AMI_LC_AMI_BACKUP"}
    assert (tags["AMI_LC_APPROVAL_STATUS"], tags["AMI_LC_AMI_BACKUP"]) == ("APPROVED", "s3://b/ami.bin")


def test_a_rejection_tags_not_approved_and_no_backup():
    record = run_all(creation(), CREATION_SEQUENCE[:4])
    rules.record_manual_verdict(record, QA_RESPONSE, status=EventStatus.COMPLETED, now=WHEN, properties={})
    rules.record_manual_verdict(record, PRODUCTION, status=EventStatus.FAILED, now=WHEN,
                                properties={"approval_status": "NOT_APPROVED", "approver": "jane"})
    tags = tags_of(record, PRODUCTION)
    assert tags["AMI_LC_APPROVAL_STATUS"] == "NOT_APPROVED"
    assert tags[f"AMI_LC_EVENT_{PRODUCTION.value}_STATUS"] == "FAILED"
    assert "AMI_LC_AMI_BACKUP" not in tags


def test_patch_tags_record_the_ancestry():
    record = run_all(patch(semver="1.1.0"), (PATCH_AMI,))
    tags = tags_of(record, PATCH_AMI)
    assert tags["AMI_LC_AMI_ANCESTRY"] == f"{AMI} (v1.0.0) -> {PATCHED_AMI} (v1.1.0)"
    assert tags["AMI_LC_CURRENT_AMI_SEMVER"] == "1.1.0"
    assert tags["AMI_LC_EVENT_PATCH_AMI_STATUS"] == "COMPLETED"
    assert tags["AMI_LC_IMAGEBUILDER_IMAGE_ARN"].startswith("arn:aws:imagebuilder:")


@pytest.mark.parametrize("name", [SMOKE, SCAN])
def test_a_failed_event_tags_only_its_status(name):
    record = run_all(creation(), CREATION_SEQUENCE[: CREATION_SEQUENCE.index(name)])
    run(record, name, EventStatus.FAILED, outputs={})
    tags = tags_of(record, name)
    assert set(tags) == COMMON | status_keys(name)
    assert tags[f"AMI_LC_EVENT_{name.value}_STATUS"] == "FAILED"


def test_values_are_clipped_to_the_ec2_limit_and_keys_fit_it():
    record = creation(product_name="p" * 256, commit_ref="c" * 256)
    run(record, BUILD, outputs=build_outputs(components=[f"component-number-{i}" for i in range(40)]))
    tags = tags_of(record, BUILD)
    assert len(tags["AMI_LC_COMPONENTS"]) == 256
    assert tags["AMI_LC_COMPONENTS"].startswith("component-number-0,component-number-1,")
    assert all(len(value) <= 256 for value in tags.values())
    assert all(key.startswith("AMI_LC_") and len(key) <= 128 for key in tags)


def test_an_event_without_a_status_date_writes_no_empty_date_tag():
    record = run_all(creation(), (BUILD,))
    state = record.event(SMOKE).model_copy(update={"status": EventStatus.FAILED, "status_date": None})
    tags = event_tags(record, state, "prod")
    assert f"AMI_LC_EVENT_{SMOKE.value}_STATUS_DATE" not in tags
    assert "" not in tags.values()
