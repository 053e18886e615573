"""HandlerLanes: a view's bounded pool of handler threads (no broker)."""

import threading
import time

import pytest

from envoxy.daemon.lanes import MAX_WORKERS, QUEUE_PER_WORKER, HandlerLanes


def test_max_workers_threads_run_at_once_and_no_more() -> None:
    lanes = HandlerLanes("v", max_workers=4)
    lanes.start()
    running = 0
    peak = 0
    lock = threading.Lock()
    release = threading.Event()

    def job() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        release.wait(5)
        with lock:
            running -= 1

    for number in range(12):
        assert lanes.submit(f"t/{number}", job)
    time.sleep(0.3)
    assert peak == 4
    release.set()
    assert lanes.wait_idle(5)
    assert lanes.pending == 0
    lanes.stop()


def test_ordered_lanes_keep_the_order_of_each_topic() -> None:
    lanes = HandlerLanes("v", max_workers=4, ordered=True)
    lanes.start()
    seen: dict[str, list[int]] = {}
    lock = threading.Lock()

    def job_for(topic: str, number: int) -> None:
        def job() -> None:
            time.sleep(0.001 * (number % 3))  # uneven durations would reorder a shared queue
            with lock:
                seen.setdefault(topic, []).append(number)

        lanes.submit(topic, job)

    for number in range(200):
        job_for(f"dev/{number % 8}", number)
    assert lanes.wait_idle(10)
    assert sorted(seen) == [f"dev/{n}" for n in range(8)]
    for topic, numbers in seen.items():
        assert numbers == sorted(numbers), topic
    lanes.stop()


def test_unordered_lanes_share_the_work_of_one_topic() -> None:
    lanes = HandlerLanes("v", max_workers=4)
    lanes.start()
    threads: set[str] = set()
    lock = threading.Lock()

    def job() -> None:
        time.sleep(0.01)
        with lock:
            threads.add(threading.current_thread().name)

    for _ in range(20):
        lanes.submit("one/topic", job)
    assert lanes.wait_idle(5)
    assert len(threads) == 4
    assert all(name.startswith("envoxy-mqtt-v-") for name in threads)
    lanes.stop()


def test_a_full_queue_makes_submit_wait() -> None:
    lanes = HandlerLanes("v", max_workers=1)
    lanes.start()
    release = threading.Event()
    for _ in range(QUEUE_PER_WORKER + 1):  # one running, the rest fill the queue
        assert lanes.submit("t", lambda: release.wait(5))
    time.sleep(0.1)
    waited = threading.Event()

    def one_more() -> None:
        lanes.submit("t", lambda: None)
        waited.set()

    submitter = threading.Thread(target=one_more)
    submitter.start()
    assert not waited.wait(0.3)  # blocked: backpressure, nothing dropped
    release.set()
    assert waited.wait(5)
    submitter.join()
    assert lanes.wait_idle(5)
    lanes.stop()


def test_stop_drops_what_is_queued_and_refuses_more() -> None:
    lanes = HandlerLanes("v", max_workers=1)
    lanes.start()
    release = threading.Event()
    ran: list[int] = []
    lanes.submit("t", lambda: release.wait(5))
    for number in range(5):
        lanes.submit("t", lambda number=number: ran.append(number))
    time.sleep(0.1)
    assert lanes.stop() == 5
    assert lanes.submit("t", lambda: ran.append(99)) is False
    release.set()
    assert lanes.wait_idle(5)
    time.sleep(0.1)
    assert ran == []


def test_a_job_error_does_not_kill_the_thread() -> None:
    lanes = HandlerLanes("v")
    lanes.start()
    ran: list[int] = []

    def broken() -> None:
        raise RuntimeError("bug")

    lanes.submit("t", broken)
    lanes.submit("t", lambda: ran.append(1))
    assert lanes.wait_idle(5)
    assert ran == [1]
    lanes.stop()


@pytest.mark.parametrize("workers", [0, MAX_WORKERS + 1])
def test_max_workers_is_bounded(workers: int) -> None:
    with pytest.raises(ValueError, match="max_workers"):
        HandlerLanes("v", max_workers=workers)
