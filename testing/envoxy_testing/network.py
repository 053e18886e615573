"""Loopback helpers: a free port, and waiting or retrying with a deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

__all__ = ["free_port", "port_accepts", "retry_until", "wait_until"]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now (the kernel picks it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether a TCP connection to ``host:port`` is accepted within ``timeout`` seconds."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def wait_until(
    condition: Callable[[], bool], timeout: float, interval: float = 0.02, what: str = ""
) -> float:
    """Poll ``condition`` until it is true; return the seconds it took.

    Raises:
        TimeoutError: ``condition`` was still false after ``timeout`` seconds; the message
            names ``what``.
    """
    started = time.monotonic()
    deadline = started + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what or repr(condition)} not true within {timeout}s")
        time.sleep(interval)
    return time.monotonic() - started


def retry_until[T](
    call: Callable[[], T],
    errors: type[BaseException] | tuple[type[BaseException], ...],
    timeout: float,
    interval: float = 0.1,
) -> T:
    """Call ``call`` until it stops raising ``errors``; return its result.

    For "recovers by itself within N seconds": ``retry_until(lambda: client.get(...),
    RedisConnectionError, timeout=5)``. Other exceptions propagate at once.

    Raises:
        TimeoutError: Still failing after ``timeout`` seconds; the last error is chained.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except errors as exc:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"still failing after {timeout}s: {exc!r}") from exc
        time.sleep(interval)
