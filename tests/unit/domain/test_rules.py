import re

import pytest

from lambdas.domain import rules
from lambdas.domain.errors import Conflict, InvalidRequest
from lambdas.domain.events import CREATION_SEQUENCE, PATCH_SEQUENCE, EventName, EventStatus, LifecycleType, Stage
from tests.unit.domain.factories import AMI, LIFECYCLE_ID, build_outputs, creation, patch, run, run_all

E = EventName
BUILD, SMOKE, SCAN, QA_REQUEST, QA_RESPONSE, PRODUCTION = CREATION_SEQUENCE
PATCH_AMI, PATCH_SMOKE, PATCH_SCAN, PATCH_PRODUCTION = PATCH_SEQUENCE
LATER = "2024-05-01T12:00:00.000000Z"


# ----- validate_enabled_events: enabled automatic events form a prefix ------------------------------


@pytest.mark.parametrize("enabled", [
    {BUILD: True},
    {BUILD: True, SMOKE: True},
    {BUILD: True, SMOKE: True, SCAN: True, QA_REQUEST: True},
    {BUILD: True, SMOKE: False, SCAN: False},
])
def test_a_prefix_of_the_creation_sequence_is_accepted(enabled):
    assert rules.validate_enabled_events(LifecycleType.CREATION, enabled) == {n for n, on in enabled.items() if on}


@pytest.mark.parametrize(("enabled", "later", "earlier"), [
    ({BUILD: True, SMOKE: False, SCAN: True}, SCAN, SMOKE),
    ({BUILD: True, SMOKE: True, QA_REQUEST: True}, QA_REQUEST, SCAN),
    ({SMOKE: True}, SMOKE, BUILD),
])
def test_a_gap_in_the_creation_sequence_is_refused_naming_both_events(enabled, later, earlier):
    with pytest.raises(InvalidRequest, match=f"events: {later.value} is enabled but the earlier {earlier.value}"):
        rules.validate_enabled_events(LifecycleType.CREATION, enabled)


def test_a_gap_in_the_patch_sequence_is_refused():
    assert rules.validate_enabled_events(LifecycleType.PATCH, {PATCH_AMI: True, PATCH_SMOKE: True}) == {
        PATCH_AMI, PATCH_SMOKE
    }
    with pytest.raises(InvalidRequest, match=f"{PATCH_SCAN.value} is enabled but the earlier {PATCH_SMOKE.value}"):
        rules.validate_enabled_events(LifecycleType.PATCH, {PATCH_AMI: True, PATCH_SCAN: True})


@pytest.mark.parametrize(("lifecycle_type", "name"), [
    (LifecycleType.CREATION, QA_RESPONSE),  # given through certify, never requested
    (LifecycleType.CREATION, PRODUCTION),  # given through approve
    (LifecycleType.CREATION, PATCH_AMI),
    (LifecycleType.PATCH, BUILD),
    (LifecycleType.PATCH, PATCH_PRODUCTION),
])
def test_events_a_client_cannot_request_are_refused(lifecycle_type, name):
    with pytest.raises(InvalidRequest, match=f"events: {name.value} cannot be requested"):
        rules.validate_enabled_events(lifecycle_type, {name: True})


def test_an_event_listed_twice_is_refused():
    with pytest.raises(InvalidRequest, match="events: BUILD_AMI is listed twice"):
        rules.enabled_map([(BUILD, True), (SMOKE, True), (BUILD, False)])


# ----- ensure_can_start -------------------------------------------------------------------------


def test_a_completed_event_is_immutable():
    record = run_all(creation(), (BUILD,))
    with pytest.raises(Conflict, match="BUILD_AMI is COMPLETED and immutable"):
        rules.ensure_can_start(record, BUILD)


def test_no_event_starts_while_another_is_in_progress():
    record = creation()
    rules.begin_event(record, BUILD, LATER)
    with pytest.raises(Conflict, match="BUILD_AMI is IN_PROGRESS; wait for its result before starting BUILD_AMI"):
        rules.ensure_can_start(record, BUILD)
    waiting = "BUILD_AMI is IN_PROGRESS; wait for its result before starting QA_CERTIFICATION_RESPONSE"
    with pytest.raises(Conflict, match=waiting):
        rules.ensure_can_start(record, QA_RESPONSE)


