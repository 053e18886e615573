"""Instrumentation hooks: observers see each call; without observers nothing is timed."""

import pytest

from envoxy.utils import observe
from envoxy.utils.observe import (
    PoolStats,
    add_call_observer,
    observed,
    pool_stats,
    register_pool,
    remove_call_observer,
    unregister_pool,
)

Seen = list[tuple[str, str, float, BaseException | None]]


@pytest.fixture
def seen(client_calls: Seen) -> Seen:
    """The calls reported to observers (envoxy_testing's ``client_calls``)."""
    return client_calls


class Client:
    @observed("redis")
    def get(self, server_key: str, key: str) -> str:
        return f"{server_key}:{key}"

    @observed("redis")
    def fail(self, server_key: str) -> None:
        raise ConnectionError("down")

    @observed("zmq", key=lambda self, message: self.key)
    def send(self, message: str) -> str:
        return message

    key = "backend"


def test_calls_and_errors_are_reported(seen: Seen) -> None:
    client = Client()
    assert client.get("cache", "k") == "cache:k"
    with pytest.raises(ConnectionError):
        client.fail("cache")
    assert client.send("m") == "m"
    assert [(c, k, e is None) for c, k, _, e in seen] == [
        ("redis", "cache", True),
        ("redis", "cache", False),
        ("zmq", "backend", True),
    ]
    assert isinstance(seen[1][3], ConnectionError)
    assert all(0 <= seconds < 1 for _, _, seconds, _ in seen)


def test_keyword_server_key_is_reported(seen: Seen) -> None:
    Client().get(server_key="sessions", key="k")
    assert seen[0][1] == "sessions"


def test_a_failing_observer_never_breaks_the_call(seen: Seen) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("observer bug")

    add_call_observer(broken)
    try:
        assert Client().get("cache", "k") == "cache:k"
    finally:
        remove_call_observer(broken)
    assert len(seen) == 1


def test_without_observers_the_clock_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observe, "_OBSERVERS", [])  # whatever other tests registered
    assert not observe.call_observers()

    def no_clock() -> float:
        raise AssertionError("timed without an observer")

    monkeypatch.setattr(observe.time, "perf_counter", no_clock)
    assert Client().get("cache", "k") == "cache:k"


def test_pools_are_described_and_forgotten() -> None:
    register_pool("redis", "cache", lambda: PoolStats(1, 3, 10))
    try:
        assert pool_stats("redis", "cache") == PoolStats(1, 3, 10)
        register_pool("redis", "cache", lambda: 1 / 0)  # type: ignore[arg-type,return-value]
        assert pool_stats("redis", "cache") is None
    finally:
        unregister_pool("redis", "cache")
    assert pool_stats("redis", "cache") is None
