"""The 0.7 oddities envoxy-core keeps: each still works and warns once, at the caller's line,
with a DeprecationWarning naming its replacement."""

import sys
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import envoxy.constants
from envoxy.utils import deprecation
from envoxy.utils.cache import LRUCache
from envoxy.utils.datetime import Format, Now
from envoxy.utils.singleton import Singleton, SingletonPerThread


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deprecation, "_warned", set())


def warnings_of(use: Callable[[], Any]) -> tuple[Any, list[tuple[str, str, int]]]:
    """Call ``use`` twice; return its first result and (message, file, line) of each warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = use()
        use()
    return result, [(str(w.message), w.filename, w.lineno) for w in caught]


def test_lru_cache_miss_without_default_returns_minus_one_and_warns() -> None:
    cache = LRUCache(2)
    cache.set("a", 1)

    result, seen = warnings_of(lambda: cache.get("absent"))
    line = sys._getframe().f_lineno - 1

    assert result == -1
    assert seen == [
        (
            "LRUCache.get(key) returning -1 on a miss is deprecated since envoxy 1.1; "
            "use LRUCache.get(key, default)",
            __file__,
            line,
        )
    ]


def test_lru_cache_with_default_or_a_hit_does_not_warn() -> None:
    cache = LRUCache(2)
    cache.set("a", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.get("a") == 1
        assert cache.get("absent", None) is None
        assert cache.get("absent", -1) == -1


@pytest.mark.parametrize(
    ("call", "old", "new"),
    [
        (lambda: Now.api_format(), "Now.api_format()", "format_api(datetime.now(UTC))"),
        (lambda: Now.log_format(), "Now.log_format()", "format_strftime(None, "),
        (lambda: Now.timestamp(), "Now.timestamp()", "format_unix()"),
        (lambda: Now.to_datetime("x"), "Now.to_datetime()", "coerce_datetime(text)"),
        (lambda: Format.iso(), "Format.iso()", "format_iso"),
        (lambda: Format.rfc1123(), "Format.rfc1123()", "format_rfc1123"),
        (lambda: Format.unix(), "Format.unix()", "format_unix"),
        (lambda: Format.custom(), "Format.custom()", "format_strftime"),
        (lambda: Format.api_format(), "Format.api_format()", "format_api"),
        (lambda: Format.parse("2025-01-02"), "Format.parse()", "coerce_datetime"),
    ],
)
def test_now_and_format_methods_warn_naming_the_function(
    call: Callable[[], Any], old: str, new: str
) -> None:
    _, seen = warnings_of(call)

    assert len(seen) == 1
    message, filename, _ = seen[0]
    assert message.startswith(f"envoxy.utils.datetime.{old} is deprecated since envoxy 1.1; ")
    assert f"use envoxy.utils.datetime.{new}" in message
    assert filename == __file__


@pytest.mark.parametrize("base", [Singleton, SingletonPerThread])
def test_instance_with_queue_warns_naming_instance(base: type) -> None:
    class Worker(base):  # type: ignore[misc, valid-type]
        def __init__(self, queue: object) -> None:
            self.queue = queue

    queue = object()
    worker, seen = warnings_of(lambda: Worker.instance_with_queue(queue))
    line = sys._getframe().f_lineno - 1

    assert worker.queue is queue
    assert seen == [
        (
            f"{base.__name__}.instance_with_queue(queue) is deprecated since envoxy 1.1; "
            f"use {base.__name__}.instance(queue)",
            __file__,
            line,
        )
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REDIS_DEFAULT_DB", 1),
        ("REDIS_DEFAULT_TTL", 3600),
        ("REDIS_DEFAULT_HOST", "127.0.0.1"),
        ("REDIS_DEFAULT_PORT", "6379"),
    ],
)
def test_unused_redis_defaults_warn_naming_the_redis_settings(name: str, value: object) -> None:
    result, seen = warnings_of(lambda: getattr(envoxy.constants, name))
    line = sys._getframe().f_lineno - 1

    assert result == value
    assert name not in envoxy.constants.__all__
    suffix = name.removeprefix("REDIS_")
    assert seen == [
        (
            f"envoxy.constants.{name} is deprecated since envoxy 1.1; "
            f"use envoxy.redis.settings.{suffix}",
            __file__,
            line,
        )
    ]


@pytest.mark.parametrize(
    ("name", "value", "use"),
    [
        (
            "ZEROMQ_MAX_WORKERS_PER_THREAD",
            20,
            "zmq_workers.context_max_workers (envoxy.zeromq.settings.DEFAULT_MAX_SOCKETS)",
        ),
        ("ZEROMQ_CONTEXT", 1, "nothing: zmqc keeps one zmq.Context per process"),
    ],
)
def test_0_7_zeromq_constants_are_back_and_warn(name: str, value: object, use: str) -> None:
    result, seen = warnings_of(lambda: getattr(envoxy.constants, name))
    line = sys._getframe().f_lineno - 1

    assert result == value
    assert name not in envoxy.constants.__all__
    assert seen == [
        (f"envoxy.constants.{name} is deprecated since envoxy 1.0; use {use}", __file__, line)
    ]
