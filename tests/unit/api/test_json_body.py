"""The API's JSON body parser: what the standard parser accepts but no client should send is refused
with a reason (Powertools reports a JSONDecodeError as the 400 "body: is not valid JSON (<reason>)")."""

import json

import pytest

from lambdas.api.app import parse_json_body
from lambdas.domain.errors import PayloadTooLarge
from lambdas.domain.requests import MAX_BODY_BYTES


@pytest.mark.parametrize("text,reason", [
    ("[" * 50_000 + "]" * 50_000, "it is nested too deeply"),
    ('{"a": ' + "1" * 65 + "}", "a number has more than 64 digits"),
    ('{"a": -' + "1" * 65 + "}", "a number has more than 64 digits"),
    ('{"a": NaN}', "NaN is not a JSON value"),
    ('{"a": -Infinity}', "-Infinity is not a JSON value"),
    ('{"a": "\\udfff"}', "it holds an unpaired UTF-16 surrogate escape"),
    ("{", "Expecting property name enclosed in double quotes"),
])
def test_refused_with_the_reason(text, reason):
    with pytest.raises(json.JSONDecodeError) as refused:
        parse_json_body(text)
    assert refused.value.msg == reason


def test_what_clients_send_parses_as_the_standard_parser_does():
    text = json.dumps({"a": [1, -2, 3.5, True, None], "b": "\U0001f600 caf\u00e9", "c": int("9" * 64)})
    assert parse_json_body(text) == json.loads(text)


def test_the_limit_counts_utf8_bytes_not_characters():
    at_limit = '"' + "\u00e9" * ((MAX_BODY_BYTES - 2) // 2) + '"'
    assert parse_json_body(at_limit) == json.loads(at_limit)
    with pytest.raises(PayloadTooLarge) as refused:
        parse_json_body(at_limit + " ")
    assert refused.value.message == f"the request body has {MAX_BODY_BYTES + 1} bytes; the limit is {MAX_BODY_BYTES}"
