"""Secret redaction in log text."""

import logging

import pytest

from envoxy.utils.redaction import RedactingFilter, redact


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
