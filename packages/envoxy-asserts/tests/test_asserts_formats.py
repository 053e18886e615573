"""assertz_utf8, _ascii, _regex, _hash, _token, _uri, _url, _email and _phone (SPEC §2)."""

import re
from collections.abc import Callable
from typing import Any

import pytest

from envoxy.asserts import (
    Reply,
    assertz_ascii,
    assertz_email,
    assertz_hash,
    assertz_phone,
    assertz_regex,
    assertz_regex_reply,
    assertz_token,
    assertz_uri,
    assertz_url,
    assertz_utf8,
)
from envoxy.exceptions import ValidationException

Validator = Callable[..., Reply | None]

HASH = "zc6kj0xrb27rs0mthfn9j4m8m8pchy0q8sewh7x0c9o9g"
TOKEN = "a1" * 64

MESSAGES: dict[Validator, str] = {
    assertz_utf8: "Invalid utf-8 encoding",
    assertz_ascii: "Invalid ascii encoding",
    assertz_hash: "Invalid hash",
    assertz_token: "Invalid token",
    assertz_uri: "Invalid uri",
    assertz_url: "Invalid url",
    assertz_email: "Invalid email",
    assertz_phone: "Invalid phone",
}

PASSING: list[tuple[Validator, Any]] = [
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

FAILING: list[tuple[Validator, Any]] = [
    (assertz_utf8, "\ud800"),  # a lone surrogate cannot be encoded
    (assertz_utf8, b"bytes"),
    (assertz_utf8, 40),
    (assertz_utf8, None),  # under a key; bare None passes
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


def _id(case: tuple[Validator, Any]) -> str:
    return f"{case[0].__name__}-{case[1]!r}"


@pytest.mark.parametrize("case", PASSING, ids=_id)
def test_passes_bare_and_under_key(case: tuple[Validator, Any]) -> None:
    validator, value = case
    assert validator(value) is None
    assert validator({"field": value}, "field") is None


@pytest.mark.parametrize("case", FAILING, ids=_id)
def test_fails_with_fixed_message_default_code_and_status(case: tuple[Validator, Any]) -> None:
    validator, value = case
    calls = [({"field": value}, "field")] + ([] if value is None else [(value,)])
    for arguments in calls:
        with pytest.raises(ValidationException) as caught:
            validator(*arguments)
        assert str(caught.value) == MESSAGES[validator]
        assert (caught.value.code, caught.value.status) == (1202, 412)


@pytest.mark.parametrize("validator", list(MESSAGES))
def test_none_element_passes(validator: Validator) -> None:
    assert validator(None) is None


@pytest.mark.parametrize("validator", list(MESSAGES))
@pytest.mark.parametrize(("element", "key"), [({"a": "x"}, "missing"), ("text", "a"), (1, 0)])
def test_missing_key_fails_with_fixed_message_and_given_code(
    validator: Validator, element: Any, key: Any
) -> None:
    with pytest.raises(ValidationException) as caught:
        validator(element, key, 2000, 400)
    assert str(caught.value) == MESSAGES[validator]
    assert (caught.value.code, caught.value.status) == (2000, 400)


@pytest.mark.parametrize("validator", list(MESSAGES))
def test_reply_true_returns_reply_dict(validator: Validator) -> None:
    reply = validator({"a": 1}, "a", reply=True)
    assert reply is not None
    assert reply["payload"]["text"] == MESSAGES[validator]


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


def test_regex_with_invalid_pattern_is_a_programming_error() -> None:
    with pytest.raises(re.error):
        assertz_regex(r"[a-z", "Invalid language", "pt")


def test_format_of_huge_string_fails_quickly() -> None:
    huge = "a" * 2_000_000
    for validator in MESSAGES:
        if validator not in (assertz_utf8, assertz_ascii, assertz_uri):
            assert validator(huge, reply=True) is not None
    assert assertz_uri(huge) is None
    assert assertz_uri(huge + " ", reply=True) is not None
