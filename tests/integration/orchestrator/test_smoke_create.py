from tests.support.aws import drain_notifications, executions
from tests.support.calls import call_api

CREATE = {
    "stack_tag": "main",
    "owner": "ownername",
    "product_name": "My Product Name",
    "product_ver": "1.0.0",
    "notifications": [{"method": "EMAIL", "target": "user@domain.com"}],
    "events": [{"name": "BUILD_AMI", "enabled": True}],
}


def test_create_starts_build(deployment):
    response = call_api("POST", "/ami-creation/lifecycles", body=CREATE)
    assert response.status == 201, response.text
    body = response.json()
    assert body["semver"] == "1.0.0"
    assert body["event_started"] == "BUILD_AMI"
    [execution] = executions(deployment, "build")
    assert execution["name"] == f"{body['lifecycle_id']}-build-1"
    notes = drain_notifications(deployment)
    assert any("BUILD_AMI is IN_PROGRESS" in note["Message"] for note in notes)
