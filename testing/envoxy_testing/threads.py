"""Run one function in many threads at once: for "N threads share one client" tests.

::

    results = all_at_once(lambda number: client.get("k", number), 50)

The threads wait on one barrier, so they all start together (the race a test wants to
provoke), and the wait for them is bounded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["all_at_once"]


def all_at_once[T](work: Callable[[int], T], count: int, timeout: float = 60) -> list[T]:
    """Call ``work(0)`` … ``work(count - 1)``, each in a thread of its own, all released at
    the same moment; return their results in that order.

    :param work: called with the thread's number.
    :param count: how many threads.
    :param timeout: seconds to wait for all of them.
    :raises AssertionError: a call raised (the first error is chained and every error is
        named), or the threads had not all finished within ``timeout`` seconds.
    """
    barrier = threading.Barrier(count)
    results: dict[int, T] = {}
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            barrier.wait(timeout)
            results[number] = work(number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(number,), daemon=True) for number in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if errors:
        raise AssertionError(f"{len(errors)} of {count} threads failed: {errors!r}") from errors[0]
    if len(results) != count:
        raise AssertionError(
            f"{count - len(results)} of {count} threads still ran after {timeout:g} s"
        )
    return [results[number] for number in range(count)]
