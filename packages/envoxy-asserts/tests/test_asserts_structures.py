"""assertz_array, _array_even_empty, _dict, _json, _complex and _location (SPEC §2)."""

from collections.abc import Callable
from typing import Any

import pytest

from envoxy.asserts import (
    Reply,
    assertz_array,
    assertz_array_even_empty,
    assertz_complex,
    assertz_dict,
    assertz_json,
    assertz_location,
)
from envoxy.exceptions import ValidationException

Validator = Callable[..., Reply | None]

HEADERS_JSON = '{"Date":"Mon, 19 Aug 2019 10:16:21 UTC","X-Status":200}'

PASSING: list[tuple[Validator, Any]] = [
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
]

FAILING: list[tuple[Validator, Any]] = [
    (assertz_array, []),
    (assertz_array, "John Doe"),
    (assertz_array, {"name": "John Doe"}),
    (assertz_array, (1, 2)),
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
]


def _id(case: tuple[Validator, Any]) -> str:
    return f"{case[0].__name__}-{case[1]!r}"


@pytest.mark.parametrize("case", PASSING, ids=_id)
def test_passes_bare_and_under_key(case: tuple[Validator, Any]) -> None:
    validator, value = case
    assert validator(value) is None
    assert validator({"field": value}, "field") is None


@pytest.mark.parametrize("case", FAILING, ids=_id)
def test_fails_with_value_in_message_default_code_and_status(
    case: tuple[Validator, Any],
) -> None:
    validator, value = case
    for arguments in [(value,), ({"field": value}, "field")]:
        with pytest.raises(ValidationException) as caught:
            validator(*arguments)
        assert str(caught.value) == f"Invalid value type: {value}"
        assert (caught.value.code, caught.value.status) == (1202, 412)


@pytest.mark.parametrize(
    "validator",
    [assertz_array, assertz_array_even_empty, assertz_dict, assertz_json, assertz_complex],
)
@pytest.mark.parametrize(("element", "key"), [({"a": 1}, "missing"), ([], 0), (3, "a")])
def test_missing_key_names_the_key(validator: Validator, element: Any, key: Any) -> None:
    with pytest.raises(ValidationException) as caught:
        validator(element, key, 2000, 400)
    assert str(caught.value) == f"Invalid value type: {key}"
    assert (caught.value.code, caught.value.status) == (2000, 400)


@pytest.mark.parametrize(
    "validator",
    [
        assertz_array,
        assertz_array_even_empty,
        assertz_dict,
        assertz_json,
        assertz_complex,
        assertz_location,
    ],
)
def test_none_element_passes(validator: Validator) -> None:
    assert validator(None) is None
    assert validator(None, "key") is None


@pytest.mark.parametrize(
    "location",
    [
        {"latitude": 38.7223, "longitude": -9.1393},
        {"latitude": 0, "longitude": 0, "altitude": 12},
        [38.7223, -9.1393],
        [0, 1],
    ],
)
def test_location_passes(location: Any) -> None:
    assert assertz_location(location) is None
    assert assertz_location({"home": location}, "home") is None


@pytest.mark.parametrize(
    "location",
    [
        {"latitude": 38.7},
        {"latitude": "38.7", "longitude": -9.1},
        {"latitude": True, "longitude": 1.0},
        {},
        [38.7],
        [38.7, -9.1, 3.0],
        [True, False],
        ["38.7", "-9.1"],
        (38.7, -9.1),
        "38.7,-9.1",
        12,
    ],
)
def test_location_fails_with_fixed_message(location: Any) -> None:
    for arguments in [(location,), ({"home": location}, "home")]:
        with pytest.raises(ValidationException) as caught:
            assertz_location(*arguments)
        assert str(caught.value) == "Invalid location"
        assert (caught.value.code, caught.value.status) == (1202, 412)


def test_location_missing_key_has_fixed_message_and_given_code() -> None:
    with pytest.raises(ValidationException) as caught:
        assertz_location({"user": {}}, "home", 7, 400)
    assert str(caught.value) == "Invalid location"
    assert (caught.value.code, caught.value.status) == (7, 400)


def test_location_reply_true_returns_reply_dict() -> None:
    reply = assertz_location([1], reply=True)
    assert reply is not None
    assert reply["payload"]["text"] == "Invalid location"
