import pytest

from lambdas.domain.contracts import AmiRef
from lambdas.domain.events import CREATION_SEQUENCE, PATCH_SEQUENCE, EventStatus, Stage
from lambdas.domain.lookup import entries_for, rank, selector
from tests.unit.domain.factories import AMI, PATCHED_AMI, creation, patch, run, run_all

WHEN = "2024-05-02T00:00:00.000000Z"
PRODUCT = "My Product Name"


def test_nothing_is_selectable_before_a_build():
    assert entries_for(creation(), WHEN) == []
    failed = creation()
    run(failed, CREATION_SEQUENCE[0], EventStatus.FAILED)
    assert entries_for(failed, WHEN) == []


def test_an_ami_without_a_stage_is_not_selectable():
    record = creation(ami=AmiRef(ami_id=AMI, region="us-east-1", semver="1.0.0"))
    assert record.stage is Stage.NONE
    assert entries_for(record, WHEN) == []


@pytest.mark.parametrize("completed", range(1, 5))
def test_an_ami_is_selectable_at_every_stage_up_to_its_own_for_any_product_and_its_product(completed):
    record = run_all(creation(), CREATION_SEQUENCE[:completed])
    entries = entries_for(record, WHEN)
    reached = [stage for stage in Stage if Stage.NONE < stage <= record.stage]
    assert len(reached) == completed
    assert sorted(entry.selector for entry in entries) == sorted(
        [f"main#us-east-1#{stage.slug}" for stage in reached]
        + [f"main#us-east-1#{stage.slug}#P#{PRODUCT}" for stage in reached]
    )
    assert {entry.ami_id for entry in entries} == {AMI}
    assert {entry.rank for entry in entries} == {f"000001.000000.000000#{AMI}"}
    assert {entry.reached_at for entry in entries} == {WHEN}


def test_a_failed_stage_adds_no_selector():
    record = run_all(creation(), CREATION_SEQUENCE[:1])
    run(record, CREATION_SEQUENCE[1], EventStatus.FAILED)
    assert {entry.stage for entry in entries_for(record, WHEN)} == {"hardened"}


def test_a_production_patch_is_selectable_as_production_with_its_own_semver():
    record = run_all(patch(semver="1.1.0"), PATCH_SEQUENCE)
    assert record.stage is Stage.PRODUCTION
    entries = entries_for(record, WHEN)
    production = [entry for entry in entries if entry.stage == "production"]
    assert {entry.selector for entry in production} == {
        "main#us-east-1#production", f"main#us-east-1#production#P#{PRODUCT}"}
    assert {(entry.ami_id, entry.semver, entry.lifecycle_type) for entry in entries} == {
        (PATCHED_AMI, "1.1.0", "ami-patch")
    }
    # A patch skips no stage: it was never QA-certified, but "production" implies every stage below.
    assert len(entries) == 2 * 6


def test_rank_orders_by_semver_then_ami():
    assert rank("10.0.0", "ami-00000000") > rank("2.0.0", "ami-ffffffff")
    assert rank("1.10.0", "ami-00000000") > rank("1.9.0", "ami-ffffffff")
    assert rank("1.0.0", "ami-2") > rank("1.0.0", "ami-1")


def test_selectors_keep_stack_tag_region_stage_and_product_apart():
    assert selector("main", "us-east-1", Stage.QA_CERTIFIED) == "main#us-east-1#qa-certified"
    assert selector("main", "eu-west-1", Stage.PRODUCTION, "P") == "main#eu-west-1#production#P#P"
    assert selector("feature-x", "us-east-1", Stage.HARDENED) != selector("main", "us-east-1", Stage.HARDENED)


@pytest.mark.parametrize(("slug", "stage"), [("hardened", Stage.HARDENED), ("qa-certified", Stage.QA_CERTIFIED),
                                              ("PRODUCTION", Stage.PRODUCTION), ("smoke_tested", Stage.SMOKE_TESTED)])
def test_stage_slugs_round_trip(slug, stage):
    assert Stage.from_slug(slug) is stage
    assert Stage.from_slug(stage.slug) is stage


def test_an_unknown_stage_slug_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown stage 'approved'; expected one of: hardened, smoke-tested"):
        Stage.from_slug("approved")


def test_none_is_not_a_stage_one_can_select():
    with pytest.raises(ValueError, match="unknown stage"):
        Stage.from_slug("none")
