"""mqttc pieces that need no broker: bind parsing, credentials, topic matching, payloads."""

import re
from types import MappingProxyType
from typing import Any

import orjson
import pytest

import envoxy.mqtt
from envoxy.exceptions import ConfigError, ValidationException
from envoxy.mqtt.payloads import decode_payload, encode_message
from envoxy.mqtt.settings import MqttServerSettings
from envoxy.mqtt.subscriptions import (
    SubscriptionTable,
    filter_problem,
    filters_overlap,
    shared_filter,
)
from envoxy_testing.exports import all_problems
from envoxy_testing.interpreter import run_python


def test_bind_with_percent_encoded_userinfo_is_decoded() -> None:
    settings = MqttServerSettings.from_config(
        "k", {"bind": "mqtts://us%3Aer:p%40ss%2F%23%3F%25w@broker.example:9999"}
    )
    assert (settings.username, settings.password) == ("us:er", "p@ss/#?%w")
    assert (settings.host, settings.port, settings.tls) == ("broker.example", 9999, True)


@pytest.mark.parametrize(
    ("bind", "port", "tls"),
    [("mqtt://h", 1883, False), ("mqtts://h", 8883, True), ("MQTT://h:1", 1, False)],
)
def test_bind_default_ports(bind: str, port: int, tls: bool) -> None:
    settings = MqttServerSettings.from_config("k", {"bind": bind})
    assert (settings.port, settings.tls, settings.username) == (port, tls, None)


def test_settings_defaults() -> None:
    settings = MqttServerSettings.from_config("k", {"bind": "mqtt://h"})
    assert (settings.keepalive, settings.connect_timeout) == (60, 10.0)
    assert (settings.client_id, settings.cert_path, settings.persistent_session) == (
        None,
        None,
        False,
    )


@pytest.mark.parametrize(
    ("conf", "fault"),
    [
        ({}, "mqtt_servers.k.bind is required"),
        ({"bind": "http://h"}, "mqtt_servers.k.bind must start with mqtt://"),
        ({"bind": "mqtt://h:notaport"}, "mqtt_servers.k.bind has an invalid port"),
        ({"bind": "mqtt://u:p@h/path"}, "percent-encode"),
        ({"bind": "mqtt://h", "keepalive": 0}, "mqtt_servers.k.keepalive"),
        ({"bind": "mqtt://h", "connect_timeout": "x"}, "mqtt_servers.k.connect_timeout"),
        ({"bind": "mqtt://h", "persistent_session": True}, "mqtt_servers.k.client_id"),
        ({"bind": "mqtts://h", "client_cert": "c.pem"}, "mqtt_servers.k.client_key is required"),
        ({"bind": "mqtts://h", "client_key": "c.key"}, "mqtt_servers.k.client_cert is required"),
        (
            {"bind": "mqtt://h", "client_cert": "c.pem", "client_key": "c.key"},
            "mqtt_servers.k.client_cert needs TLS: write bind as mqtts://",
        ),
        ({"bind": "mqtts://h", "client_cert": ["c.pem"]}, "mqtt_servers.k.client_cert"),
    ],
)
def test_settings_errors_name_the_setting(conf: dict[str, Any], fault: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(fault)):
        MqttServerSettings.from_config("k", conf)


def test_mutual_tls_settings_and_secrets_kept_out_of_repr() -> None:
    settings = MqttServerSettings.from_config(
        "k",
        {
            "bind": "mqtts://user:bind-secret@h",
            "cert_path": "/ca.pem",
            "client_cert": "/c.pem",
            "client_key": "/c.key",
            "client_key_password": "key-secret",
        },
    )
    assert (settings.cert_path, settings.client_cert, settings.client_key) == (
        "/ca.pem",
        "/c.pem",
        "/c.key",
    )
    assert settings.client_key_password == "key-secret"
    assert "secret" not in repr(settings)
    assert {"client_cert", "client_key", "client_key_password"} <= MqttServerSettings.KEYS


def test_cert_path_on_plain_mqtt_is_still_ignored() -> None:
    settings = MqttServerSettings.from_config("k", {"bind": "mqtt://h", "cert_path": "/ca.pem"})
    assert settings.tls is False


def test_bind_credentials_win_over_the_provider() -> None:
    settings = MqttServerSettings.from_config("k", {"bind": "mqtt://u:p@h"})
    assert settings.credentials({"client_id": "c", "access_token": "t"}) == ("u", "p")


def test_provider_credentials_are_used_without_bind_userinfo() -> None:
    settings = MqttServerSettings.from_config("k", {"bind": "mqtt://h"})
    assert settings.credentials({"client_id": "c", "access_token": "t"}) == ("c", "t")
    assert settings.credentials({}) == (None, None)


