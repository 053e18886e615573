"""Loopback helpers: a free port, and waiting with a deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

__all__ = ["free_port", "port_accepts", "wait_until"]


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
            raise TimeoutError(f"{what or condition!r} not true within {timeout}s")
        time.sleep(interval)
    return time.monotonic() - started