def test_an_event_needs_every_earlier_event_completed():
    record = creation()
    run(record, BUILD, EventStatus.FAILED)
    with pytest.raises(Conflict, match=r"SMOKE_TESTS_AMI_CREATE needs BUILD_AMI COMPLETED first \(it is FAILED\)"):
        rules.ensure_can_start(record, SMOKE)
    record = run_all(creation(), (BUILD,))
    out_of_order = r"QA_CERTIFICATION_RESPONSE needs SMOKE_TESTS_AMI_CREATE COMPLETED first \(it is NOT_STARTED\)"
    with pytest.raises(Conflict, match=out_of_order):
        rules.ensure_can_start(record, QA_RESPONSE)


def test_an_event_that_was_not_enabled_cannot_start():
    record = run_all(creation(enabled=(BUILD,)), (BUILD,))
    with pytest.raises(Conflict, match=f"SMOKE_TESTS_AMI_CREATE is not enabled on lifecycle {LIFECYCLE_ID}"):
        rules.ensure_can_start(record, SMOKE)


@pytest.mark.parametrize("verdict", [EventStatus.FAILED, EventStatus.ERROR])
def test_a_failed_event_can_start_again(verdict):
    record = run_all(creation(), (BUILD,))
    run(record, SMOKE, verdict)
    assert rules.ensure_can_start(record, SMOKE).name is SMOKE


# ----- next_automatic_event ---------------------------------------------------------------------


def test_the_chain_starts_the_next_enabled_event():
    record = creation()
    assert rules.next_automatic_event(record, retry_failed=False) is BUILD
    run(record, BUILD)
    assert rules.next_automatic_event(record, retry_failed=False) is SMOKE


def test_the_chain_stops_at_a_disabled_event_and_at_manual_events():
    assert rules.next_automatic_event(run_all(creation(enabled=(BUILD,)), (BUILD,)), retry_failed=True) is None
    assert rules.next_automatic_event(run_all(creation(), CREATION_SEQUENCE[:4]), retry_failed=True) is None
    assert rules.next_automatic_event(run_all(patch(), PATCH_SEQUENCE[:3]), retry_failed=True) is None


def test_the_chain_waits_while_an_event_is_in_progress():
    record = creation()
    rules.begin_event(record, BUILD, LATER)
    assert rules.next_automatic_event(record, retry_failed=True) is None


@pytest.mark.parametrize("verdict", [EventStatus.FAILED, EventStatus.ERROR])
def test_a_failed_event_is_retried_only_on_request(verdict):
    record = run_all(creation(), (BUILD,))
    run(record, SMOKE, verdict)
    assert rules.next_automatic_event(record, retry_failed=False) is None
    assert rules.next_automatic_event(record, retry_failed=True) is SMOKE


# ----- begin_event and execution names ------------------------------------------------------------


def test_begin_event_starts_a_new_attempt_with_a_deterministic_execution_name():
    record = creation()
    state = rules.begin_event(record, BUILD, LATER)
    assert (state.status, state.attempt, state.started_at) == (EventStatus.IN_PROGRESS, 1, LATER)
    assert state.execution_name == f"{LIFECYCLE_ID}-build-1"


def test_a_retry_gets_the_next_attempt_and_forgets_the_failed_outcome():
    record = creation()
    state = rules.begin_event(record, BUILD, LATER)
    rules.apply_result(record, BUILD, attempt=1, status=EventStatus.FAILED, status_date=LATER,
                       outputs={"log": "x"}, reason="recipe failed")
    state = rules.begin_event(record, BUILD, "2024-05-01T13:00:00.000000Z")
    assert state.execution_name == f"{LIFECYCLE_ID}-build-2"
    assert (state.attempt, state.reason, state.outputs) == (2, None, {})


def test_patch_runs_have_their_own_execution_names():
    state = rules.begin_event(patch(patch_number=3), PATCH_AMI, LATER)
    assert state.execution_name == f"{LIFECYCLE_ID}-p0003-patch-1"
    record = run_all(patch(patch_number=12), (PATCH_AMI,))
    assert rules.begin_event(record, PATCH_SMOKE, LATER).execution_name == f"{LIFECYCLE_ID}-p0012-smoke-1"


