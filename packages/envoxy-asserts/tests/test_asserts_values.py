"""Every value validator against one table of passing and failing values (SPEC §2).

A value validator takes ``(_element, key=None, _error_code=1202, _status_code=412,
reply=False)``. Each row of :data:`PASSING` passes bare, under a key and under an
index; each row of :data:`FAILING` fails with the validator's message, code 1202 and
status 412, or the code and status given. Regex and huge inputs are in
``test_asserts_formats.py``.
"""

import datetime
import enum
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from envoxy.asserts import (
    Reply,
    assertz_array,
    assertz_array_even_empty,
    assertz_ascii,
    assertz_boolean,
    assertz_complex,
    assertz_dict,
    assertz_email,
    assertz_float,
    assertz_hash,
    assertz_integer,
    assertz_json,
    assertz_location,
    assertz_phone,
    assertz_string,
    assertz_timestamp,
    assertz_token,
    assertz_uri,
    assertz_url,
    assertz_utf8,
    assertz_uuid,
)
from envoxy.exceptions import ValidationException

Validator = Callable[..., Reply | None]

#: The validators whose every failure has one message; the others say
#: ``Invalid value type: {value}``, or ``{key}`` when the lookup failed.
FIXED_MESSAGES: dict[Validator, str] = {
    assertz_location: "Invalid location",
    assertz_utf8: "Invalid utf-8 encoding",
    assertz_ascii: "Invalid ascii encoding",
    assertz_hash: "Invalid hash",
    assertz_token: "Invalid token",
    assertz_uri: "Invalid uri",
    assertz_url: "Invalid url",
    assertz_email: "Invalid email",
    assertz_phone: "Invalid phone",
}

HEADERS_JSON = '{"Date":"Mon, 19 Aug 2019 10:16:21 UTC","X-Status":200}'
HASH = "zc6kj0xrb27rs0mthfn9j4m8m8pchy0q8sewh7x0c9o9g"
TOKEN = "a1" * 64


class Colour(enum.IntEnum):
    RED = 1


class ExplodingList(list[Any]):
    """A non-empty list whose truth and length raise."""

    def __bool__(self) -> bool:
        raise RuntimeError("no truth")

    def __len__(self) -> int:
        raise RuntimeError("no len")


PASSING: list[tuple[Validator, Any]] = [
    # scalars
    (assertz_string, "random unicode string ✓"),
    (assertz_string, ""),
    (assertz_boolean, True),
    (assertz_boolean, False),
    (assertz_integer, 40),
    (assertz_integer, 0),
    (assertz_integer, -40000),
    (assertz_integer, 10**30),
    (assertz_integer, Colour.RED),
    (assertz_float, 3.14159265359),
    (assertz_float, 0.0),
    (assertz_float, 0),
    (assertz_float, -7),
    (assertz_timestamp, "2018-01-18T16:07:01.970+0000"),
    (assertz_timestamp, "2018-01-18T16:07:01.9+0000"),
    (assertz_timestamp, "2018-01-18T16:07:01.123456+0000"),
    (assertz_timestamp, "2018-1-8T1:2:3.5+0000"),  # strptime's lenient fields, as before
    (assertz_timestamp, datetime.datetime(2020, 1, 1, 12, 0)),
    (assertz_timestamp, datetime.date(2020, 1, 1)),
    (assertz_uuid, "6912574d-988a-4b34-98c4-424c61d37fef"),
    (assertz_uuid, "6912574D-988A-4B34-98C4-424C61D37FEF"),
    (assertz_uuid, "6912574d988a4b3498c4424c61d37fef"),
    (assertz_uuid, "{6912574d-988a-4b34-98c4-424c61d37fef}"),
    (assertz_uuid, "urn:uuid:6912574d-988a-4b34-98c4-424c61d37fef"),
    (assertz_uuid, uuid.UUID("6912574d-988a-4b34-98c4-424c61d37fef")),
    # structures
    (assertz_array, ["a", "b", "c"]),
    (assertz_array, [None]),
    (assertz_array_even_empty, ["a"]),
    (assertz_array_even_empty, []),
    (assertz_dict, {"key": "value", "key1": {"key2": "value"}}),
    (assertz_json, HEADERS_JSON),
    (assertz_json, '{"key": "value"}'),
    (assertz_json, b'{"key": "value"}'),
    (assertz_json, bytearray(b"[1]")),
    (assertz_json, "1"),
    (assertz_json, '"text"'),
    (assertz_complex, '{"key": "value", "key1": {"key2": "value"}}'),
    (assertz_complex, [1, 2, 3]),
    (assertz_complex, {"name": "John Doe"}),
    (assertz_complex, b"[1]"),
    (assertz_location, {"latitude": 38.7223, "longitude": -9.1393}),
    (assertz_location, {"latitude": 0, "longitude": 0, "altitude": 12}),
    (assertz_location, [38.7223, -9.1393]),
    (assertz_location, [0, 1]),
    # formats
    (assertz_utf8, "Jöhn Døe ✓"),
    (assertz_utf8, ""),
    (assertz_utf8, "plain"),
    (assertz_ascii, "John Doe"),
    (assertz_ascii, ""),
    (assertz_ascii, "^[a-z]+$"),
    (assertz_hash, HASH),
    (assertz_hash, "A" * 45),
    (assertz_token, TOKEN),
    (assertz_uri, "/"),
    (assertz_uri, "/v3/users/me"),
    (assertz_uri, "users?id=1&x=y"),
    (assertz_uri, "/a/b?x=1#top"),
    (assertz_uri, "/a#frag"),
    (assertz_url, "https://example.com"),
    (assertz_url, "http://example.com/a/b?x=1#top"),
    (assertz_url, "mailto:someone@example.com"),
    (assertz_url, "@mqtt:topic/a"),
    (assertz_url, ">ws://host:80"),
    (assertz_email, "john.doe@example.com"),
    (assertz_email, "a+tag@mail.example.co.uk"),
    (assertz_phone, "912345678"),
    (assertz_phone, "123"),
    (assertz_phone, "123456789012"),
    (assertz_phone, "(351) 912345678"),
    (assertz_phone, "(1)912345678"),
    (assertz_phone, "(351)   912345678"),
]

