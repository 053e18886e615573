"""assertz, assertz_reply, assertz_call, assertz_mandatory, assertz_intersects,
assertz_unauthorized and assertz_valid_values (SPEC §2)."""

import pickle
from typing import Any

import pytest

from envoxy.asserts import (
    assertz,
    assertz_call,
    assertz_intersects,
    assertz_mandatory,
    assertz_mandatory_reply,
    assertz_reply,
    assertz_unauthorized,
    assertz_valid_values,
)
from envoxy.exceptions import ValidationException

PAYLOAD: dict[str, Any] = {
    "username": "",
    "password": "mysecretpassword",
    "application_ids": [1, 2, 3],
    "age": 0,
    "active": False,
    "tags": [],
    "user": {"name": "John Doe"},
    "features": None,
}


# --- assertz / assertz_reply / assertz_call ------------------------------------------


@pytest.mark.parametrize("expression", [True, 1, "x", [0], {"a": 1}])
def test_assertz_passes_on_truthy_expression(expression: Any) -> None:
    assertz(expression, "Error", 0, 500)  # does not raise


@pytest.mark.parametrize("expression", [False, 0, "", [], None])
def test_assertz_raises_message_code_and_status_on_falsy_expression(expression: Any) -> None:
    with pytest.raises(ValidationException) as caught:
        assertz(expression, "Error text", 1234, 409)
    assert str(caught.value) == "Error text"
    assert caught.value.code == 1234
    assert caught.value.status == 409
    assert caught.value.kwargs == {"code": 1234, "status": 409}


def test_assertz_failure_can_be_pickled() -> None:
    with pytest.raises(ValidationException) as caught:
        assertz(False, "Error text", 1234, 409)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (str(copy), copy.code, copy.status) == ("Error text", 1234, 409)


def test_assertz_reply_returns_none_on_success() -> None:
    assert assertz_reply(True, "Error", 1, 400) is None


def test_assertz_reply_returns_reply_dict_on_failure() -> None:
    reply = assertz_reply(False, "Error text", 1234, 409)
    assert reply is not None
    assert reply["status"] == 409
    assert reply["payload"]["text"] == "Error text"
    assert reply["payload"]["code"] == 1234
    assert set(reply) == {"status", "payload"}
    assert set(reply["payload"]) == {"text", "code", "assertion_failed"}


def test_assertz_call_raises_without_reply() -> None:
    with pytest.raises(ValidationException) as caught:
        assertz_call(False, "Error", 7, 418)
    assert (caught.value.code, caught.value.status) == (7, 418)


def test_assertz_call_returns_reply_with_reply_true() -> None:
    reply = assertz_call(False, "Error", 7, 418, reply=True)
    assert reply is not None
    assert (reply["status"], reply["payload"]["code"], reply["payload"]["text"]) == (
        418,
        7,
        "Error",
    )
    assert assertz_call(True, "Error", 7, 418, reply=True) is None


def test_assertz_fails_when_truth_of_expression_raises() -> None:
    class Undecidable:
        def __bool__(self) -> bool:
            raise RuntimeError("ambiguous")

    with pytest.raises(ValidationException, match=r"^Error$"):
        assertz(Undecidable(), "Error", 0, 500)
    assert assertz_reply(Undecidable(), "Error", 0, 500) is not None


# --- assertz_mandatory --------------------------------------------------------------


@pytest.mark.parametrize("key", ["username", "age", "active", "tags", "password", "user"])
def test_mandatory_passes_for_present_values_even_falsy(key: str) -> None:
    assert assertz_mandatory(PAYLOAD, key) is None


def test_mandatory_passes_for_present_list_index() -> None:
    assert assertz_mandatory(PAYLOAD["application_ids"], 1) is None


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        (PAYLOAD, "non_existent_key"),
        (PAYLOAD, "features"),  # present but None
        (PAYLOAD["user"], "last_name"),
        ({}, "x"),
        (None, "x"),
        (5, "x"),  # not indexable
        ("text", "x"),
        ([1, 2, 3], 10),  # index out of range
        ({"a": 1}, ["unhashable"]),
    ],
)
def test_mandatory_fails_for_missing_none_or_unreadable(obj: Any, key: Any) -> None:
    with pytest.raises(ValidationException) as caught:
        assertz_mandatory(obj, key)
    assert str(caught.value) == f"Mandatory: {key}"
    assert caught.value.code == 1200
    assert caught.value.status == 412


