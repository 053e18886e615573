"""all_at_once: many threads released together, their results in order, bounded waits."""

import threading
import time

import pytest

from envoxy_testing.threads import all_at_once


def test_results_come_back_in_thread_order() -> None:
    assert all_at_once(lambda number: number * 2, 30) == [number * 2 for number in range(30)]


def test_every_thread_runs_at_the_same_time() -> None:
    running = 0
    most = 0
    lock = threading.Lock()

    def work(_: int) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    all_at_once(work, 10)
    assert most == 10


def test_a_failing_thread_fails_the_call_with_its_error_chained() -> None:
    def work(number: int) -> int:
        if number == 3:
            raise ValueError("thread three")
        return number

    with pytest.raises(AssertionError, match=r"1 of 5 threads failed") as caught:
        all_at_once(work, 5)
    assert isinstance(caught.value.__cause__, ValueError)


def test_the_wait_is_bounded() -> None:
    release = threading.Event()
    started = time.monotonic()
    try:
        with pytest.raises(AssertionError, match=r"2 of 2 threads still ran after 0\.3 s"):
            all_at_once(lambda _: release.wait(5), 2, timeout=0.3)
        assert time.monotonic() - started < 2
    finally:
        release.set()
