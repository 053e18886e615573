"""Reply mode: the reply dict, the caller named in it, and the *_reply variants."""

import inspect
import pathlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import pytest

import envoxy.asserts as asserts
from envoxy.asserts import (
    assertz_call,
    assertz_email_reply,
    assertz_hash,
    assertz_mandatory_reply,
    assertz_reply,
    assertz_string,
    assertz_string_reply,
    assertz_unauthorized_reply,
)
from envoxy.exceptions import ValidationException

THIS_FILE = ".".join(pathlib.Path(__file__).parts[-3:])

#: Every validator that has a reply variant, with arguments that make it fail.
FAILING_CALLS: dict[str, tuple[Any, ...]] = {
    "assertz_mandatory": ({}, "key"),
    "assertz_string": (1,),
    "assertz_integer": ("1",),
    "assertz_float": ("1",),
    "assertz_timestamp": ("yesterday",),
    "assertz_boolean": (1,),
    "assertz_array": ([],),
    "assertz_array_even_empty": ({},),
    "assertz_dict": ({},),
    "assertz_json": ("{",),
    "assertz_complex": ("{",),
    "assertz_uuid": ("x",),
    "assertz_utf8": (1,),
    "assertz_ascii": ("é",),
    "assertz_regex": ("[a-z]", "Invalid letter", "1"),
    "assertz_hash": ("x",),
    "assertz_token": ("x",),
    "assertz_uri": ("",),
    "assertz_url": ("x",),
    "assertz_email": ("x",),
    "assertz_phone": ("x",),
    "assertz_location": ([1],),
    "assertz_intersects": ([1], [2]),
    "assertz_unauthorized": (False, "Denied"),
    "assertz_valid_values": (False, "Invalid value"),
}

#: Arguments that make each validator pass.
PASSING_CALLS: dict[str, tuple[Any, ...]] = {
    "assertz_mandatory": ({"key": ""}, "key"),
    "assertz_string": ("",),
    "assertz_integer": (0,),
    "assertz_float": (0.5,),
    "assertz_timestamp": ("2018-01-18T16:07:01.970+0000",),
    "assertz_boolean": (False,),
    "assertz_array": ([1],),
    "assertz_array_even_empty": ([],),
    "assertz_dict": ({"a": 1},),
    "assertz_json": ('{"a": 1}',),
    "assertz_complex": ([1],),
    "assertz_uuid": ("6912574d-988a-4b34-98c4-424c61d37fef",),
    "assertz_utf8": ("é",),
    "assertz_ascii": ("e",),
    "assertz_regex": ("[a-z]", "Invalid letter", "a"),
    "assertz_hash": ("a" * 45,),
    "assertz_token": ("a" * 128,),
    "assertz_uri": ("/a",),
    "assertz_url": ("https://a.b",),
    "assertz_email": ("a@b.co",),
    "assertz_phone": ("123",),
    "assertz_location": ([1, 2],),
    "assertz_intersects": ([1], [1]),
    "assertz_unauthorized": (True, "Denied"),
    "assertz_valid_values": (True, "Invalid value"),
}


def _validator(name: str) -> Callable[..., Any]:
    validator: Callable[..., Any] = getattr(asserts, name)
    return validator


def _line_of(frame: FrameType | None) -> int:
    assert frame is not None
    return frame.f_lineno


def test_every_validator_with_reply_parameter_has_a_reply_variant() -> None:
    with_reply = {
        name
        for name in asserts.__all__
        if name.startswith("assertz")
        and not name.endswith("_reply")
        and "reply" in inspect.signature(_validator(name)).parameters
    }
    assert with_reply - {"assertz_call"} == set(FAILING_CALLS)
    for name in FAILING_CALLS:
        assert f"{name}_reply" in asserts.__all__


@pytest.mark.parametrize("name", sorted(FAILING_CALLS))
def test_reply_variant_has_base_parameters_and_defaults_without_reply(name: str) -> None:
    base = inspect.signature(_validator(name))
    variant = _validator(f"{name}_reply")
    expected = [parameter for key, parameter in base.parameters.items() if key != "reply"]
    assert list(inspect.signature(variant).parameters.values()) == expected
    assert variant.__name__ == f"{name}_reply"
    assert variant.__doc__
    assert name in variant.__doc__


@pytest.mark.parametrize("name", sorted(FAILING_CALLS))
def test_reply_variant_returns_the_reply_dict_of_a_failure(name: str) -> None:
    arguments = FAILING_CALLS[name]
    reply = _validator(f"{name}_reply")(*arguments)
    with pytest.raises(ValidationException) as caught:
        _validator(name)(*arguments)
    assert reply is not None
    assert reply == {
        "status": caught.value.status,
        "payload": {
            "text": str(caught.value),
            "code": caught.value.code,
            "assertion_failed": reply["payload"]["assertion_failed"],
        },
    }
    assert f"failed on file {THIS_FILE}, line " in reply["payload"]["assertion_failed"]


