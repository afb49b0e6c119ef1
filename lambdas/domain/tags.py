"""AMI_LC_ tags written on the AMI for each recorded event (the original sample's tag set)."""

from __future__ import annotations

from lambdas.domain.contracts import BuildOutputs, MarkForProductionOutputs, QaRequestOutputs, ScanOutputs
from lambdas.domain.events import EventName, EventStatus
from lambdas.domain.models import EventState, LifecycleRecord

PREFIX = "AMI_LC_"
_VALUE_LIMIT = 256  # EC2 tag values are at most 256 characters


def _clip(value: object) -> str:
    return str(value)[:_VALUE_LIMIT]


def event_tags(record: LifecycleRecord, state: EventState, deployment_tag: str) -> dict[str, str]:
    name = state.name
    tags = {
        f"{PREFIX}DEPLOYMENT": deployment_tag,
        f"{PREFIX}LIFECYCLE_ID": record.lifecycle_id,
        f"{PREFIX}STACK_TAG": record.stack_tag,
        f"{PREFIX}EVENT_{name.value}_STATUS": state.status.value,
        f"{PREFIX}EVENT_{name.value}_STATUS_DATE": state.status_date or "",
    }
    if state.status is not EventStatus.COMPLETED and name not in (
        EventName.QA_CERTIFICATION_RESPONSE, EventName.MARK_FOR_PRODUCTION_CREATE, EventName.MARK_FOR_PRODUCTION_PATCH,
    ):
        return _finish(tags)
    if name in (EventName.BUILD_AMI, EventName.PATCH_AMI):
        built = BuildOutputs.model_validate(state.outputs)
        tags |= {
            f"{PREFIX}CURRENT_AMI_SEMVER": record.semver,
            f"{PREFIX}PRODUCT_VER": record.product_ver,
            f"{PREFIX}PRODUCT_NAME": record.product_name,
            f"{PREFIX}COMMIT_REF": record.commit_ref,
            f"{PREFIX}COMPONENTS": ",".join(built.image_builder.components),
            f"{PREFIX}IMAGEBUILDER_IMAGE_ARN": built.image_builder.image_arn,
            f"{PREFIX}IMAGEBUILDER_RECIPE_ARN": built.image_builder.recipe_arn or "",
            f"{PREFIX}IMAGEBUILDER_RECIPE_NAME": built.image_builder.recipe_name or "",
            f"{PREFIX}IMAGEBUILDER_SRC_PIPELINE": built.image_builder.pipeline_arn or "",
        }
        if name is EventName.PATCH_AMI and record.parent_ami:
            tags[f"{PREFIX}AMI_ANCESTRY"] = (
                f"{record.parent_ami.ami_id} (v{record.parent_ami.semver}) -> {built.ami.ami_id} (v{record.semver})"
            )
    elif name in (EventName.VULNERABILITY_SCANS_AMI_CREATE, EventName.VULNERABILITY_SCANS_AMI_PATCH):
        scan = ScanOutputs.model_validate(state.outputs)
        tags |= {
            f"{PREFIX}TOTAL_VULNERABILITIES": str(sum(scan.findings.values())),
            f"{PREFIX}SEVERITIES": ", ".join(f"{sev}: {count}" for sev, count in scan.findings.items()),
            f"{PREFIX}SCAN_REPORT": scan.report_s3_uri or "",
        }
    elif name is EventName.QA_CERTIFICATION_REQUEST:
        export = QaRequestOutputs.model_validate(state.outputs)
        tags |= {
            f"{PREFIX}EXPORT_IMAGE_ID": record.ami.ami_id if record.ami else "",
            f"{PREFIX}EXPORT_IMAGE_TASK_ID": export.export_task_id,
            f"{PREFIX}EXPORT_IMAGE_PATH": export.export_s3_uri,
        }
    elif name is EventName.QA_CERTIFICATION_RESPONSE:
        tags[f"{PREFIX}QA_CERTIFICATION_STATUS"] = state.properties.get("certification_status", "")
    elif name in (EventName.MARK_FOR_PRODUCTION_CREATE, EventName.MARK_FOR_PRODUCTION_PATCH):
        tags[f"{PREFIX}APPROVAL_STATUS"] = state.properties.get("approval_status", "")
        if state.status is EventStatus.COMPLETED:
            backup = MarkForProductionOutputs.model_validate(state.outputs)
            tags[f"{PREFIX}AMI_BACKUP"] = backup.backup_s3_uri or ""
    return _finish(tags)


def _finish(tags: dict[str, str]) -> dict[str, str]:
    return {key: _clip(value) for key, value in tags.items() if value != ""}
