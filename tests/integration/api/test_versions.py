"""Semantic versions handed out through the API: MAJOR per new AMI, MINOR/PATCH per patch, never reused."""

from tests.support.aws import ami_tags
from tests.support.flow import AUTOMATIC_PATCH, Flow, selectable


def test_each_new_ami_of_a_stack_tag_and_product_gets_the_next_major(deployment):
    main = Flow(deployment)
    assert main.create()["semver"] == "1.0.0"
    assert main.create()["semver"] == "2.0.0"
    assert main.create(product_name="Other Product")["semver"] == "1.0.0"
    assert Flow(deployment, stack_tag="release").create()["semver"] == "1.0.0"
    assert main.create()["semver"] == "3.0.0"


def test_a_failed_build_keeps_its_version_and_the_next_create_moves_on(deployment):
    flow = Flow(deployment)
    first = flow.create()["lifecycle_id"]
    flow.finish(first, status="FAILED")
    assert flow.update(first)["semver"] == "1.0.0"  # the retry builds the same version
    assert flow.create()["semver"] == "2.0.0"


def test_patches_bump_the_parent_and_never_reuse_a_version(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()

    assert flow.patch(lifecycle_id, "MINOR", AUTOMATIC_PATCH)["semver"] == "1.1.0"
    flow.run_chain(lifecycle_id, "patch")
    flow.approve(lifecycle_id, "NOT_APPROVED", kind="patch")

    assert flow.patch(lifecycle_id, "MINOR")["semver"] == "1.2.0"  # 1.1.0 was rejected, not forgotten
    flow.finish(lifecycle_id, kind="patch", status="FAILED")

    third = flow.patch(lifecycle_id, "PATCH")
    assert (third["semver"], third["patch_number"]) == ("1.0.1", 3)
    assert flow.status(lifecycle_id)["allocated_semvers"] == ["1.0.0", "1.1.0", "1.2.0", "1.0.1"]
    assert flow.status(lifecycle_id, "patch")["parent_ami"]["semver"] == "1.0.0"


def test_a_patch_of_an_approved_patch_builds_on_it(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()
    original = flow.status(lifecycle_id)["ami"]["ami_id"]
    flow.patch(lifecycle_id, "MINOR", AUTOMATIC_PATCH)
    flow.run_chain(lifecycle_id, "patch")
    flow.approve(lifecycle_id, kind="patch")
    flow.finish(lifecycle_id, kind="patch")
    first_patch = flow.status(lifecycle_id, "patch")["ami"]["ami_id"]
    tags = ami_tags(first_patch)
    assert tags["AMI_LC_AMI_ANCESTRY"] == f"{original} (v1.0.0) -> {first_patch} (v1.1.0)"
    assert tags["AMI_LC_CURRENT_AMI_SEMVER"] == "1.1.0"

    assert flow.patch(lifecycle_id, "PATCH")["semver"] == "1.1.1"
    run = flow.status(lifecycle_id, "patch")
    assert (run["parent_ami"]["ami_id"], run["parent_ami"]["semver"]) == (first_patch, "1.1.0")
    flow.finish(lifecycle_id, kind="patch")
    second_patch = flow.status(lifecycle_id, "patch")["ami"]["ami_id"]
    assert ami_tags(second_patch)["AMI_LC_AMI_ANCESTRY"] == f"{first_patch} (v1.1.0) -> {second_patch} (v1.1.1)"
    # Hardened but not approved: selectable as hardened (highest semver first), not as production.
    assert selectable(deployment, "main#us-east-1#hardened")[0] == second_patch
    assert selectable(deployment, "main#us-east-1#production") == [first_patch, original]
