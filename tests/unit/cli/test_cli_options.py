"""Argument parsing, --events mapping and the METHOD::TARGET / KEY::VALUE values of api-cli."""

from __future__ import annotations

import shlex

import pytest

from cli.ami_cli.errors import UsageError
from cli.ami_cli.options import (
    creation_events,
    parse_args,
    parse_notification,
    parse_properties,
    patch_events,
    update_events,
)

SEED_CREATE = """--mode "BATCH" --operation "AMI_CREATE" --stackTag "main"  --events "AMI_BUILD_ONLY" --owner "ownername"
 --productVer "1.0.0" --productName "My Product Name" --notifications "EMAIL::user@domain.com\""""


def _enabled(switches: list[dict]) -> list[str]:
    return [switch["name"] for switch in switches if switch["enabled"]]


def test_the_seed_flags_parse_verbatim() -> None:
    options = parse_args(shlex.split(SEED_CREATE))
    assert (options.mode, options.operation, options.stack_tag, options.events) == (
        "BATCH", "AMI_CREATE", "main", ["AMI_BUILD_ONLY"])
    assert (options.owner, options.product_ver, options.product_name) == ("ownername", "1.0.0", "My Product Name")
    assert options.notifications == ["EMAIL::user@domain.com"]
    assert (options.output, options.wait, options.lifecycle_type) == ("text", False, "ami-creation")


def test_repeatable_flags_and_case_insensitive_words() -> None:
    options = parse_args(["--mode", "batch", "--operation", "ami_patch", "--events", "smoke_tests", "--events",
                          "VULNERABILITY_SCANS", "--properties", "a::1", "--properties", "b::2", "--output", "JSON"])
    assert options.mode == "BATCH" and options.operation == "AMI_PATCH" and options.output == "json"
    assert options.events == ["SMOKE_TESTS", "VULNERABILITY_SCANS"]
    assert options.properties == ["a::1", "b::2"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--operation", "AMI_DELETE"], "unknown operation 'AMI_DELETE'; expected one of: AMI_CREATE"),
    (["--operation", "AMI_CREATE", "--events", "BUILD"], "--events: unknown event 'BUILD'"),
    (["--certificationStatus", "MAYBE"], "argument --certificationStatus: invalid choice: 'MAYBE'"),
    (["--mode", "GUI"], "argument --mode: invalid choice"),
    (["--timeout", "0"], "--timeout must be a positive number"),
    (["--operation"], "expected one argument"),
    (["--stack", "main"], "unrecognized arguments: --stack main"),  # no abbreviations of flags
])
def test_bad_arguments_are_one_line_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_args(argv)
    assert message in raised.value.message and "\n" not in raised.value.message
    assert raised.value.exit_code == 2


def test_creation_events_always_build_and_keep_the_order() -> None:
    assert _enabled(creation_events(["AMI_BUILD_ONLY"])) == ["BUILD_AMI"]
    assert [s["name"] for s in creation_events(["AMI_BUILD_ONLY"])] == [
        "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST"]
    assert _enabled(creation_events(["SMOKE_TESTS"])) == ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"]
    assert _enabled(creation_events(["QA_CERTIFICATION_REQUEST", "SMOKE_TESTS", "VULNERABILITY_SCANS"])) == [
        "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST"]
    assert _enabled(creation_events(["SMOKE_TESTS", "SMOKE_TESTS"])) == ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"]


@pytest.mark.parametrize(("events", "message"), [
    ([], "AMI_CREATE needs --events"),
    (["VULNERABILITY_SCANS"], "--events VULNERABILITY_SCANS needs --events SMOKE_TESTS too"),
    (["SMOKE_TESTS", "QA_CERTIFICATION_REQUEST"], "--events QA_CERTIFICATION_REQUEST needs --events VULNERABILITY_SCANS"),
    (["AMI_BUILD_ONLY", "SMOKE_TESTS"], "AMI_BUILD_ONLY cannot be combined"),
    (["AMI_PATCH_ONLY"], "--events AMI_PATCH_ONLY is not valid for AMI_CREATE: it belongs to AMI_PATCH"),
])
def test_creation_events_refuse_gaps_and_foreign_events(events: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        creation_events(events)


def test_patch_events() -> None:
    assert _enabled(patch_events(["AMI_PATCH_ONLY"])) == ["PATCH_AMI"]
    assert _enabled(patch_events(["VULNERABILITY_SCANS", "SMOKE_TESTS"])) == [
        "PATCH_AMI", "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH"]
    with pytest.raises(UsageError, match="VULNERABILITY_SCANS needs --events SMOKE_TESTS"):
        patch_events(["VULNERABILITY_SCANS"])
    with pytest.raises(UsageError, match="a patch run has no QA certification"):
        patch_events(["SMOKE_TESTS", "QA_CERTIFICATION_REQUEST"])
    with pytest.raises(UsageError, match="it belongs to AMI_CREATE"):
        patch_events(["AMI_BUILD_ONLY"])


def test_update_events_send_only_the_named_events() -> None:
    assert update_events("AMI_CREATE_UPDATE", []) == []
    assert update_events("AMI_CREATE_UPDATE", ["QA_CERTIFICATION_REQUEST", "VULNERABILITY_SCANS"]) == [
        {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": True},
        {"name": "QA_CERTIFICATION_REQUEST", "enabled": True},
    ]
    assert update_events("AMI_PATCH_UPDATE", ["SMOKE_TESTS"]) == [{"name": "SMOKE_TESTS_AMI_PATCH", "enabled": True}]
    with pytest.raises(UsageError, match="the build already ran; to retry a FAILED or ERROR event"):
        update_events("AMI_CREATE_UPDATE", ["AMI_BUILD_ONLY"])
    with pytest.raises(UsageError, match="not valid for AMI_PATCH_UPDATE"):
        update_events("AMI_PATCH_UPDATE", ["QA_CERTIFICATION_REQUEST"])


@pytest.mark.parametrize(("text", "expected"), [
    ("EMAIL::user@domain.com", {"method": "EMAIL", "target": "user@domain.com"}),
    ("email:: user@domain.com ", {"method": "EMAIL", "target": "user@domain.com"}),
    ("HTTPS::https://hooks.example.com/ami", {"method": "HTTPS", "target": "https://hooks.example.com/ami"}),
])
def test_notification_targets(text: str, expected: dict[str, str]) -> None:
    assert parse_notification(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("EMAIL:user@domain.com", "expected METHOD::TARGET"),
    ("user@domain.com", "expected METHOD::TARGET"),
    ("EMAIL::", "expected METHOD::TARGET"),
    ("::user@domain.com", "expected METHOD::TARGET"),
    ("SMS::+123456", "unknown method 'SMS'; expected EMAIL or HTTPS"),
    ("EMAIL::not-an-address", "is not an email address"),
    ("HTTPS::https://hooks.example.com/x?token=1", "without query string"),
])
def test_malformed_notification_targets(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as raised:
        parse_notification(text)
    assert raised.value.message.startswith(f"--notifications '{text}'")


def test_properties() -> None:
    assert parse_properties(["ticket::OPS-42", "note::a::b", "empty::"]) == {
        "ticket": "OPS-42", "note": "a::b", "empty": ""}
    for bad in ("novalue", "::x"):
        with pytest.raises(UsageError, match="expected KEY::VALUE"):
            parse_properties([bad])
    with pytest.raises(UsageError, match="key 'a' is given twice"):
        parse_properties(["a::1", "a::2"])
