"""Property tests: over arbitrary values, a validator returns None, returns a reply
dict, or raises ValidationException, and nothing else; ``reply=True`` never raises."""

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import envoxy.asserts as asserts
from envoxy.exceptions import ValidationException


class Hostile:
    """An object that raises from every container method and from str()."""

    def __getitem__(self, key: Any) -> Any:
        raise RuntimeError("no indexing")

    def __iter__(self) -> Any:
        raise RuntimeError("no iteration")

    def __len__(self) -> int:
        raise RuntimeError("no len")

    def __contains__(self, item: Any) -> bool:
        raise RuntimeError("no membership")

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class HostileDict(dict[Any, Any]):
    """A dict whose item access raises."""

    def __getitem__(self, key: Any) -> Any:
        raise LookupError("nope")


class ExplodingList(list[Any]):
    """A list whose truth and length raise."""

    def __bool__(self) -> bool:
        raise RuntimeError("no truth")

    def __len__(self) -> int:
        raise RuntimeError("no len")


def _huge_string() -> str:
    return "x" * 1_000_000


def _huge_int() -> int:
    return 10**5000  # str() refuses more than 4300 digits


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
ODD_VALUES = (
    st.binary()
    | st.sampled_from([b"\xff\xfe\xfd", b'{"a": 1}', b"[]", bytearray(b"\x80")])
    | st.text(alphabet=st.characters(categories=["Cs"]), min_size=1)  # lone surrogates
    | st.builds(_huge_string)
    | st.builds(_huge_int)
    | st.builds(Hostile)
    | st.builds(ExplodingList, st.lists(st.integers(), min_size=1, max_size=2))
    | st.builds(HostileDict, st.dictionaries(st.text(), st.integers(), max_size=2))
    | st.sampled_from(
        [
            "2018-01-18T16:07:01.970+0000",
            "6912574d-988a-4b34-98c4-424c61d37fef",
            "john@example.com",
            "(351) 912345678",
            "https://example.com",
            '{"a": [1, 2]}',
        ]
    )
)
VALUES = st.recursive(
    JSON_SCALARS | ODD_VALUES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
KEYS = (
    st.none()
    | st.text(max_size=8)
    | st.integers(-3, 3)
    | st.just([1])  # unhashable
    | st.builds(Hostile)
    | st.sampled_from(["latitude", "a", ""])
)

#: Every validator of one value: its first parameter is ``_element``.
ELEMENT_VALIDATORS = [
    name
    for name in asserts.__all__
    if name.startswith("assertz_")
    and not name.endswith("_reply")
    and next(iter(inspect.signature(getattr(asserts, name)).parameters)) == "_element"
]

PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _validator(name: str) -> Callable[..., Any]:
    validator: Callable[..., Any] = getattr(asserts, name)
    return validator


def _check_outcome(call: Callable[[], Any], *, may_raise: bool) -> None:
    failure: ValidationException | None = None
    result: Any = None
    try:
        result = call()
    except ValidationException as exc:
        failure = exc
    if failure is not None:
        assert may_raise, f"reply mode raised {failure!r}"
        assert isinstance(str(failure), str)
        assert isinstance(failure.status, int)
        return
    if result is None:
        return
    assert isinstance(result, dict)
    assert set(result) == {"status", "payload"}
    assert set(result["payload"]) == {"text", "code", "assertion_failed"}
    assert isinstance(result["payload"]["text"], str)
    assert " failed on file " in result["payload"]["assertion_failed"]


@pytest.mark.parametrize("name", ELEMENT_VALIDATORS)
@PROPERTY_SETTINGS
@given(element=VALUES, key=KEYS)
def test_element_validator_outcome_is_none_reply_or_validation_error(
    name: str, element: Any, key: Any
) -> None:
    validator = _validator(name)
    _check_outcome(lambda: validator(element, key), may_raise=True)
    _check_outcome(lambda: validator(element), may_raise=True)
    _check_outcome(lambda: validator(element, key, reply=True), may_raise=False)
    _check_outcome(lambda: _validator(f"{name}_reply")(element, key), may_raise=False)


@PROPERTY_SETTINGS
@given(obj=VALUES, element=KEYS)
def test_mandatory_outcome_is_none_reply_or_validation_error(obj: Any, element: Any) -> None:
    _check_outcome(lambda: asserts.assertz_mandatory(obj, element), may_raise=True)
    _check_outcome(lambda: asserts.assertz_mandatory(obj), may_raise=True)
    _check_outcome(lambda: asserts.assertz_mandatory(obj, element, reply=True), may_raise=False)
    _check_outcome(lambda: asserts.assertz_mandatory_reply(obj, element), may_raise=False)


@PROPERTY_SETTINGS
@given(x=VALUES, y=VALUES)
def test_intersects_outcome_is_none_reply_or_validation_error(x: Any, y: Any) -> None:
    _check_outcome(lambda: asserts.assertz_intersects(x, y), may_raise=True)
    _check_outcome(lambda: asserts.assertz_intersects_reply(x, y), may_raise=False)


@PROPERTY_SETTINGS
@given(element=VALUES, key=KEYS, pattern=st.sampled_from([r"[a-z]+", re.compile(r"\d{2,}")]))
def test_regex_outcome_is_none_reply_or_validation_error(
    element: Any, key: Any, pattern: str | re.Pattern[str]
) -> None:
    _check_outcome(lambda: asserts.assertz_regex(pattern, "Bad", element, key), may_raise=True)
    _check_outcome(
        lambda: asserts.assertz_regex_reply(pattern, "Bad", element, key), may_raise=False
    )


@PROPERTY_SETTINGS
@given(expression=VALUES)
def test_expression_assertions_outcome_is_none_reply_or_validation_error(
    expression: Any,
) -> None:
    _check_outcome(lambda: asserts.assertz(expression, "Bad", 1, 400), may_raise=True)
    _check_outcome(lambda: asserts.assertz_call(expression, "Bad", 1, 400), may_raise=True)
    _check_outcome(lambda: asserts.assertz_reply(expression, "Bad", 1, 400), may_raise=False)
    _check_outcome(lambda: asserts.assertz_unauthorized(expression, "Bad"), may_raise=True)
    _check_outcome(lambda: asserts.assertz_valid_values(expression, "Bad"), may_raise=True)
    _check_outcome(lambda: asserts.assertz_unauthorized_reply(expression, "Bad"), may_raise=False)
    _check_outcome(lambda: asserts.assertz_valid_values_reply(expression, "Bad"), may_raise=False)


@PROPERTY_SETTINGS
@given(value=JSON_SCALARS | ODD_VALUES)
def test_validators_agree_on_pass_and_fail_between_raise_and_reply(value: Any) -> None:
    for name in ELEMENT_VALIDATORS:
        validator = _validator(name)
        try:
            validator({"field": value}, "field")
            raised = False
        except ValidationException:
            raised = True
        assert (validator({"field": value}, "field", reply=True) is not None) is raised