@pytest.mark.parametrize("name", sorted(PASSING_CALLS))
def test_reply_variant_returns_none_on_success(name: str) -> None:
    assert _validator(f"{name}_reply")(*PASSING_CALLS[name]) is None
    assert _validator(name)(*PASSING_CALLS[name]) is None


def test_reply_dict_names_the_calling_source_line_file_and_line() -> None:
    reply = assertz_string_reply({"age": 40}, "age")
    line = _line_of(inspect.currentframe()) - 1
    assert reply == {
        "status": 412,
        "payload": {
            "text": "Invalid value type: 40",
            "code": 1202,
            "assertion_failed": (
                'reply = assertz_string_reply({"age": 40}, "age") '
                f"failed on file {THIS_FILE}, line {line}"
            ),
        },
    }


def test_reply_true_on_a_delegating_validator_names_the_caller() -> None:
    reply = assertz_hash("short", reply=True)
    line = _line_of(inspect.currentframe()) - 1
    assert reply is not None
    assert reply["payload"]["assertion_failed"] == (
        f'reply = assertz_hash("short", reply=True) failed on file {THIS_FILE}, line {line}'
    )


def test_assertz_reply_and_assertz_call_name_the_caller() -> None:
    first = assertz_reply(1 > 2, "Impossible", 1, 400)
    first_line = _line_of(inspect.currentframe()) - 1
    second = assertz_call([], "Empty", 2, 400, reply=True)
    second_line = _line_of(inspect.currentframe()) - 1
    assert first is not None
    assert second is not None
    assert first["payload"]["assertion_failed"] == (
        f'first = assertz_reply(1 > 2, "Impossible", 1, 400) '
        f"failed on file {THIS_FILE}, line {first_line}"
    )
    assert second["payload"]["assertion_failed"].endswith(f"line {second_line}")


def _validate_signup(body: dict[str, Any]) -> Any:
    return assertz_email_reply(body, "email")


def test_reply_names_the_function_that_called_the_validator() -> None:
    reply = _validate_signup({"email": "nope"})
    assert reply is not None
    expected_line = inspect.getsourcelines(_validate_signup)[1] + 1
    assert reply["payload"]["assertion_failed"] == (
        f'return assertz_email_reply(body, "email") '
        f"failed on file {THIS_FILE}, line {expected_line}"
    )


def test_reply_for_code_without_source_says_so() -> None:
    namespace: dict[str, Any] = {"check": assertz_unauthorized_reply}
    exec(compile("result = check(False, 'Denied')", "/srv/app/views/x.py", "exec"), namespace)
    assert namespace["result"]["status"] == 401
    assert namespace["result"]["payload"]["assertion_failed"] == (
        "<source unavailable> failed on file app.views.x.py, line 1"
    )


@contextmanager
def _frame_inspections() -> Iterator[list[str]]:
    """Record every call to sys._getframe (or inspect's stack helpers) while active."""
    seen: list[str] = []
    watched = {sys._getframe, inspect.stack, inspect.currentframe}

    def profile(frame: FrameType, event: str, argument: Any) -> None:
        if event == "c_call" and argument in watched:
            seen.append(getattr(argument, "__name__", repr(argument)))
        elif event == "call" and frame.f_code.co_name in {"stack", "getframeinfo"}:
            seen.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(None)


def test_profiler_probe_sees_a_stack_inspection() -> None:
    with _frame_inspections() as seen:
        assertz_mandatory_reply({}, "missing")
    assert seen == ["_getframe"]


def test_success_never_inspects_the_stack() -> None:
    with _frame_inspections() as seen:
        for name, arguments in PASSING_CALLS.items():
            _validator(name)(*arguments)
            _validator(name)(*arguments, reply=True)
            _validator(f"{name}_reply")(*arguments)
        assertz_reply(True, "ok", 1, 400)
        assertz_call(True, "ok", 1, 400, reply=True)
    assert seen == []


def test_raising_failure_never_inspects_the_stack() -> None:
    with _frame_inspections() as seen:
        for name, arguments in FAILING_CALLS.items():
            with pytest.raises(ValidationException):
                _validator(name)(*arguments)
    assert seen == []


def test_string_reply_with_custom_code_and_status() -> None:
    reply = assertz_string_reply([], 0, 2000, 400)
    assert reply is not None
    assert (reply["status"], reply["payload"]["code"], reply["payload"]["text"]) == (
        400,
        2000,
        "Invalid value type: 0",
    )
    assert assertz_string(None, reply=True) is None
