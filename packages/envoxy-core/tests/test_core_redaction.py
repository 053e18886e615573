"""Secret redaction in log text."""

import logging

import pytest

from envoxy.utils.redaction import (
    MASK,
    RedactingFilter,
    is_sensitive,
    mask_card_numbers,
    redact,
    redact_headers,
    redact_json,
    redact_query,
    safe_repr,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig", "Authorization: ***"),
        ("sent Bearer abc123 upstream", "sent Bearer *** upstream"),
        ("header basic dXNlcjpwYXNz", "header basic ***"),
        ("postgresql://envoxy:s3cret@db:5432/app", "postgresql://envoxy:***@db:5432/app"),
        ("redis://:hunter2@127.0.0.1:6379/1", "redis://:***@127.0.0.1:6379/1"),
        ("amqps://u:p%40ss@host//", "amqps://u:***@host//"),
        ("password=hunter2 next", "password=*** next"),
        ("db_password = hunter2", "db_password = ***"),
        ("passwd: hunter2", "passwd: ***"),
        ("client_secret=abc&scope=x", "client_secret=***&scope=x"),
        ("?access_token=abc123&page=2", "?access_token=***&page=2"),
        ("apikey=k1 api_key=k2 X-Api-Key: k3", "apikey=*** api_key=*** X-Api-Key: ***"),
        ('{"password": "p w", "user": "bob"}', '{"password": "***", "user": "bob"}'),
        ("{'secret': 'x', 'n': 1}", "{'secret': '***', 'n': 1}"),
        ('{"token": "with \\" quote"}', '{"token": "***"}'),
        ('"PASSWORD":"x"', '"PASSWORD":"***"'),
        ("{'password': None}", "{'password': ***}"),
        ("authorization=Basic dXNlcjpw", "authorization=***"),
    ],
)
def test_secrets_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "GET /items?page=2 200",
        "user=bob host=db port=5432",
        "http://example.com:8080/path@v2",
        "password reset requested",
        "connected to postgresql://db:5432/app",
    ],
)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert redact(text) == text


def test_redaction_is_idempotent() -> None:
    once = redact("password=x Bearer y postgresql://u:p@h/d")
    assert redact(once) == once


def test_redacting_filter_rewrites_the_record_message() -> None:
    arguments = ("token=abc",)
    record = logging.LogRecord("envoxy", logging.INFO, __file__, 1, "login %s", arguments, None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "login token=***"


# --- one list of sensitive names -------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Set-Cookie",
        "X-Auth",
        "x-auth-token",
        "X-Api-Key",
        "X-CSRF-Token",
        "X-Hub-Signature-256",
        "api_key",
        "apiKey",
        "APIKey",
        "access_token",
        "accesstoken",
        "refresh-token",
        "password",
        "password_confirmation",
        "newPassword",
        "client_secret",
        "code",
        "auth_code",
        "code_verifier",
        "sig",
        "signature",
        "key",
        "pwd",
        "pass",
        "pin",
        "userPIN",
        "otp",
        "totp",
        "session",
        "sessionid",
        "PHPSESSID",
        "session_id",
        "auth",
        "cvv2",
        "db.password",
        "psql_servers.default.passwd",
    ],
)
def test_sensitive_names(name: str) -> None:
    assert is_sensitive(name)
    if name not in CAMEL_CASE_ONLY:
        assert is_sensitive(name.upper())
        assert is_sensitive(name.lower())


#: names whose sensitive token is only a token thanks to the camelCase boundary
#: (``userpin`` is one word, ``userPIN`` two)
CAMEL_CASE_ONLY = {"userPIN"}


@pytest.mark.parametrize(
    "name",
    [
        "Host",
        "Content-Type",
        "User-Agent",
        "WWW-Authenticate",
        "Accept",
        "author",
        "keyboard",
        "monkey",
        "decode",
        "ping",
        "passenger",
        "bypass_cache",
        "page",
        "q",
        "KeyError",
        "TokenError",
        "token_type",
        "session_ttl",
        "password_length",
        "",
        "---",
    ],
)
def test_names_that_are_not_sensitive(name: str) -> None:
    assert not is_sensitive(name)


def test_a_very_long_name_is_checked_but_not_remembered() -> None:
    name = "x" * 10_000 + "_token"
    assert is_sensitive(name)
    assert not is_sensitive("x" * 10_000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET /x?code=C&sig=S&signature=S2&key=K&pwd=P&session=SE&auth=A&page=2",
            "GET /x?code=***&sig=***&signature=***&key=***&pwd=***&session=***&auth=***&page=2",
        ),
        ("X-Auth: abc def", "X-Auth: ***"),
        ("Cookie: a=1; b=2\nnext", "Cookie: ***\nnext"),
        (
            "{'user': {'pass': 'P', 'pin': 1234}, 'n': 1}",
            "{'user': {'pass': '***', 'pin': ***}, 'n': 1}",
        ),
        ('{"tokens": ["a", {"b": "c"}], "n": 1}', '{"tokens": ***, "n": 1}'),
        ('{"auth": {"type": "x", "value": "V"}, "keep": 1}', '{"auth": ***, "keep": 1}'),
        ("apiKey=AK userPIN=1234 otp=99", "apiKey=*** userPIN=*** otp=***"),
        (
            "password_confirmation=PC&client_secret=CS",
            "password_confirmation=***&client_secret=***",
        ),
        ("unterminated password='abc", "unterminated password='***'"),
        ("unbalanced secret={'a': [1, 2", "unbalanced secret=***"),
    ],
)
def test_named_values_use_the_shared_list(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "KeyError: 'session'",
        "author=bob keyboard=x decode: y ping=1",
        "password=&x=1",
        "missing section; known keys (none)",
        "token_type=bearer",
    ],
)
def test_names_that_only_look_sensitive_are_kept(text: str) -> None:
    assert redact(text) == text


