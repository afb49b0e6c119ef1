"""QA export step logic that needs no AWS: the restored copy's name and the encryption-by-default verdict."""

from __future__ import annotations

import re

import pytest

from lambdas.steps.qa_certification_request import handler


def test_restored_copy_names_are_valid_ami_names_unique_per_execution() -> None:
    first = handler.restored_name("main", "lc-0123456789abcdef-QAR-1")
    second = handler.restored_name("main", "lc-0123456789abcdef-QAR-2")

    assert first != second and first.startswith("ami-lc-main-qa-export-")
    long = handler.restored_name("main", "x" * 200 + "{bad}*chars")
    assert len(long) == 128 and re.fullmatch(r"[A-Za-z0-9()\[\] ./'@_-]{3,128}", long)
    assert re.fullmatch(r"[A-Za-z0-9()\[\] ./'@_-]+", handler.restored_name("main", "a{b}c*d"))


def test_encryption_by_default_gives_a_failed_verdict_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handler.exports, "encryption_by_default", lambda: True)

    answer = handler.check_encryption_by_default({"step": "check_encryption_by_default", "region": "eu-west-1"})

    assert answer["blocked"] is True and answer["verdict"]["status"] == "FAILED"
    assert answer["verdict"]["reason"].startswith(
        "EBS encryption by default is enabled in eu-west-1; the QA export needs an unencrypted copy")
    monkeypatch.setattr(handler.exports, "encryption_by_default", lambda: False)
    assert handler.check_encryption_by_default({"region": "eu-west-1"}) == {"blocked": False}
