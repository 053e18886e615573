"""free_port, port_accepts, wait_until and retry_until."""

import socket
import time

import pytest

from envoxy_testing.network import free_port, port_accepts, retry_until, wait_until


def test_free_port_can_be_bound_and_port_accepts_sees_a_listener() -> None:
    port = free_port()
    assert not port_accepts("127.0.0.1", port)
    with socket.create_server(("127.0.0.1", port)):
        assert port_accepts("127.0.0.1", port)


def test_wait_until_returns_the_seconds_it_took_and_times_out_with_a_name() -> None:
    ready_at = time.monotonic() + 0.1
    assert 0.1 <= wait_until(lambda: time.monotonic() >= ready_at, timeout=2) < 1
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"the moon not true within 0\.2s"):
        wait_until(lambda: False, timeout=0.2, what="the moon")
    assert time.monotonic() - started < 1


def test_retry_until_retries_the_named_errors_and_returns_the_result() -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("not yet")
        return "up"

    assert retry_until(flaky, ConnectionError, timeout=2, interval=0.01) == "up"
    assert len(attempts) == 3


def test_retry_until_gives_up_with_the_last_error_chained() -> None:
    def down() -> None:
        raise ConnectionRefusedError("still down")

    with pytest.raises(TimeoutError, match="still down") as caught:
        retry_until(down, OSError, timeout=0.2, interval=0.01)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_retry_until_lets_other_errors_through_at_once() -> None:
    def broken() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        retry_until(broken, ConnectionError, timeout=5)