# --- structured data ---------------------------------------------------------------------


def test_redact_headers_masks_sensitive_headers_only() -> None:
    headers = [
        ("Host", "h"),
        ("Authorization", "Bearer T"),
        ("Cookie", "s=1"),
        ("X-Auth", "XA"),
        ("X-Api-Key", "K"),
        ("X-Auth-Token", "T2"),
        ("Accept", "*/*"),
    ]
    assert redact_headers(headers) == {
        "Host": "h",
        "Authorization": MASK,
        "Cookie": MASK,
        "X-Auth": MASK,
        "X-Api-Key": MASK,
        "X-Auth-Token": MASK,
        "Accept": "*/*",
    }
    assert redact_headers(dict(headers))["X-Auth"] == MASK


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("code=abc&page=2", "code=***&page=2"),
        ("pass%77ord=x&q=y", "pass%77ord=***&q=y"),
        ("api+key=x", "api+key=***"),
        ("card=4111+1111+1111+1111&n=1", "card=***&n=1"),
        ("note=4111111111111111", "note=***"),
        ("ts=1761662730123&id=4111111111111112", "ts=1761662730123&id=4111111111111112"),
        ("flag&empty=&token=", "flag&empty=&token="),
        ("plain", "plain"),
        ("a=1&a=2&key=3&key=4", "a=1&a=2&key=***&key=***"),
    ],
)
def test_redact_query(query: str, expected: str) -> None:
    assert redact_query(query) == expected


def test_redact_json_masks_sensitive_keys_at_any_depth_and_card_numbers() -> None:
    document = {
        "user": {"name": "bob", "pass": "P", "pwd": "W", "pin": 1234, "otp": "O"},
        "items": [{"secret": {"nested": "S"}}, {"apiKey": ["a", "b"]}],
        "payment": {"number": 4111111111111111, "note": "card 5555 5555 5555 4444 ok"},
        "cards": ["4111-1111-1111-1111", "not 4111111111111112"],
        "token": None,
        "code": True,
        "count": 3,
    }
    assert redact_json(document) == {
        "user": {"name": "bob", "pass": MASK, "pwd": MASK, "pin": MASK, "otp": MASK},
        "items": [{"secret": MASK}, {"apiKey": MASK}],
        "payment": {"number": MASK, "note": "card *** ok"},
        "cards": [MASK, "not 4111111111111112"],
        "token": None,
        "code": True,
        "count": 3,
    }
    assert document["user"]["pass"] == "P"  # the input is not changed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111111111111111", MASK),
        ("4111 1111 1111 1111", MASK),
        ("378282246310005 (amex)", f"{MASK} (amex)"),
        ("30569309025904", MASK),
        ("6011111111111117 and 5555555555554444", f"{MASK} and {MASK}"),
        ("2223003122003222", MASK),
        ("4111111111111112", "4111111111111112"),  # Luhn fails
        ("1761662730123", "1761662730123"),  # a millisecond timestamp
        ("41111111111111110000", "41111111111111110000"),  # 20 digits
        ("411111111111", "411111111111"),  # 12 digits
    ],
)
def test_mask_card_numbers(text: str, expected: str) -> None:
    assert mask_card_numbers(text) == expected


# --- configuration errors ------------------------------------------------------------


def test_safe_repr_hides_secrets_and_address_credentials() -> None:
    assert "hunter2" not in safe_repr("hunter2", "psql_servers.default.password")
    assert safe_repr("u:hunter2@db:5984", "couchdb_servers.x.bind") == "'***@db:5984'"
    assert safe_repr("http://u:hunter2@db", "bind") == "'http://***@db'"
    assert safe_repr("5432x", "psql_servers.default.port") == "'5432x'"
    assert safe_repr(["a"]) == "['a']"


# --- through the log API, at every level -------------------------------------------------

#: one marker per way a secret reaches a log line
MARKED_LINES = {
    "MK-QUERY-CODE": "GET /cb?code=MK-QUERY-CODE&state=1",
    "MK-QUERY-SIG": "GET /x?sig=MK-QUERY-SIG",
    "MK-HEADER": "X-Auth-Token: MK-HEADER",
    "MK-BEARER": "sent Bearer MK-BEARER upstream",
    "MK-URL": "connect postgresql://app:MK-URL@db/app failed",
    "MK-JSON-PIN": '{"user": {"pin": "MK-JSON-PIN"}}',
    "MK-REPR-OTP": "{'otp': 'MK-REPR-OTP', 'n': 1}",
    "MK-NESTED": '{"credentials": {"user": "u", "value": "MK-NESTED"}}',
}

LEVEL_METHODS = [
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "info",
    "debug",
    "trace",
    "verbose",
]


@pytest.mark.parametrize("log_format", ["json", "pretty"])
def test_no_marker_reaches_a_line_at_any_level(log_format: str) -> None:
    import io

    from envoxy.utils.log_setup import configure_logging, reset_logging
    from envoxy.utils.logs import log

    stream = io.StringIO()
    configure_logging(9, log_format, stream=stream, force=True)
    try:
        for method in LEVEL_METHODS:
            for line in MARKED_LINES.values():
                getattr(log, method)(line)
        try:
            raise RuntimeError("failed with password=MK-TRACEBACK")
        except RuntimeError:
            log.error("with a traceback", exc_info=True)
    finally:
        reset_logging()
    written = stream.getvalue()
    assert written.count("\n") >= len(LEVEL_METHODS) * len(MARKED_LINES)
    for marker in [*MARKED_LINES, "MK-TRACEBACK"]:
        assert marker not in written