@pytest.mark.parametrize(
    ("topic_filter", "topic", "matches"),
    [
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a/b/d", False),
        ("a/+/c", "a/b/c/d", False),
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("#", "a/b", True),
        ("#", "$SYS/x", False),
        ("+/x", "$SYS/x", False),
        ("a/b", "a/b", True),
        ("$share/group/a/+", "a/b", True),
        ("+", "", True),
        ("a/+", "a/", True),
    ],
)
def test_topic_matching(topic_filter: str, topic: str, matches: bool) -> None:
    table = SubscriptionTable()
    table.add(topic_filter, 0, print)
    assert bool(table.callbacks_for(topic)) is matches


@pytest.mark.parametrize(
    "bad", ["", "a/#/b", "a/b#", "a+/b", "$share/a", "$share//a", "$share/g+/a", "$share/#/a"]
)
def test_invalid_filters_are_explained(bad: str) -> None:
    assert filter_problem(bad) is not None


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ("a/b", "a/b", True),
        ("a/+", "a/b", True),
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("a/+", "a/b/c", False),
        ("a/b", "a/c", False),
        ("+/b", "a/+", True),
        ("#", "$SYS/x", False),
        ("+/x", "$SYS/x", False),
        ("$SYS/#", "$SYS/x", True),
        ("$share/g/a/+", "a/b", True),
        ("$share/g/a/+", "$share/h/b/+", False),
        ("a", "a/b", False),
    ],
)
def test_filters_overlap(first: str, second: str, overlap: bool) -> None:
    assert filters_overlap(first, second) is overlap
    assert filters_overlap(second, first) is overlap


def test_shared_filter_checks_the_group() -> None:
    assert shared_filter("workers", "a/+") == "$share/workers/a/+"
    for bad in ("", "a/b", "g+", "#", None):
        with pytest.raises(ValueError, match="share group"):
            shared_filter(bad, "a")  # type: ignore[arg-type]


def test_table_keeps_callbacks_per_filter_and_the_highest_qos() -> None:
    table = SubscriptionTable()
    table.add("a/#", 0, print)
    table.add("a/#", 1, repr)
    table.add("b", 0, str)
    assert table.filters() == [("a/#", 1), ("b", 0)]
    assert table.callbacks_for("a/x") == [print, repr]
    assert table.remove("a/#", print) is False
    assert table.callbacks_for("a/x") == [repr]
    assert table.remove("a/#") is True
    assert table.filters() == [("b", 0)]


def test_envelope_is_a_copy_plus_headers_and_resource() -> None:
    message = {"a": 1}
    encoded = encode_message("t/1", message)
    payload, headers = decode_payload(encoded)
    assert message == {"a": 1}
    assert payload == {"a": 1}
    assert headers is not None
    assert headers["User-Agent"] == "Envoxy Server"


def test_no_envelope_encodes_json_and_keeps_bytes() -> None:
    assert encode_message("t", {"a": [1]}, no_envelope=True) == b'{"a":[1]}'
    assert encode_message("t", "text", no_envelope=True) == b'"text"'
    assert encode_message("t", bytearray(b"\x01"), no_envelope=True) == b"\x01"


def test_unencodable_messages_raise_validation_exception() -> None:
    with pytest.raises(ValidationException, match="cannot be encoded"):
        encode_message("t", {"a": object()})
    with pytest.raises(ValidationException, match="must be a dict"):
        encode_message("t", [1, 2])


def test_decode_payload_returns_bytes_for_non_json() -> None:
    assert decode_payload(b"\xff\x00") == (b"\xff\x00", None)
    assert decode_payload(b"") == (b"", None)
    assert decode_payload(b'{"headers": 1, "resource": "x"}') == (
        {"headers": 1, "resource": "x"},
        None,
    )


def test_importing_envoxy_mqtt_imports_no_paho_and_reads_no_config() -> None:
    code = (
        "import sys, threading, envoxy.mqtt\n"
        "from envoxy.utils.config import Config\n"
        "assert 'paho' not in sys.modules, 'paho imported'\n"
        "assert Config._data is None, 'config read'\n"
        "assert threading.active_count() == 1\n"
    )
    run_python(code, env={"ENVOXY_CONFIG": "/nonexistent/envoxy.json"})


def test_envoxy_mqtt_exports_match_all() -> None:
    assert all_problems("envoxy.mqtt", exact=True) == []
    assert envoxy.mqtt.mqttc is envoxy.mqtt.Dispatcher


@pytest.mark.parametrize("message", [{}, {"a": 1, "b": [1, "x"]}, {"é": "ü\n"}])
def test_spliced_envelope_equals_the_encoded_envelope_dict(message: dict[str, Any]) -> None:
    topic = 'odd/"topic"/é'
    encoded = encode_message(topic, message)
    decoded = orjson.loads(encoded)
    assert list(decoded) == [*message, "headers", "resource"]
    expected = {**message, "headers": decoded["headers"], "resource": topic}
    assert encoded == orjson.dumps(expected)
    generic = orjson.loads(encode_message(topic, MappingProxyType(message)))
    assert list(generic) == list(decoded)
    assert list(generic["headers"]) == list(decoded["headers"])