def test_mandatory_uses_given_code_and_status() -> None:
    with pytest.raises(ValidationException) as caught:
        assertz_mandatory(PAYLOAD, "missing", 1000, 400)
    assert (caught.value.code, caught.value.status) == (1000, 400)


def test_mandatory_empty_key_fails_with_1201_even_when_present() -> None:
    with pytest.raises(ValidationException) as caught:
        assertz_mandatory({"": "value"}, "", _status_code=400)
    assert str(caught.value) == "Key must not be emtpy"
    assert caught.value.code == 1201
    assert caught.value.status == 400


@pytest.mark.parametrize("obj", [PAYLOAD, [0], "x", 1, True])
def test_mandatory_without_element_passes_for_truthy_object(obj: Any) -> None:
    assert assertz_mandatory(obj) is None


@pytest.mark.parametrize(("obj", "message"), [({}, "Mandatory: {}"), (None, "Mandatory: None")])
def test_mandatory_without_element_fails_for_falsy_object(obj: Any, message: str) -> None:
    with pytest.raises(ValidationException) as caught:
        assertz_mandatory(obj)
    assert str(caught.value) == message
    assert caught.value.code == 1200


def test_mandatory_reply_variant_from_original_suite() -> None:
    reply = assertz_mandatory_reply(PAYLOAD, "activated", 1000, 400)
    assert reply is not None
    assert reply["status"] == 400
    assert reply["payload"]["code"] == 1000
    assert reply["payload"]["text"] == "Mandatory: activated"


def test_mandatory_with_reply_true_returns_reply_for_empty_key() -> None:
    reply = assertz_mandatory(PAYLOAD, "", reply=True)
    assert reply is not None
    assert (reply["status"], reply["payload"]["code"]) == (412, 1201)


# --- assertz_intersects -------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "y"),
    [([1, 2], [2, 3]), ({"a", "b"}, ("b",)), ("abc", "cde"), ([[1], [2]], [[2]]), ([{}], [{}])],
)
def test_intersects_passes_when_an_element_is_shared(x: Any, y: Any) -> None:
    assert assertz_intersects(x, y) is None


@pytest.mark.parametrize(("x", "y"), [([1, 2], [3]), ([], [1]), (5, [5]), ([1], None)])
def test_intersects_fails_when_nothing_shared_or_not_iterable(x: Any, y: Any) -> None:
    with pytest.raises(ValidationException) as caught:
        assertz_intersects(x, y)
    assert str(caught.value) == f"No intersection between {x} and {y}"
    assert (caught.value.code, caught.value.status) == (1202, 412)


def test_intersects_uses_given_code_and_status_in_reply() -> None:
    reply = assertz_intersects([1], [2], 5, 409, reply=True)
    assert reply is not None
    assert (reply["status"], reply["payload"]["code"]) == (409, 5)
    assert reply["payload"]["text"] == "No intersection between [1] and [2]"


# --- assertz_unauthorized / assertz_valid_values ------------------------------------


def test_unauthorized_passes_on_truthy_expression() -> None:
    assert assertz_unauthorized(PAYLOAD["application_ids"], "no apps") is None


def test_unauthorized_fails_with_401_and_default_code() -> None:
    with pytest.raises(ValidationException) as caught:
        assertz_unauthorized(PAYLOAD["active"], "inactive")
    assert str(caught.value) == "inactive"
    assert (caught.value.code, caught.value.status) == (1202, 401)


def test_unauthorized_reply_has_status_401_and_given_code() -> None:
    reply = assertz_unauthorized(False, "denied", 3, reply=True)
    assert reply is not None
    assert (reply["status"], reply["payload"]["code"], reply["payload"]["text"]) == (
        401,
        3,
        "denied",
    )


def test_valid_values_passes_on_truthy_expression() -> None:
    assert assertz_valid_values("red" in {"red", "blue"}, "Invalid colour") is None


def test_valid_values_fails_with_412_and_default_code() -> None:
    with pytest.raises(ValidationException) as caught:
        assertz_valid_values("pink" in {"red", "blue"}, "Invalid colour")
    assert str(caught.value) == "Invalid colour"
    assert (caught.value.code, caught.value.status) == (1202, 412)


def test_valid_values_uses_given_code_and_status() -> None:
    with pytest.raises(ValidationException) as caught:
        assertz_valid_values(False, "Invalid colour", 42, 422)
    assert (caught.value.code, caught.value.status) == (42, 422)
