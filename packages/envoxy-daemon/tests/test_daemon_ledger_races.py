"""The request ledger under an adversary: threads settling at once, a record queued while
another thread takes the queue, logging reconfigured or handlers added while records wait,
a record that cannot be rendered. Each record is counted once and written once,
somewhere sensible, and no request ever sees an exception from it."""

import io
import json
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from envoxy.daemon.app import create_app
from envoxy.daemon.ledger import SETTLE_SECONDS, RequestLedger
from envoxy.daemon.metrics import Metrics
from envoxy.daemon.reqlog import AccessLines
from envoxy.utils.context import current_request_id
from envoxy.utils.log_setup import configure_logging
from envoxy.utils.logs import log

SAMPLE = Path(__file__).with_name("views_sample.py")
ENVOXY_LOGGER = logging.getLogger("envoxy")

pytestmark = pytest.mark.usefixtures("clean_logging")  # envoxy_testing.plugin


def capture(level: int = 6, log_format: str = "json") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(level, log_format, stream=stream, force=True)
    return stream


def ids(stream: io.StringIO) -> list[str | None]:
    return [json.loads(line).get("_request_id") for line in stream.getvalue().splitlines()]


def record(request_id: str, ended: int | None = None) -> tuple[Any, ...]:
    ended = time.perf_counter_ns() if ended is None else ended
    return (ended - 1_000_000, ended, "GET", "/x", 200, "/x", request_id)


