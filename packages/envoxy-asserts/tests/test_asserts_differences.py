"""SPEC §2 "Differences from the original envoxy (asserts)", one test per item."""

import inspect
import pathlib
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from envoxy import constants
from envoxy.asserts import (
    assertz_array,
    assertz_ascii,
    assertz_boolean,
    assertz_float,
    assertz_integer,
    assertz_mandatory,
    assertz_phone,
    assertz_string,
    assertz_timestamp,
    assertz_uri,
    assertz_utf8,
    assertz_uuid,
    assertz_valid_values,
)
from envoxy.exceptions import ValidationException


@pytest.mark.parametrize(
    ("validator", "arguments"),
    [
        (assertz_integer, ({}, "age")),  # KeyError in 0.7
        (assertz_integer, ("abc",)),  # TypeError in 0.7
        (assertz_float, ({"a": 1}, "b")),
        (assertz_float, (object(),)),
        (assertz_boolean, ({}, "active")),
        (assertz_boolean, (3,)),
        (assertz_timestamp, ({}, "created")),
        (assertz_array, (5, "ids")),
        (assertz_string, ([1], 3)),
        (assertz_mandatory, ([1, None], 7)),
    ],
)
def test_missing_key_or_bare_wrong_type_raises_validation_exception(
    validator: Callable[..., Any], arguments: tuple[Any, ...]
) -> None:
    with pytest.raises(ValidationException):
        validator(*arguments)


def test_integer_accepts_zero_and_rejects_booleans() -> None:
    assert assertz_integer(0) is None
    assert assertz_integer({"n": 0}, "n") is None
    for flag in (True, False):
        with pytest.raises(ValidationException):
            assertz_integer(flag)


def test_float_accepts_integers() -> None:
    assert assertz_float(1) is None
    assert assertz_float({"n": -3}, "n") is None


def test_utf8_and_ascii_accept_the_empty_string() -> None:
    assert assertz_utf8("") is None
    assert assertz_ascii("") is None


def test_uuid_accepts_uuid_objects() -> None:
    assert assertz_uuid(uuid.uuid4()) is None
    assert assertz_uuid({"id": uuid.uuid4()}, "id") is None


@pytest.mark.parametrize("text", ["", " ", "a b", "#only-fragment", "/path\t"])
def test_uri_regex_no_longer_matches_anything(text: str) -> None:
    assert re.fullmatch(constants.URI_REGEX, text) is None
    with pytest.raises(ValidationException, match=r"^Invalid uri$"):
        assertz_uri(text)


@pytest.mark.parametrize("phone", ["(351) 912345678", "(1)123", "(44)  2071234567"])
def test_phone_regex_accepts_a_country_code(phone: str) -> None:
    assert re.fullmatch(constants.PHONE_REGEX, phone) is not None
    assert assertz_phone(phone) is None


def test_assertion_failed_names_the_caller_not_the_library() -> None:
    reply = assertz_valid_values(False, "Invalid", reply=True)
    line = inspect.currentframe().f_lineno - 1  # type: ignore[union-attr]
    assert reply is not None
    text = reply["payload"]["assertion_failed"]
    assert "asserts.py" not in text
    assert "envoxy.asserts._" not in text
    assert text.endswith(
        f"failed on file {'.'.join(pathlib.Path(__file__).parts[-3:])}, line {line}"
    )
