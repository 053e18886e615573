"""JSON request bodies have a depth and a value budget (envoxy.views.jsonbody)."""

import json
import random
import time
from typing import Any

import pytest
from werkzeug.test import Client

from envoxy.daemon.app import create_app
from envoxy.decorators import on
from envoxy.exceptions import ConfigError
from envoxy.views import View
from envoxy.views.exceptions import JSONTooDeepError, JSONTooLargeError
from envoxy.views.jsonbody import (
    DEFAULT_MAX_JSON_DEPTH,
    DEFAULT_MAX_JSON_ELEMENTS,
    check_json_budget,
)


@on(endpoint="/v1/echo")
class Echo(View):
    def post(self, request, **kwargs):
        return {"type": type(request.get_json()).__name__}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def values(count: int) -> bytes:
    """An array holding ``count - 1`` values (``count`` with the array itself)."""
    return b"[" + b",".join([b"{}"] * (count - 1)) + b"]"


def test_default_budget() -> None:
    assert DEFAULT_MAX_JSON_DEPTH == 64
    assert DEFAULT_MAX_JSON_ELEMENTS == 200_000


def test_depth_beyond_the_budget_is_400_json() -> None:
    client = Client(create_app({}, views=[Echo]))
    assert client.post("/v1/echo", data=nested(64), content_type="application/json").json == {
        "type": "list"
    }
    answer = client.post("/v1/echo", data=nested(65), content_type="application/json")
    assert answer.status_code == 400
    assert answer.json["code"] == 0
    assert answer.json["error"].startswith("Malformed JSON body: nested deeper than 64 levels")


def test_values_beyond_the_budget_are_413_json() -> None:
    client = Client(create_app({}, views=[Echo]))
    limit = DEFAULT_MAX_JSON_ELEMENTS
    ok = client.post("/v1/echo", data=values(limit), content_type="application/json")
    assert ok.status_code == 200
    answer = client.post("/v1/echo", data=values(limit + 1), content_type="application/json")
    assert answer.status_code == 413
    assert answer.json["code"] == 0
    assert answer.json["error"].startswith("JSON body too large: more than 200000 values")
    assert "Traceback" not in answer.get_data(as_text=True)


def test_the_budget_is_configurable() -> None:
    config = {"max_json_depth": 3, "max_json_elements": 10}
    client = Client(create_app(config, views=[Echo]))
    post = {"content_type": "application/json"}
    assert client.post("/v1/echo", data=nested(3), **post).status_code == 200
    assert client.post("/v1/echo", data=nested(4), **post).status_code == 400
    assert client.post("/v1/echo", data=values(10), **post).status_code == 200
    assert client.post("/v1/echo", data=values(11), **post).status_code == 413


@pytest.mark.parametrize("value", [0, -1, "many", True])
@pytest.mark.parametrize("key", ["max_json_depth", "max_json_elements"])
def test_a_budget_that_is_not_a_positive_integer_is_a_config_error(key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=key):
        create_app({key: value}, views=[Echo])


def test_commas_and_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"csv": "a,b,[c],{d}," * 50_000, "deep": "[[[[" * 100}).encode()
    check_json_budget(text, 2, 4)
    escaped = json.dumps(['\\"[[[', "\\", '"', "]]]" * 100, "x"]).encode()
    check_json_budget(escaped, 1, 6)
    with pytest.raises(JSONTooLargeError):
        check_json_budget(escaped, 1, 5)


def test_strings_crossing_the_scan_windows_are_still_skipped() -> None:
    # strings of every length around the 64 KiB window, full of commas and escapes
    random.seed(7)
    items = ["," * random.randint(0, 70_000) + '\\"[' * random.randint(0, 3) for _ in range(40)]
    text = json.dumps([items, {"k": items}]).encode()
    assert len(text) > 1_000_000
    check_json_budget(text, 3, 2 * len(items) + 4)
    with pytest.raises(JSONTooLargeError):
        check_json_budget(text, 3, 2 * len(items) + 3)


def test_malformed_brackets_are_left_to_the_parser() -> None:
    check_json_budget(b"[" * 100, 64, 1000)
    check_json_budget(b"]" * 100 + b"{" * 100, 64, 1000)
    with pytest.raises(JSONTooDeepError):
        check_json_budget(b"[" * 100 + b"1" + b"]" * 100, 64, 1000)