def wait_for(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


class Interleaved(deque[Any]):
    """A queue that runs :attr:`hook` once, when ``RequestLedger._take`` has counted the
    records it will take: what another thread may do at that very moment (a GIL switch)."""

    hook: Callable[[], None] | None = None

    def __len__(self) -> int:
        size = super().__len__()
        if self.hook is not None and sys._getframe(1).f_code.co_name == "_take":
            hook, self.hook = self.hook, None
            hook()
        return size


def test_two_threads_settling_at_once_take_each_record_once() -> None:
    """Metrics only (below INFO): a request settling a full queue while the metrics'
    flusher settles too; the second taker finds fewer records than it counted."""
    capture(level=4)
    metrics = Metrics()
    ledger = RequestLedger(metrics, None)
    queue = ledger._queue = Interleaved(record(f"id-{number}") for number in range(10))
    queue.hook = ledger.settle  # the other thread takes everything first
    ledger.settle()  # raised IndexError into the request, and lost what it had popped
    assert len(ledger) == 0
    text = metrics.render().decode()
    assert 'envoxy_http_requests_total{method="GET",route="/x",status="200"} 10.0' in text


def test_threads_settling_under_constant_switches_lose_nothing() -> None:
    capture(level=4)
    metrics = Metrics()
    ledger = RequestLedger(metrics, None)
    errors: list[BaseException] = []
    done = threading.Event()

    def settle() -> None:
        try:
            while not done.is_set():
                ledger.settle()
        except BaseException as exc:
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    threads = [threading.Thread(target=settle) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        for number in range(30_000):
            ledger.add(record("id", ended=number * 1_000_000_000))  # a second apart
    finally:
        done.set()
        for thread in threads:
            thread.join(10)
        sys.setswitchinterval(interval)
    assert errors == []
    text = metrics.render().decode()
    assert 'envoxy_http_requests_total{method="GET",route="/x",status="200"} 30000.0' in text


def test_a_record_queued_while_the_flusher_takes_the_queue_is_written_in_time() -> None:
    """The flusher takes the queue; meanwhile a request queues a record: it saw a queue
    that was not empty, so it woke nobody. It must still be written within the deadline,
    without another request to push it out."""
    stream = capture()
    ledger = RequestLedger(None, AccessLines())
    ledger.add(record("id-1"))
    assert wait_for(lambda: ids(stream) == ["id-1"])
    queue = ledger._queue = Interleaved(ledger._queue)
    ledger.add(record("id-2"))
    # same time as the oldest: the request does not settle the queue itself
    queue.hook = lambda: ledger.add(record("id-3", ended=ledger._oldest))
    assert wait_for(lambda: ids(stream) == ["id-1", "id-2", "id-3"], SETTLE_SECONDS * 10)


def test_a_line_of_another_thread_never_takes_records_it_cannot_write() -> None:
    """A filter was added to the logger: the ledger logs each record through the logger
    now, yet it is still a source of Envoxy's batch. A record queued by one thread must
    not be taken (and its line dropped) by another thread's log line meanwhile."""
    stream = capture()
    ledger = RequestLedger(None, AccessLines())
    ledger.add(record("id-1"))  # batched: the ledger becomes a source of the batch
    ENVOXY_LOGGER.handlers[0].flush()
    seen: list[str] = []

    class Keep(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            seen.append(record.getMessage())
            return True

    keep = Keep()
    ENVOXY_LOGGER.addFilter(keep)
    try:
        ledger.add(record("id-2"))  # through the logger, at once
        assert ids(stream) == ["id-1", "id-2"]
        ledger._queue.append(record("id-3"))  # a request between its append and its settle
        log.warning("another thread's line")
        ledger.settle()  # the request goes on
    finally:
        ENVOXY_LOGGER.removeFilter(keep)
    assert sorted(map(str, ids(stream))) == ["None", "id-1", "id-2", "id-3"]
    assert sum(message.startswith("< Response") for message in seen) == 2


def test_a_filter_that_raises_costs_its_line_only(capsys: pytest.CaptureFixture[str]) -> None:
    """The application's filter raises on one access line: that request is still
    answered, its request context is unbound, the other lines are written and the
    failure is reported on stderr."""
    stream = capture()
    app = create_app({"modules": [str(SAMPLE)]})

    class Boom(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if "/v1/items/2 " in record.getMessage():
                raise ValueError("a filter's own bug")
            return True

    boom = Boom()
    ENVOXY_LOGGER.addFilter(boom)
    try:
        client = Client(app)
        for number in (1, 2, 3):
            assert client.get(f"/v1/items/{number}").status_code == 200
            assert current_request_id() is None
    finally:
        ENVOXY_LOGGER.removeFilter(boom)
    paths = [
        json.loads(line)["short_message"].split()[4] for line in stream.getvalue().splitlines()
    ]
    assert paths == ["/v1/items/1", "/v1/items/3"]
    assert "a filter's own bug" in capsys.readouterr().err


def test_a_record_that_cannot_be_rendered_costs_its_line_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stream = capture()
    ledger = RequestLedger(None, AccessLines())
    ended = time.perf_counter_ns()
    ledger.add(record("id-1", ended=ended))
    ledger.add((ended - 1_000_000, ended, "GET", None, 200, "/x", "id-bad"))  # a bug elsewhere
    ledger.add(record("id-3", ended=ended))
    ENVOXY_LOGGER.handlers[0].flush()
    assert ids(stream) == ["id-1", "id-3"]
    assert "Arguments: ('id-bad',)" in capsys.readouterr().err


@pytest.mark.parametrize("second_format", ["json", "pretty"])
def test_logging_reconfigured_while_requests_end_loses_no_line(second_format: str) -> None:
    """configure_logging(force=True) while requests end in other threads: a request
    ending while the old handler is being closed writes its line to the old stream or
    the new one, once (it found no handler at all, and its INFO line was dropped)."""
    old_stream = capture()
    ledger = RequestLedger(None, AccessLines())
    ledger.add(record("id-1"))
    old = ENVOXY_LOGGER.handlers[0]
    old.flush()

    def closing() -> None:
        # a request ends now
        ledger.add(record("id-2", ended=time.perf_counter_ns() + 1_000_000_000))
        type(old).close(old)

    old.close = closing  # type: ignore[method-assign]
    new_stream = io.StringIO()
    configure_logging(6, second_format, stream=new_stream, force=True)
    ledger.add(record("id-3", ended=time.perf_counter_ns() + 2_000_000_000))
    ENVOXY_LOGGER.handlers[0].flush()
    text = old_stream.getvalue() + new_stream.getvalue()
    assert [text.count(f"id-{number}") for number in (1, 2, 3)] == [1, 1, 1], text


def test_logging_reconfigured_under_load_writes_every_line_once() -> None:
    streams = [capture()]
    app = create_app({"modules": [str(SAMPLE)]})
    errors: list[BaseException] = []

    def serve(thread: int) -> None:
        client = Client(app)
        try:
            for number in range(400):
                headers = {"X-Request-ID": f"t{thread}-{number}"}
                assert client.get("/v1/items/1", headers=headers).status_code == 200
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=serve, args=(thread,)) for thread in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
        streams.append(io.StringIO())
        configure_logging(6, "json", stream=streams[-1], force=True)
        time.sleep(0.002)
    for thread in threads:
        thread.join(10)
    ENVOXY_LOGGER.handlers[0].flush()
    assert errors == []
    found = [request_id for stream in streams for request_id in ids(stream)]
    assert len(found) == 1200
    assert len(set(found)) == 1200
