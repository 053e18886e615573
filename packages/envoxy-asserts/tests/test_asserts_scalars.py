"""assertz_string, _boolean, _integer, _float, _timestamp and _uuid (SPEC §2)."""

import datetime
import enum
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from envoxy.asserts import (
    Reply,
    assertz_boolean,
    assertz_float,
    assertz_integer,
    assertz_string,
    assertz_timestamp,
    assertz_uuid,
)
from envoxy.exceptions import ValidationException

Validator = Callable[..., Reply | None]

TYPED_VALIDATORS = [
    assertz_string,
    assertz_boolean,
    assertz_integer,
    assertz_float,
    assertz_timestamp,
    assertz_uuid,
]


class Colour(enum.IntEnum):
    RED = 1


PASSING: list[tuple[Validator, Any]] = [
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
]

FAILING: list[tuple[Validator, Any]] = [
    (assertz_string, 40),
    (assertz_string, [1, 2, 3]),
    (assertz_string, b"bytes"),
    (assertz_boolean, 1),
    (assertz_boolean, "true"),
    (assertz_integer, True),
    (assertz_integer, False),
    (assertz_integer, 1.0),
    (assertz_integer, "1"),
    (assertz_integer, {"name": "John Doe"}),
    (assertz_float, True),
    (assertz_float, "1.5"),
    (assertz_float, {"name": "John Doe"}),
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
]


def _id(case: tuple[Validator, Any]) -> str:
    return f"{case[0].__name__}-{case[1]!r}"


@pytest.mark.parametrize("case", PASSING, ids=_id)
def test_passes_bare_and_under_key(case: tuple[Validator, Any]) -> None:
    validator, value = case
    assert validator(value) is None
    assert validator({"field": value}, "field") is None
    assert validator([value], 0) is None


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


@pytest.mark.parametrize("case", FAILING, ids=_id)
def test_failure_uses_given_code_and_status(case: tuple[Validator, Any]) -> None:
    validator, value = case
    with pytest.raises(ValidationException) as caught:
        validator({"field": value}, "field", 2000, 400)
    assert (caught.value.code, caught.value.status) == (2000, 400)


@pytest.mark.parametrize("validator", TYPED_VALIDATORS)
def test_none_element_passes(validator: Validator) -> None:
    assert validator(None) is None
    assert validator(None, "any key") is None


@pytest.mark.parametrize("validator", TYPED_VALIDATORS)
@pytest.mark.parametrize(
    ("element", "key"),
    [({"other": 1}, "missing"), ([1], 5), (40, "field"), ("text", "field"), ({"a": 1}, [1])],
)
def test_missing_key_or_unindexable_element_names_the_key(
    validator: Validator, element: Any, key: Any
) -> None:
    with pytest.raises(ValidationException) as caught:
        validator(element, key)
    assert str(caught.value) == f"Invalid value type: {key}"
    assert (caught.value.code, caught.value.status) == (1202, 412)


@pytest.mark.parametrize(
    "validator", [assertz_string, assertz_boolean, assertz_integer, assertz_float, assertz_uuid]
)
def test_none_value_under_key_is_a_wrong_type(validator: Validator) -> None:
    with pytest.raises(ValidationException, match=r"^Invalid value type: None$"):
        validator({"features": None}, "features")


def test_timestamp_passes_for_a_date_element_whatever_the_key() -> None:
    assert assertz_timestamp(datetime.date(2020, 1, 1), "ignored") is None


@pytest.mark.parametrize("validator", TYPED_VALIDATORS)
def test_reply_true_returns_reply_dict_instead_of_raising(validator: Validator) -> None:
    reply = validator({"field": object()}, "missing", 5, 409, reply=True)
    assert reply is not None
    assert reply["status"] == 409
    assert reply["payload"]["code"] == 5
    assert reply["payload"]["text"] == "Invalid value type: missing"