def test_unterminated_strings_and_lone_backslashes_stay_linear() -> None:
    hostile = b'["' + b'\\"' * 2_000_000 + b"\\"
    started = time.perf_counter()
    check_json_budget(hostile, 64, 10)
    check_json_budget(b'"' * 4_000_000, 64, 10)
    assert time.perf_counter() - started < 2


@on(endpoint="/v1/parsed")
class Parsed(View):
    def post(self, request, **kwargs):
        # what the handler got, exactly: repr keeps integer digits, float bits, strings
        return {"repr": repr(request.get_json())}


@pytest.mark.parametrize(
    "text",
    [
        b'[1, -2, 1.5, 1e300, 5e-324, true, null, "x", {"a": [1], "a": 2}]',
        b"[9223372036854775807, -9223372036854775808, 18446744073709551615]",
        # past 64 bits: exact integers (orjson alone would make them floats)
        b"[18446744073709551616, -123456789012345678901234567890, 1.5]",
        b'["12345678901234567890123456", 0.00000000000000000001]',
        # 19 digits past -2**63: exact too (orjson alone makes them floats)
        b"[-9223372036854775809, -9999999999999999999, -1234567890123456789]",
        b'{"id": -9999999999999999999}',
        # the exact parser keeps surrogate pairs and an escaped backslash before "ud800"
        b'["\\ud83d\\ude00", "\\\\ud800", 12345678901234567890]',
        b'["2024-01-01-2024-01-31", "+1-555-0100-2000-3000", -1]',  # digits and dashes
        '["\u00e9\u6f22\U0001f600", "\\u00e9\\ud83d\\ude00"]'.encode(),
    ],
)
def test_a_json_body_is_parsed_as_the_standard_library_parses_it(text: bytes) -> None:
    client = Client(create_app({}, views=[Parsed]))
    answer = client.post("/v1/parsed", data=text, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json["repr"] == repr(json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        b"[NaN]",
        b"[Infinity]",
        b"[-Infinity, 123456789012345678901234]",  # the exact parser refuses them too
        b'["\\ud800"]',  # a lone surrogate: no string could write it back
        # the exact parser (a body with 20 digits) refuses what orjson refuses
        b'["\\ud800", 12345678901234567890]',
        b'["\\udfff\\ud800", 12345678901234567890]',
        b'["\xed\xa0\x80", 12345678901234567890]',  # a surrogate encoded as UTF-8
        b'["\xff", 12345678901234567890]',  # not UTF-8
        b"[1e400, 12345678901234567890]",  # past a float: not a finite number
        b"[-0.1e99999999999999999999]",
        b"\xef\xbb\xbf[12345678901234567890]",  # a byte order mark
        "[12345678901234567890]".encode("utf-16"),  # not UTF-8
        b"[1,]",
        b'{"a": 1,}',
        b"[01]",
    ],
)
def test_what_is_not_json_is_400(text: bytes) -> None:
    client = Client(create_app({}, views=[Parsed]))
    answer = client.post("/v1/parsed", data=text, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json["error"].startswith("Malformed JSON body")


@pytest.mark.parametrize("offset", [0, -20, -19, -10, -1, 0x10000 * 2 + 3])
def test_a_long_integer_across_the_scan_windows_is_kept_exact(offset: int) -> None:
    """Large bodies are looked at window by window for integers past 64 bits: one that
    straddles two windows is still found, and parsed exactly (orjson would make it a
    float); 19 digits are not taken for one."""
    from envoxy.views.jsonbody import _WINDOW, _has_long_number, parse_json_body

    at = _WINDOW + offset if offset < 0 else offset
    digits = b"123456789012345678901"
    text = bytearray(b"[" + b" " * (4 * _WINDOW) + b"]")
    text[at + 1 : at + 1 + len(digits)] = digits
    value = parse_json_body(bytes(text))
    assert value == [123456789012345678901]
    assert type(value[0]) is int
    text[at + 1 + 19 : at + 1 + len(digits)] = b"  "  # 19 digits left
    assert not _has_long_number(bytes(text))
    text[at + 1 : at + 21] = b"-9999999999999999999"  # a minus sign and 19: below -2**63
    value = parse_json_body(bytes(text))
    assert value == [-9999999999999999999]
    assert type(value[0]) is int
    assert _has_long_number(bytes(text))
