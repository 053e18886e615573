"""assertz_regex and the text formats on huge inputs (SPEC §2).

The table of passing and failing values of every format is in ``test_asserts_values.py``.
"""

import re
from typing import Any

import pytest

from envoxy.asserts import (
    assertz_email,
    assertz_hash,
    assertz_phone,
    assertz_regex,
    assertz_regex_reply,
    assertz_token,
    assertz_uri,
    assertz_url,
)
from envoxy.exceptions import ValidationException


@pytest.mark.parametrize("pattern", [r"[a-z]{2}", re.compile(r"[a-z]{2}")])
def test_regex_passes_on_full_match(pattern: str | re.Pattern[str]) -> None:
    assert assertz_regex(pattern, "Invalid language", "pt") is None
    assert assertz_regex(pattern, "Invalid language", {"lang": "en"}, "lang") is None


@pytest.mark.parametrize("value", ["ptx", "p", "PT", "pt\n", 12, b"pt", ["pt"]])
def test_regex_fails_unless_whole_str_matches(value: Any) -> None:
    with pytest.raises(ValidationException) as caught:
        assertz_regex(r"[a-z]{2}", "Invalid language", {"lang": value}, "lang", 9, 422)
    assert str(caught.value) == "Invalid language"
    assert (caught.value.code, caught.value.status) == (9, 422)


def test_regex_missing_key_fails_with_given_message() -> None:
    with pytest.raises(ValidationException, match=r"^Invalid language$"):
        assertz_regex(r"[a-z]{2}", "Invalid language", {}, "lang")


def test_regex_none_element_passes() -> None:
    assert assertz_regex(r"[a-z]{2}", "Invalid language", None) is None


def test_regex_reply_variant_returns_reply() -> None:
    reply = assertz_regex_reply(r"[a-z]{2}", "Invalid language", "PT")
    assert reply is not None
    assert reply["payload"]["text"] == "Invalid language"
    assert assertz_regex_reply(r"[a-z]{2}", "Invalid language", "pt") is None


@pytest.mark.parametrize("value", ["pt", 12, {"lang": "pt"}])
def test_regex_with_invalid_pattern_is_a_programming_error(value: Any) -> None:
    with pytest.raises(re.error):
        assertz_regex(r"[a-z", "Invalid language", value)


def test_regex_holds_to_each_pattern_and_message_when_many_are_used() -> None:
    for number in range(600):  # more than the validators kept for patterns
        pattern = rf"{number}[a-z]"
        assert assertz_regex(pattern, f"Not {number}", f"{number}x") is None
        reply = assertz_regex_reply(pattern, f"Not {number}", f"{number + 1}x")
        assert reply is not None
        assert reply["payload"]["text"] == f"Not {number}"
    assert assertz_regex(re.compile(r"[a-z]+", re.IGNORECASE), "Bad", "MiXed") is None


def test_format_of_huge_string_fails_quickly() -> None:
    huge = "a" * 2_000_000
    for validator in (assertz_hash, assertz_token, assertz_url, assertz_email, assertz_phone):
        assert validator(huge, reply=True) is not None
    assert assertz_uri(huge) is None
    assert assertz_uri(huge + " ", reply=True) is not None