@pytest.mark.parametrize("name", CREATION_SEQUENCE + PATCH_SEQUENCE)
def test_execution_names_fit_step_functions(name):
    record = patch(patch_number=9999) if name in PATCH_SEQUENCE else creation()
    execution = rules.execution_name(record, name, 9999)
    assert len(execution) <= 80
    assert re.fullmatch(r"[A-Za-z0-9_-]+", execution)


def test_execution_names_differ_per_event_run_and_attempt():
    names = {
        rules.execution_name(record, name, attempt)
        for record in (creation(), patch(patch_number=1), patch(patch_number=2))
        for name in (CREATION_SEQUENCE if record.patch_number is None else PATCH_SEQUENCE)
        for attempt in (1, 2)
    }
    assert len(names) == 2 * (len(CREATION_SEQUENCE) + 2 * len(PATCH_SEQUENCE))


# ----- apply_result -----------------------------------------------------------------------------


def test_a_build_result_records_the_ami_with_the_lifecycle_semver():
    record = creation(semver="3.0.0")
    rules.begin_event(record, BUILD, LATER)
    assert rules.apply_result(record, BUILD, attempt=1, status=EventStatus.COMPLETED, status_date=LATER,
                              outputs=build_outputs())
    assert (record.ami.ami_id, record.ami.semver) == (AMI, "3.0.0")
    assert record.event(BUILD).status is EventStatus.COMPLETED
    assert record.updated_at == LATER


def test_a_duplicate_result_returns_false_and_changes_nothing():
    record = run_all(creation(), (BUILD,))
    before = record.model_dump()
    assert not rules.apply_result(record, BUILD, attempt=1, status=EventStatus.FAILED, status_date=LATER,
                                  outputs={}, reason="late")
    assert record.model_dump() == before


def test_a_stale_result_of_an_earlier_attempt_returns_false_and_changes_nothing():
    record = creation()
    rules.begin_event(record, BUILD, LATER)
    rules.apply_result(record, BUILD, attempt=1, status=EventStatus.ERROR, status_date=LATER, reason="timeout")
    rules.begin_event(record, BUILD, LATER)
    before = record.model_dump()
    assert not rules.apply_result(record, BUILD, attempt=1, status=EventStatus.COMPLETED, status_date=LATER,
                                  outputs=build_outputs())
    assert record.model_dump() == before
    assert record.ami is None


def test_a_result_for_an_event_that_never_started_is_ignored():
    record = creation()
    before = record.model_dump()
    assert not rules.apply_result(record, BUILD, attempt=1, status=EventStatus.COMPLETED, status_date=LATER,
                                  outputs=build_outputs())
    assert record.model_dump() == before


def test_in_progress_is_not_a_verdict():
    record = creation()
    rules.begin_event(record, BUILD, LATER)
    with pytest.raises(ValueError, match="not a verdict"):
        rules.apply_result(record, BUILD, attempt=1, status=EventStatus.IN_PROGRESS, status_date=LATER)


# ----- stage ------------------------------------------------------------------------------------


def test_each_completed_event_raises_the_stage():
    record = creation()
    for name, stage in zip(CREATION_SEQUENCE[:4], (Stage.HARDENED, Stage.SMOKE_TESTED, Stage.SCANNED,
                                                    Stage.QA_REQUESTED), strict=True):
        run(record, name)
        assert record.stage is stage


@pytest.mark.parametrize("verdict", [EventStatus.FAILED, EventStatus.ERROR])
def test_a_failed_event_never_raises_the_stage(verdict):
    record = run_all(creation(), (BUILD,))
    run(record, SMOKE, verdict)
    assert record.stage is Stage.HARDENED


def test_a_failed_build_leaves_no_ami():
    record = creation()
    run(record, BUILD, EventStatus.FAILED)
    assert (record.stage, record.ami) == (Stage.NONE, None)


# ----- manual verdicts (certify, NOT_APPROVED) ----------------------------------------------------


