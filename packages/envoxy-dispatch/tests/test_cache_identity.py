"""envoxy.cache.identity: the caller digest shared by @cache and zmqc's reply cache."""

import datetime
import uuid

import pytest

from envoxy.cache.identity import (
    DEFAULT_VARY_HEADERS,
    caller_digest,
    canonical_json,
    credential_headers,
    vary_headers,
)
from envoxy.exceptions import ConfigError


def test_default_vary_headers_cover_the_usual_credentials() -> None:
    assert set(DEFAULT_VARY_HEADERS) == {
        "authorization",
        "cookie",
        "proxy-authorization",
        "x-api-key",
        "x-auth-token",
    }
    assert vary_headers(None) == vary_headers({}) == DEFAULT_VARY_HEADERS


def test_configured_vary_headers_add_to_the_defaults() -> None:
    names = vary_headers({"vary_headers": ["X-Session-Id", "authorization", " X-Tenant "]})
    assert names[: len(DEFAULT_VARY_HEADERS)] == DEFAULT_VARY_HEADERS
    assert names[len(DEFAULT_VARY_HEADERS) :] == ("x-session-id", "x-tenant")
    assert vary_headers({"vary_headers": "X-One"})[-1] == "x-one"


@pytest.mark.parametrize("value", [42, {"a": 1}, [1], [""], ["X-Bad: header"]])
def test_malformed_vary_headers_are_a_config_error(value: object) -> None:
    with pytest.raises(ConfigError, match=r"cache\.vary_headers"):
        vary_headers({"vary_headers": value})


def test_credential_headers_are_matched_in_any_case_and_all_kept() -> None:
    pairs = [
        ("AUTHORIZATION", "Bearer a"),
        ("authorization", "Bearer b"),
        ("Accept", "json"),
        ("X-Api-Key", 7),
        ("Cookie", None),
    ]
    assert credential_headers(pairs) == [
        ("authorization", "Bearer a"),
        ("authorization", "Bearer b"),
        ("x-api-key", "7"),
    ]


def test_equal_callers_share_a_digest_and_others_never_do() -> None:
    alice = {"user": "alice", "roles": ["a"], "since": datetime.date(2024, 1, 2)}
    reordered = {"since": datetime.date(2024, 1, 2), "roles": ["a"], "user": "alice"}
    assert caller_digest(alice, []) == caller_digest(reordered, [])
    digests = {
        caller_digest(alice, []),
        caller_digest({"user": "bob"}, []),
        caller_digest(True, []),
        caller_digest(None, []),
        caller_digest(None, [("cookie", "s=1")]),
        caller_digest(None, [("cookie", "s=2")]),
        caller_digest(None, [("x-api-key", "s=1")]),
        caller_digest({"user": "x", "id": uuid.UUID(int=1)}, []),
        caller_digest({"user": "x", "id": 2**70}, []),
    }
    assert len(digests) == 9


def test_an_identity_without_canonical_json_cannot_be_cached() -> None:
    class User:
        pass

    assert caller_digest({"user": User()}, []) is None
    with pytest.raises(TypeError):
        canonical_json({1: "a", "b": 2})


def test_canonical_json_sorts_keys_and_keeps_big_integers_exact() -> None:
    assert canonical_json({"b": 1, "a": [True, None]}) == b'{"a":[true,null],"b":1}'
    assert canonical_json({"n": 2**70}) == b'{"n":1180591620717411303424}'
