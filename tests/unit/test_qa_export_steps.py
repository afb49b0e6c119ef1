"""QA export step logic that needs no AWS: the restored copy's name, the encryption-by-default verdict and the
QA team's message."""

from __future__ import annotations

import re

import pytest

from lambdas.steps.qa_certification_request import handler
from lambdas.steps.qa_certification_request.inputs import ExportStatusInput


def test_restored_copy_names_are_valid_ami_names_unique_per_execution() -> None:
    first = handler.restored_name("main", "lc-0123456789abcdef-QAR-1")
    second = handler.restored_name("main", "lc-0123456789abcdef-QAR-2")

    assert first != second and first.startswith("ami-lc-main-qa-export-")
    long = handler.restored_name("main", "x" * 200 + "{bad}*chars")
    assert len(long) == 128 and re.fullmatch(r"[A-Za-z0-9()\[\] ./'@_-]{3,128}", long)
    assert re.fullmatch(r"[A-Za-z0-9()\[\] ./'@_-]+", handler.restored_name("main", "a{b}c*d"))


def test_encryption_by_default_gives_a_failed_verdict_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handler.exports, "encryption_by_default", lambda: True)

    answer = handler.check_encryption_by_default("eu-west-1")

    assert answer["blocked"] is True and answer["verdict"]["status"] == "FAILED"
    assert answer["verdict"]["reason"].startswith(
        "EBS encryption by default is enabled in eu-west-1; the QA export needs an unencrypted copy")
    monkeypatch.setattr(handler.exports, "encryption_by_default", lambda: False)
    assert handler.check_encryption_by_default("eu-west-1") == {"blocked": False}


def test_the_qa_message_says_where_the_export_is_and_how_to_certify_without_a_link() -> None:
    event = ExportStatusInput(
        lifecycle_id="lc-0123456789abcdef", stack_tag="main", ami_id="ami-0123456789abcdef0",
        export_task_id="export-ami-1", restored_ami_id="ami-0fedcba9876543210", disk_format="RAW",
        product_name="My Product", semver="2.0.0",
        poll={"waited": 0, "delay": 120, "checks": 0}, max_seconds="14400",
    )

    message = handler.qa_message(event, "s3://exports/exports/lc-0123456789abcdef/ami-0123456789abcdef0/export-ami-1.raw")

    assert message["subject"] == "QA certification requested: My Product 2.0.0 (ami-0123456789abcdef0)"
    assert "exported as a RAW disk image to s3://exports/" in message["message"]
    assert "lifecycle lc-0123456789abcdef" in message["message"] and "https://" not in message["message"]