# A None value fails under a key (a bare None element passes).
FAILING: list[tuple[Validator, Any]] = [
    # scalars
    (assertz_string, 40),
    (assertz_string, [1, 2, 3]),
    (assertz_string, b"bytes"),
    (assertz_string, None),
    (assertz_boolean, 1),
    (assertz_boolean, "true"),
    (assertz_boolean, None),
    (assertz_integer, True),
    (assertz_integer, False),
    (assertz_integer, 1.0),
    (assertz_integer, "1"),
    (assertz_integer, {"name": "John Doe"}),
    (assertz_integer, None),
    (assertz_float, True),
    (assertz_float, "1.5"),
    (assertz_float, {"name": "John Doe"}),
    (assertz_float, None),
    (assertz_timestamp, "John Doe"),
    (assertz_timestamp, "2018-01-18T16:07:01+0000"),  # no fraction
    (assertz_timestamp, "2018-01-18T16:07:01.970Z"),
    (assertz_timestamp, "2018-01-18T16:07:01.970+0100"),
    (assertz_timestamp, "2018-01-18 16:07:01.970+0000"),
    (assertz_timestamp, "2018-02-30T16:07:01.970+0000"),  # no such day
    (assertz_timestamp, "2018-01-18T24:07:01.970+0000"),
    (assertz_timestamp, 1516291621),
    (assertz_timestamp, {"name": "John Doe"}),
    (assertz_uuid, "6912574d-988a-4b34-98c4-424c61d37fe"),
    (assertz_uuid, "not a uuid"),
    (assertz_uuid, 40),
    (assertz_uuid, []),
    (assertz_uuid, b"6912574d-988a-4b34-98c4-424c61d37fef"),
    (assertz_uuid, None),
    # structures
    (assertz_array, []),
    (assertz_array, "John Doe"),
    (assertz_array, {"name": "John Doe"}),
    (assertz_array, (1, 2)),
    (assertz_array, ExplodingList([1])),  # its error does not escape
    (assertz_array_even_empty, "John Doe"),
    (assertz_array_even_empty, {"name": "John Doe"}),
    (assertz_dict, {}),
    (assertz_dict, "mysecretpassword"),
    (assertz_dict, [1]),
    (assertz_json, "{}"),
    (assertz_json, "[]"),
    (assertz_json, "0"),
    (assertz_json, "false"),
    (assertz_json, "null"),
    (assertz_json, "John Doe"),
    (assertz_json, b"\xff\xfe"),
    (assertz_json, {"key": "value"}),
    (assertz_json, 1),
    (assertz_complex, "[]"),
    (assertz_complex, []),
    (assertz_complex, {}),
    (assertz_complex, "John Doe"),
    (assertz_complex, "2018-01-18T16:07:01.970+0000"),
    (assertz_complex, 40),
    (assertz_complex, ExplodingList([1])),
    (assertz_location, {"latitude": 38.7}),
    (assertz_location, {"latitude": "38.7", "longitude": -9.1}),
    (assertz_location, {"latitude": True, "longitude": 1.0}),
    (assertz_location, {}),
    (assertz_location, [38.7]),
    (assertz_location, [38.7, -9.1, 3.0]),
    (assertz_location, [True, False]),
    (assertz_location, ["38.7", "-9.1"]),
    (assertz_location, (38.7, -9.1)),
    (assertz_location, "38.7,-9.1"),
    (assertz_location, 12),
    (assertz_location, ExplodingList([1, 2])),
    # formats
    (assertz_utf8, "\ud800"),  # a lone surrogate cannot be encoded
    (assertz_utf8, b"bytes"),
    (assertz_utf8, 40),
    (assertz_utf8, None),
    (assertz_ascii, "Jöhn"),
    (assertz_ascii, b"abc"),
    (assertz_ascii, 40),
    (assertz_hash, "b66hx5xqs6siakp6ne4dj6w9dms7ydgmoxdmgjy33x6wt0iz1efmuxxnfwx7tjsr"),
    (assertz_hash, "A" * 44),
    (assertz_hash, "A" * 44 + "_"),
    (assertz_hash, HASH + "\n"),
    (assertz_token, TOKEN.upper()),
    (assertz_token, TOKEN[:-1]),
    (assertz_uri, ""),
    (assertz_uri, "a b"),
    (assertz_uri, "?only=query"),
    (assertz_uri, "/path\n"),
    (assertz_uri, 40),
    (assertz_url, "example.com"),
    (assertz_url, "h:rest"),  # scheme of one character
    (assertz_url, "https:"),
    (assertz_url, "https://exa mple.com"),
    (assertz_url, "1http://example.com"),
    (assertz_url, [1, 2, 3]),
    (assertz_email, "john@doe"),
    (assertz_email, "a@b"),
    (assertz_email, "john doe@example.com"),
    (assertz_email, "@example.com"),
    (assertz_email, "john.doe@example.com\n"),
    (assertz_phone, "12"),
    (assertz_phone, "1234567890123"),
    (assertz_phone, "(1234) 912345678"),
    (assertz_phone, "(351)"),
    (assertz_phone, "+351912345678"),
    (assertz_phone, "John Doe"),
    (assertz_phone, 912345678),
]

