"""Unknown keys of envoxy.json: one startup warning each, naming the closest known key."""

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from envoxy.daemon.known_keys import known_sections, known_top_level, warn_unknown_keys

SAMPLE = Path(__file__).with_name("views_sample.py")

#: a file as a service might write it: its own sections, and a few slips
DOCUMENT: dict[str, Any] = {
    "modules": [str(SAMPLE)],
    "log": {"level": 4, "format": "json"},
    "log_level": "WARNING",
    "redis_server": {"main": {}},
    "redis_servers": {"cache": {"bind": "127.0.0.1:6379", "tll": 60}},
    "psql_servers": {"default": "main", "main": {"host": "h", "pool_size": 5, "hots": "x"}},
    "zmq_servers": {"core": {"host": "h", "port": 1, "deadline": 5, "retry": 1}},
    "cache": {"ttl": 5, "vary_headers": ["X-Tenant"], "key_prefx": "svc"},
    "readiness": {"timeout": 1, "optionals": ["couchdb"]},
    "boot": [{"name": "svc", "http": {"bind": ":8080"}}],
    "my_service": {"anything": True},
    "feature_flags": ["a"],
}


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_each_unknown_key_is_warned_with_the_closest_known_one() -> None:
    recorder = Recorder()
    logging.getLogger("envoxy").addHandler(recorder)
    try:
        found = warn_unknown_keys(DOCUMENT)
    finally:
        logging.getLogger("envoxy").removeHandler(recorder)
    assert [(unknown.path, unknown.suggestion) for unknown in found] == [
        ("log_level", "log"),
        ("redis_server", "redis_servers"),
        ("redis_servers.cache.tll", "ttl"),
        ("psql_servers.main.hots", "hosts"),
        ("zmq_servers.core.retry", "retries"),
        ("cache.key_prefx", "key_prefix"),
        ("readiness.optionals", "optional"),
    ]
    messages = recorder.messages
    assert "envoxy.json: unknown key 'log_level' is ignored; did you mean 'log'?" in messages
    assert len(messages) == len(found)


def test_every_key_the_clients_read_is_known() -> None:
    sections = {known.section: known.keys for known in known_sections()}
    assert {"bind", "ttl", "pool_timeout"} <= sections["redis_servers"]
    assert {"retry_delay", "cached_routes"} <= sections["zmq_servers"]
    assert {"persistent_session", "cert_path"} <= sections["mqtt_servers"]
    assert {"statement_timeout", "pool_recycle", "dsn"} <= sections["psql_servers"]
    assert {"key_prefix", "vary_headers", "socket_timeout"} <= sections["cache"]
    assert {"client_secret", "timeout"} <= sections["credentials"]
    assert {"task_modules", "default_task_queue", "zmq_workers", "psql_servers"} <= (
        known_top_level() | set(sections)
    )


def test_envoxyd_warns_at_startup(
    write_config: Callable[..., Path], start_envoxyd: Callable[..., Any]
) -> None:
    config = write_config(
        {"modules": [str(SAMPLE)], "log": {"level": 4}, "log_level": "DEBUG", "cache": {"tll": 1}}
    )
    daemon = start_envoxyd("--processes", "2", "--set", f"conf={config}")
    lines = [json.loads(line) for line in daemon.log().splitlines() if line.startswith("{")]
    warnings = [line["short_message"] for line in lines if "unknown key" in line["short_message"]]
    assert warnings == [
        "envoxy.json: unknown key 'log_level' is ignored; did you mean 'log'?",
        "envoxy.json: unknown key 'cache.tll' is ignored; did you mean 'ttl'?",
    ]  # once each: in the master, not again in each of the two workers


def test_the_production_shapes_of_redis_and_postgresql_are_known_keys() -> None:
    from envoxy.daemon.known_keys import warn_unknown_keys

    redis_shapes = {
        "url": "rediss://r:6380/0",
        "tls": True,
        "ca_cert": "/ca.pem",
        "client_cert": "/c.pem",
        "client_key": "/c.key",
        "sentinels": ["s1:26379"],
        "service_name": "main",
        "sentinel_passwd": "x",
        "cluster": False,
    }
    document = {
        "redis_servers": {"main": redis_shapes},
        "cache": dict(redis_shapes),
        "psql_servers": {
            "main": {
                "hosts": ["a:5432", "b:5433"],
                "target_session_attrs": "read-write",
                "pooler": "transaction",
                "connection_budget": 10,
                "pooler_mode": "oops",
            }
        },
    }
    assert [(key.path, key.suggestion) for key in warn_unknown_keys(document)] == [
        ("psql_servers.main.pooler_mode", "pooler")
    ]
