"""systemd notify over real unix datagram sockets, and the Watchdog thread."""

import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from envoxy.utils.log_setup import reset_logging
from envoxy.utils.watchdog import NOTIFY_SOCKET_ENV_VAR, THREAD_NAME, Watchdog, notify


@pytest.fixture
def path_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    receiver.settimeout(5)
    monkeypatch.setenv(NOTIFY_SOCKET_ENV_VAR, str(path))
    yield receiver
    receiver.close()


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """Collect what envoxy logs (an application handler, so none is added to stderr)."""
    collected: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            collected.append(record)

    handler = Collect()
    logger = logging.getLogger("envoxy")
    reset_logging()
    logger.addHandler(handler)
    yield collected
    logger.removeHandler(handler)
    reset_logging()


def test_notify_without_socket_returns_false(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NOTIFY_SOCKET_ENV_VAR, raising=False)
    assert notify("READY=1") is False


def test_notify_sends_to_a_path_socket(path_socket: socket.socket) -> None:
    assert notify("READY=1") is True
    assert path_socket.recv(1024) == b"READY=1"


def test_notify_sends_to_an_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"envoxy-core-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(f"\0{name}")
        receiver.settimeout(5)
        monkeypatch.setenv(NOTIFY_SOCKET_ENV_VAR, f"@{name}")
        assert notify("STATUS=abstract\nREADY=1") is True
        assert receiver.recv(1024) == b"STATUS=abstract\nREADY=1"


def test_notify_to_a_missing_socket_raises_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "gone.sock"
    monkeypatch.setenv(NOTIFY_SOCKET_ENV_VAR, str(missing))
    with pytest.raises(OSError, match=str(missing)):
        notify("READY=1")


@pytest.mark.parametrize("interval", [None, 0, -5])
def test_watchdog_is_disabled_without_a_positive_interval(interval: float | None) -> None:
    watchdog = Watchdog(interval)
    assert watchdog.start() is False
    assert watchdog.thread is None


def test_watchdog_period_is_half_the_interval_with_a_floor() -> None:
    assert Watchdog(10).period == 5
    assert Watchdog(0.2).period == 0.5


def test_watchdog_pings_at_once_then_periodically(
    path_socket: socket.socket, records: list[logging.LogRecord]
) -> None:
    watchdog = Watchdog(1)
    assert watchdog.start() is True
    try:
        assert watchdog.thread is not None
        assert watchdog.thread.name == THREAD_NAME
        assert watchdog.thread.daemon
        assert path_socket.recv(64) == b"WATCHDOG=1"
        assert path_socket.recv(64) == b"WATCHDOG=1"
    finally:
        watchdog.stop(timeout=5)
    assert not watchdog.is_alive()


def test_only_one_watchdog_thread_per_process(
    path_socket: socket.socket, records: list[logging.LogRecord]
) -> None:
    first, second = Watchdog(30), Watchdog(30)
    assert first.start() is True
    try:
        assert second.start() is False
        names = [thread.name for thread in threading.enumerate()]
        assert names.count(THREAD_NAME) == 1
    finally:
        first.stop(timeout=5)
    assert second.start() is True
    second.stop(timeout=5)


def test_watchdog_stops_after_three_failed_checks(
    path_socket: socket.socket, records: list[logging.LogRecord]
) -> None:
    checks: list[int] = []

    def failing_check() -> bool:
        checks.append(1)
        return False

    watchdog = Watchdog(0.5, check=failing_check)
    watchdog.start()
    assert watchdog.thread is not None
    watchdog.thread.join(timeout=10)
    assert not watchdog.is_alive()
    assert len(checks) == 3
    assert path_socket.recv(64) == b"WATCHDOG=1"  # the immediate ping only
    path_socket.setblocking(False)
    with pytest.raises(BlockingIOError):
        path_socket.recv(64)
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "3 consecutive failed health checks" in errors[0]


def test_check_that_raises_counts_as_a_failure(
    path_socket: socket.socket, records: list[logging.LogRecord]
) -> None:
    def broken_check() -> bool:
        raise ConnectionError("health endpoint down")

    watchdog = Watchdog(0.5, check=broken_check)
    watchdog.start()
    assert watchdog.thread is not None
    watchdog.thread.join(timeout=10)
    assert not watchdog.is_alive()
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert any("health endpoint down" in message for message in warnings)


def test_failed_check_streak_resets_after_a_success(
    path_socket: socket.socket, records: list[logging.LogRecord]
) -> None:
    results = iter([False, False, True, False, False, True])
    done = threading.Event()

    def flaky_check() -> bool:
        result = next(results, None)
        if result is None:
            done.set()
            return True
        return result

    watchdog = Watchdog(0.5, check=flaky_check)
    watchdog.start()
    try:
        assert done.wait(timeout=10)
        assert watchdog.is_alive()
    finally:
        watchdog.stop(timeout=5)