VALIDATORS = list(dict.fromkeys(validator for validator, _ in PASSING + FAILING))


def message(validator: Validator, culprit: Any) -> str:
    """The failure text of ``validator`` for the value (or key) ``culprit``."""
    return FIXED_MESSAGES.get(validator, f"Invalid value type: {culprit}")


def _id(case: tuple[Validator, Any]) -> str:
    return f"{case[0].__name__}-{case[1]!r}"


@pytest.mark.parametrize("case", PASSING, ids=_id)
def test_passes_bare_under_key_and_under_index(case: tuple[Validator, Any]) -> None:
    validator, value = case
    assert validator(value) is None
    assert validator({"field": value}, "field") is None
    assert validator([value], 0) is None


@pytest.mark.parametrize("case", FAILING, ids=_id)
def test_fails_with_its_message_default_code_and_status(case: tuple[Validator, Any]) -> None:
    validator, value = case
    calls = [({"field": value}, "field")] + ([] if value is None else [(value,)])
    for arguments in calls:
        with pytest.raises(ValidationException) as caught:
            validator(*arguments)
        assert str(caught.value) == message(validator, value)
        assert (caught.value.code, caught.value.status) == (1202, 412)


@pytest.mark.parametrize("case", FAILING, ids=_id)
def test_failure_uses_given_code_and_status(case: tuple[Validator, Any]) -> None:
    validator, value = case
    with pytest.raises(ValidationException) as caught:
        validator({"field": value}, "field", 2000, 400)
    assert (caught.value.code, caught.value.status) == (2000, 400)


@pytest.mark.parametrize("validator", VALIDATORS, ids=lambda validator: validator.__name__)
def test_none_element_passes(validator: Validator) -> None:
    assert validator(None) is None
    assert validator(None, "any key") is None


@pytest.mark.parametrize("validator", VALIDATORS, ids=lambda validator: validator.__name__)
@pytest.mark.parametrize(
    ("element", "key"),
    [
        ({"other": 1}, "missing"),
        ([1], 5),
        ([], 0),
        (40, "field"),
        (1, 0),
        ("text", "field"),
        ({"a": 1}, [1]),  # unhashable
    ],
)
def test_missing_key_or_unindexable_element_fails_naming_the_key(
    validator: Validator, element: Any, key: Any
) -> None:
    with pytest.raises(ValidationException) as caught:
        validator(element, key)
    assert str(caught.value) == message(validator, key)
    assert (caught.value.code, caught.value.status) == (1202, 412)
    with pytest.raises(ValidationException) as caught:
        validator(element, key, 2000, 400)
    assert (caught.value.code, caught.value.status) == (2000, 400)


@pytest.mark.parametrize("validator", VALIDATORS, ids=lambda validator: validator.__name__)
def test_reply_true_returns_reply_dict_instead_of_raising(validator: Validator) -> None:
    reply = validator({"field": object()}, "missing", 5, 409, reply=True)
    assert reply is not None
    assert reply["status"] == 409
    assert reply["payload"]["code"] == 5
    assert reply["payload"]["text"] == message(validator, "missing")


def test_timestamp_passes_for_a_date_element_whatever_the_key() -> None:
    assert assertz_timestamp(datetime.date(2020, 1, 1), "ignored") is None
    assert assertz_timestamp(datetime.datetime(2020, 1, 1), ["unhashable"]) is None