def test_qa_certification_completes_the_response_and_reaches_qa_certified():
    record = run_all(creation(), CREATION_SEQUENCE[:4])
    state = rules.record_manual_verdict(record, QA_RESPONSE, status=EventStatus.COMPLETED, now=LATER,
                                        properties={"certification_status": "CERTIFIED", "ticket": "QA-1"})
    assert (state.status, state.attempt, state.execution_name) == (EventStatus.COMPLETED, 1, None)
    assert state.properties == {"certification_status": "CERTIFIED", "ticket": "QA-1"}
    assert record.stage is Stage.QA_CERTIFIED


def test_a_failed_certification_keeps_the_stage_and_the_reason():
    record = run_all(creation(), CREATION_SEQUENCE[:4])
    state = rules.record_manual_verdict(record, QA_RESPONSE, status=EventStatus.FAILED, now=LATER,
                                        properties={"certification_status": "FAILED"}, reason="QA certification FAILED")
    assert (state.status, state.reason) == (EventStatus.FAILED, "QA certification FAILED")
    assert record.stage is Stage.QA_REQUESTED


def test_a_manual_verdict_follows_the_same_rules_as_a_start():
    record = run_all(creation(), CREATION_SEQUENCE[:3])
    with pytest.raises(Conflict, match="needs QA_CERTIFICATION_REQUEST COMPLETED first"):
        rules.record_manual_verdict(record, QA_RESPONSE, status=EventStatus.COMPLETED, now=LATER, properties={})
    run(record, QA_REQUEST)
    rules.record_manual_verdict(record, QA_RESPONSE, status=EventStatus.COMPLETED, now=LATER, properties={})
    before = record.model_dump()
    with pytest.raises(Conflict, match="QA_CERTIFICATION_RESPONSE is COMPLETED and immutable"):
        rules.record_manual_verdict(record, QA_RESPONSE, status=EventStatus.FAILED, now=LATER, properties={})
    assert record.model_dump() == before


def test_a_rejection_of_a_patch_needs_the_patch_tests_first():
    record = run_all(patch(), (PATCH_AMI,))
    with pytest.raises(Conflict, match="MARK_FOR_PRODUCTION_PATCH needs SMOKE_TESTS_AMI_PATCH COMPLETED first"):
        rules.record_manual_verdict(record, PATCH_PRODUCTION, status=EventStatus.FAILED, now=LATER, properties={})


# ----- apply_event_selection (PUT) ----------------------------------------------------------------


def test_a_completed_event_cannot_be_switched_off():
    record = run_all(creation(), (BUILD,))
    with pytest.raises(Conflict, match="BUILD_AMI is COMPLETED and immutable; it cannot be disabled"):
        rules.apply_event_selection(record, {BUILD: False})


def test_an_event_in_progress_cannot_be_switched_off():
    record = creation()
    rules.begin_event(record, BUILD, LATER)
    with pytest.raises(Conflict, match="BUILD_AMI is IN_PROGRESS; it cannot be disabled"):
        rules.apply_event_selection(record, {BUILD: False})


def test_switching_events_keeps_the_prefix_rule():
    record = run_all(creation(enabled=(BUILD,)), (BUILD,))
    rules.apply_event_selection(record, {SMOKE: True, SCAN: True})
    assert [state.name for state in record.events if state.enabled][:3] == [BUILD, SMOKE, SCAN]
    with pytest.raises(InvalidRequest, match="VULNERABILITY_SCANS_AMI_CREATE is enabled but the earlier SMOKE"):
        rules.apply_event_selection(record, {SMOKE: False})


def test_a_put_cannot_switch_off_the_manual_events():
    record = run_all(creation(), CREATION_SEQUENCE[:4])
    try:
        rules.apply_event_selection(record, {QA_RESPONSE: False})
    except InvalidRequest as exc:
        assert "QA_CERTIFICATION_RESPONSE" in exc.message
    else:
        raise AssertionError("QA_CERTIFICATION_RESPONSE was switched off")


def test_a_put_naming_an_event_of_the_other_lifecycle_type_is_invalid():
    record = run_all(creation(), (BUILD,))
    with pytest.raises(InvalidRequest, match="PATCH_AMI"):
        rules.apply_event_selection(record, {PATCH_AMI: True})
