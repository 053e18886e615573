"""The shared settings converters: one message shape, naming ``<where>.<setting>``."""

import re
from typing import Any

import pytest

from envoxy.exceptions import ConfigError
from envoxy.utils.settings import host_port, integer, optional_str, seconds, timeout, url

WHERE = "redis_servers.cache"


def test_timeout_default_value_and_explicit_null() -> None:
    assert timeout({}, "connect_timeout", 5.0, WHERE) == 5.0
    assert timeout({"connect_timeout": "0.5"}, "connect_timeout", 5.0, WHERE) == 0.5
    assert timeout({"connect_timeout": None}, "connect_timeout", 5.0, WHERE) is None


@pytest.mark.parametrize("value", [0, -1, "soon", True, float("inf")])
def test_timeout_refuses_what_is_not_a_positive_number(value: Any) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"{WHERE}.connect_timeout")):
        timeout({"connect_timeout": value}, "connect_timeout", 5.0, WHERE)


def test_seconds_refuse_null_and_accept_zero_only_when_asked() -> None:
    assert seconds({}, "retry_delay", 2.0, WHERE) == 2.0
    assert seconds({"retry_delay": 0}, "retry_delay", 2.0, WHERE, zero=True) == 0.0
    with pytest.raises(ConfigError, match="must be a positive number of seconds, not 0"):
        seconds({"deadline": 0}, "deadline", 30.0, WHERE)
    with pytest.raises(ConfigError, match=re.escape(f"{WHERE}.deadline")):
        seconds({"deadline": None}, "deadline", 30.0, WHERE)
    with pytest.raises(ConfigError, match="0 or more seconds"):
        seconds({"retry_delay": -1}, "retry_delay", 2.0, WHERE, zero=True)


def test_integer_with_a_minimum() -> None:
    assert integer({"db": "3"}, "db", 1, WHERE) == 3
    assert integer({}, "max_connections", 50, WHERE, minimum=1) == 50
    with pytest.raises(ConfigError, match=r"redis_servers\.cache\.max_connections must be 1 or"):
        integer({"max_connections": 0}, "max_connections", 50, WHERE, minimum=1)
    with pytest.raises(ConfigError, match=r"redis_servers\.cache\.db"):
        integer({"db": 1.5}, "db", 1, WHERE)


def test_optional_str() -> None:
    assert optional_str({}, "user", WHERE) is None
    assert optional_str({"user": ""}, "user", WHERE) is None
    assert optional_str({"user": "ada"}, "user", WHERE) == "ada"
    assert optional_str({"passwd": 1234}, "passwd", WHERE) == "1234"
    with pytest.raises(ConfigError, match=r"redis_servers\.cache\.user must be a string"):
        optional_str({"user": ["a"]}, "user", WHERE)
    with pytest.raises(ConfigError, match="must be a string"):
        optional_str({"user": True}, "user", WHERE)


@pytest.mark.parametrize(
    ("conf", "expected"),
    [
        ({}, ("127.0.0.1", 6379)),
        ({"bind": "redis.local:6380", "host": "ignored", "port": 1}, ("redis.local", 6380)),
        ({"bind": "[::1]:6390"}, ("::1", 6390)),
        ({"bind": "redis.local", "port": "6381"}, ("redis.local", 6381)),
        ({"host": "h", "port": "7000"}, ("h", 7000)),
    ],
)
def test_host_port(conf: dict[str, Any], expected: tuple[str, int]) -> None:
    assert host_port(conf, WHERE, default_host="127.0.0.1", default_port=6379) == expected


def test_host_port_errors() -> None:
    with pytest.raises(ConfigError, match=r"redis_servers\.cache\.bind port"):
        host_port({"bind": "h:x"}, WHERE, default_host="127.0.0.1", default_port=6379)
    with pytest.raises(ConfigError, match=r"redis_servers\.cache\.bind must be"):
        host_port({"bind": 6379}, WHERE, default_host="127.0.0.1", default_port=6379)
    for conf in ({"port": 1}, {"host": "h", "port": ""}):
        with pytest.raises(ConfigError, match=r"zmq_servers\.core needs 'host' and 'port'"):
            host_port(conf, "zmq_servers.core", default_host=None, default_port=None)


def test_url_parts_are_decoded() -> None:
    parsed = url(
        "MQTTS://us%40er:p%3Ass@Broker:8883",
        "mqtt_servers.k.bind",
        schemes={"mqtt", "mqtts"},
        example="mqtt://127.0.0.1:1883",
        path=False,
    )
    assert (parsed.scheme, parsed.host, parsed.port) == ("mqtts", "broker", 8883)
    assert (parsed.user, parsed.password, parsed.netloc) == ("us@er", "p:ss", "broker:8883")
    ipv6 = url("http://[::1]/db/", "b", schemes={"http"}, example="http://h")
    assert (ipv6.netloc, ipv6.path, ipv6.user) == ("[::1]", "/db/", None)


@pytest.mark.parametrize(
    ("value", "fault"),
    [
        (None, "couchdb_servers.m.bind is required"),
        ("ftp://h", "must start with http:// or https://"),
        ("http://", "must start with http:// or https://"),
        ("http://h:port", "couchdb_servers.m.bind has an invalid port"),
    ],
)
def test_url_errors(value: Any, fault: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(fault)):
        url(value, "couchdb_servers.m.bind", schemes={"http", "https"}, example="http://h:5984")


def test_url_error_hides_credentials_and_refuses_a_path_when_asked() -> None:
    with pytest.raises(ConfigError) as caught:
        url("admin:hunter2@db:5984", "x.bind", schemes={"http"}, example="http://h")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError, match="percent-encode"):
        url("mqtt://u:p@h/path", "b", schemes={"mqtt"}, example="mqtt://h", path=False)
