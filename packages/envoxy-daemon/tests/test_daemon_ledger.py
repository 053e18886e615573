"""The request ledger: one record per finished request, settled in batches into the access
lines and the HTTP metrics; every record counted and written exactly once, in order,
in time, by the right process, with the same line the formatter writes field by field."""

import io
import json
import logging
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from envoxy.daemon.app import create_app
from envoxy.daemon.ledger import SETTLE_RECORDS, SETTLE_SECONDS, RequestLedger
from envoxy.daemon.metrics import Metrics
from envoxy.daemon.reqlog import AccessLines, _access_message
from envoxy.utils.log_batch import BATCH_BYTES
from envoxy.utils.log_setup import configure_logging
from envoxy.utils.logs import log
from envoxy_testing.logcapture import capture, entries, flush

SAMPLE = Path(__file__).with_name("views_sample.py")
ENVOXY_LOGGER = logging.getLogger("envoxy")

pytestmark = pytest.mark.usefixtures("clean_logging")  # envoxy_testing.plugin


def record(number: int, path: str = "/v1/items/1", **changes: Any) -> tuple[Any, ...]:
    """A finished request; all end at the same time unless ``ended`` is given (records
    further apart than SETTLE_SECONDS are settled as they come)."""
    values = {
        "started": 1_000_000_000_000 - 1_230_000,  # perf_counter_ns values
        "ended": 1_000_000_000_000,
        "method": "GET",
        "path": path,
        "status": 200,
        "route": "/v1/items/{id}",
        "request_id": f"req-{number}",
    }
    values.update(changes)
    return tuple(values.values())


def rendered_as_the_formatter_would(records: list[tuple[Any, ...]]) -> list[str]:
    """Render ``records`` as the ledger does (from cached pieces), check each line equals
    the one the formatter renders field by field (same escaping, redaction, timestamp
    and request id), and that rendering writes nothing; return the lines."""
    stream = capture()
    access = AccessLines()
    handler = access.handler()
    assert handler is not None
    offset = time.time() - time.perf_counter_ns() / 1e9
    fast = access.render(records, handler)
    render = handler.formatter.bind(logging.INFO, access.pathname, access.lineno)  # type: ignore[union-attr]
    for line, (started, ended, method, path, status, _route, request_id) in zip(
        fast, records, strict=True
    ):
        # the table rounds half up, the format half even: compare the duration apart
        message = _access_message(method, path, status, round((ended - started) / 1e6, 2))
        parsed = json.loads(line)
        wanted = json.loads(render(message, ended / 1e9 + offset, request_id))
        assert abs(parsed.pop("timestamp") - wanted.pop("timestamp")) < 0.002
        assert parsed == wanted
    assert stream.getvalue() == ""
    return fast


HOSTILE_PATHS = [
    "/v1/items/1",
    '/quote"and\\backslash',
    "/ünïcode/パス",
    "/ctl/\x1b[31mred\x1b[0m/\x07",
    "/password=hunter2",
    "/x/token:abc123/y",
    "/auth/Bearer abc.def.ghi",
    "/u/https://user:pw@host/",
    "/card/4111111111111111",
    '/q/password="a b"',
    "/x/password:",
    "/" + "a" * 5000,
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_the_fast_line_is_the_line_the_formatter_writes(path: str) -> None:
    """The access line assembled from cached pieces equals the line rendered field by
    field (same escaping, redaction, timestamp and request id), for hostile paths."""
    ended = time.perf_counter_ns()
    records = [
        (ended - elapsed, ended, method, path, status, "/r", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
        for method in ("GET", "M\x00X")
        for status in (200, 599)
        for elapsed in (0, 4_200, 3_100_000, 12_345_600, 7_500_000_000)  # nanoseconds
    ]
    fast = rendered_as_the_formatter_would(records)
    assert "hunter2" not in "".join(fast)
    assert "abc123" not in "".join(fast)


def test_a_batch_of_mixed_requests_across_seconds_renders_each_line_right() -> None:
    """Consecutive records share a key most of the time, which the renderer and the
    counter compare instead of looking up: records whose method, path or status differs
    from the previous one's (equal text in new string objects included), ending in three
    different seconds, each get their own line and count."""
    now = time.perf_counter_ns()
    kinds = [
        ("GET", "/a", 200, "/a"),
        ("GET", "/a", 404, "/a"),
        ("POST", "/a", 200, "/a"),
        ("GET", "/b", 200, "/b"),
        ("GET", "/" + "b", 200, "/b"),  # equal to the previous in a new string
        ("GET", "/a" + "a" * 300, 200, "/a"),  # too long to be cached
    ]
    chooser = random.Random(7)
    records = []
    for number in range(600):
        method, path, status, route = chooser.choice(kinds[:3] if number % 50 < 25 else kinds)
        ended = now - 2_500_000_000 + number * 9_000_000  # 5.4 s: three seconds or more
        elapsed = chooser.choice([0, 41_000, 9_990_000, 12_345_678])
        records.append((ended - elapsed, ended, method, path, status, route, f"id-{number}"))
    rendered_as_the_formatter_would(records)  # one line each (zip is strict)

    metrics = Metrics()
    metrics.count_requests(records)
    counted = Counter((route, method, status) for _, _, method, _, status, route, _ in records)
    text = metrics.render().decode()
    for (route, method, status), number in counted.items():
        labels = f'method="{method}",route="{route}",status="{status}"'
        assert f"envoxy_http_requests_total{{{labels}}} {float(number)}" in text


def test_every_record_is_counted_and_written_once_under_threads() -> None:
    """8 threads answer 250 requests each through one app: one access line and one count
    per request, none lost or doubled by concurrent settling."""
    stream = capture()
    app = create_app({"modules": [str(SAMPLE)]})
    assert app.ledger is not None
    assert app.metrics is not None
    before = _count(app.metrics, "/v1/items/{item_id:int}")
    errors: list[BaseException] = []

    def serve() -> None:
        client = Client(app)
        try:
            for _ in range(250):
                assert client.get("/v1/items/3").status_code == 200
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=serve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    app.metrics.flush()
    flush()
    ids = [entry["_request_id"] for entry in entries(stream)]
    assert len(ids) == 2000
    assert len(set(ids)) == 2000
    assert _count(app.metrics, "/v1/items/{item_id:int}") - before == 2000
    assert len(app.ledger) == 0


def test_records_are_settled_in_batches_and_within_the_deadline() -> None:
    stream = capture()
    ledger = RequestLedger(None, AccessLines())
    for number in range(SETTLE_RECORDS - 1):
        ledger.add(record(number, ended=time.perf_counter_ns()))
    assert stream.writes == []  # queued, not yet written
    ledger.add(record(99, ended=time.perf_counter_ns()))
    ledger.add(record(100, ended=time.perf_counter_ns()))  # the full queue is settled first
    assert len(entries(stream)) == SETTLE_RECORDS
    deadline = time.monotonic() + SETTLE_SECONDS + 2
    while len(entries(stream)) < SETTLE_RECORDS + 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    # the last one by the flusher thread, within SETTLE_SECONDS (and some scheduling)
    assert [entry["_request_id"] for entry in entries(stream)][-1] == "req-100"


def test_another_line_waits_for_the_queued_access_lines() -> None:
    stream = capture()
    ledger = RequestLedger(None, AccessLines())
    ledger.add(record(1))
    ledger.add(record(2))
    log.warning("after the requests")
    assert [entry["short_message"][:20] for entry in entries(stream)] == [
        "< Response [HTTP] GE",
        "< Response [HTTP] GE",
        "after the requests",
    ]
    assert [entry.get("_request_id") for entry in entries(stream)] == ["req-1", "req-2", None]


def test_metrics_only_records_are_counted_at_the_flush() -> None:
    capture(level=4)  # no access lines
    metrics = Metrics()
    ledger = RequestLedger(metrics, None)
    for number in range(5):
        ledger.add(record(number))
    assert len(ledger) == 5  # not yet counted
    text = metrics.render().decode()
    assert len(ledger) == 0
    assert 'envoxy_http_requests_total{method="GET",route="/v1/items/{id}",status="200"} 5.0' in (
        text
    )


def test_with_other_handlers_each_line_goes_through_the_logger_with_its_own_id() -> None:
    """A filter on the logger: no batching, each access line is a record of its own
    request (id and time), written when the request ends."""
    stream = capture()
    seen: list[logging.LogRecord] = []

    class Keep(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            seen.append(record)
            return True

    keep = Keep()
    ENVOXY_LOGGER.addFilter(keep)
    try:
        ledger = RequestLedger(None, AccessLines())
        ledger.add(record(1, ended=time.perf_counter_ns() - 3_000_000_000))
        assert len(ledger) == 0
        assert len(seen) == 1
        assert seen[0].getMessage().startswith("< Response [HTTP] GET /v1/items/1 - 200 (")
        assert abs(seen[0].created - (time.time() - 3.0)) < 0.5
        assert entries(stream)[0]["_request_id"] == "req-1"
    finally:
        ENVOXY_LOGGER.removeFilter(keep)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_drops_the_parents_records() -> None:
    stream = capture()
    ledger = RequestLedger(None, AccessLines())
    ledger.add(record(1))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: nothing inherited to write
        os.write(write, str(len(ledger)).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"0"
    os.close(read)
    os.close(write)
    flush()
    assert [entry["_request_id"] for entry in entries(stream)] == ["req-1"]


def test_queued_lines_are_written_at_exit() -> None:
    script = f"""
import sys
sys.path.insert(0, {str(SAMPLE.parent)!r})
from envoxy.utils.log_setup import configure_logging
configure_logging(6, "json", force=True)
from envoxy.daemon.ledger import RequestLedger
from envoxy.daemon.reqlog import AccessLines
ledger = RequestLedger(None, AccessLines())
for number in range(5):
    ledger.add((1_000_000, 2_000_000, "GET", "/exit", 200, "/exit", f"id-{{number}}"))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    ids = [json.loads(line)["_request_id"] for line in done.stderr.splitlines()]
    assert ids == [f"id-{number}" for number in range(5)]


def test_a_pipe_gets_atomic_pieces_and_a_file_one_write(tmp_path: Path) -> None:
    """Lines shared with other processes through a pipe are written PIPE_BUF at a time, never
    a line cut; a regular file takes the batch in one write."""
    read, write = os.pipe()
    with os.fdopen(write, "w") as pipe_stream:
        configure_logging(6, "json", stream=pipe_stream, force=True)
        ledger = RequestLedger(None, AccessLines())
        for number in range(SETTLE_RECORDS):
            ledger.add(record(number, path="/" + "p" * 200))
        flush()
    with os.fdopen(read) as pipe_read:
        lines = pipe_read.read().splitlines()
    assert len(lines) == SETTLE_RECORDS
    assert all(json.loads(line) for line in lines)

    pieces: list[int] = []
    file_stream = open(tmp_path / "log", "w")  # noqa: SIM115 - closed below
    real_write = file_stream.write
    try:
        configure_logging(6, "json", stream=file_stream, force=True)
        handler = ENVOXY_LOGGER.handlers[0]
        assert handler._piece_bytes() is None  # type: ignore[attr-defined]
        file_stream.write = lambda text: pieces.append(len(text)) or real_write(text)  # type: ignore[method-assign,func-returns-value]
        ledger = RequestLedger(None, AccessLines())
        for number in range(SETTLE_RECORDS):
            ledger.add(record(number, path="/" + "p" * 200))
        flush()
    finally:
        file_stream.close()
    assert len(pieces) == 1
    assert pieces[0] > BATCH_BYTES


def test_piece_limit_of_a_pipe_holds_for_every_write() -> None:
    stream = capture()  # a StringIO: of unknown kind, so written as to a pipe
    ledger = RequestLedger(None, AccessLines())
    for number in range(SETTLE_RECORDS * 2):
        ledger.add(record(number, path="/" + "q" * 300))
    flush()
    assert len(stream.writes) > 2
    assert all(len(text.encode()) <= BATCH_BYTES for text in stream.writes)
    assert all(text.endswith("\n") for text in stream.writes)
    assert len(entries(stream)) == SETTLE_RECORDS * 2


def _count(metrics: Metrics, route: str) -> float:
    text = metrics.render().decode()
    prefix = f'envoxy_http_requests_total{{method="GET",route="{route}",status="200"}} '
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return 0.0


def test_an_idle_flusher_waits_without_polling() -> None:
    """With nothing queued the flusher thread waits on its event: no wake-up every 0.1 s
    and no lock taken (a fork from C while it held the handler's lock would leave it
    held in the child)."""
    import sys

    stream = capture()
    ledger = RequestLedger(None, AccessLines())
    ledger.add(record(1))
    deadline = time.monotonic() + SETTLE_SECONDS + 2
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert entries(stream)[0]["_request_id"] == "req-1"
    time.sleep(SETTLE_SECONDS * 3)
    flushers = [
        thread
        for thread in threading.enumerate()
        if thread.name == "envoxy-log-batch" and thread.is_alive()
    ]
    assert flushers
    for thread in flushers:
        frame = sys._current_frames()[thread.ident]  # type: ignore[index]
        assert frame.f_code.co_name == "wait", frame.f_code.co_name


def test_a_broken_log_stream_never_fails_a_request(capsys: pytest.CaptureFixture[str]) -> None:
    """A log stream whose writes fail (a full disk, a closed pipe): the requests are
    answered, the failure is reported once per batch through the handler, the metrics
    still count every request."""

    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    configure_logging(6, "json", stream=Broken(), force=True)
    app = create_app({"modules": [str(SAMPLE)]})
    assert app.metrics is not None
    before = _count(app.metrics, "/v1/items/{item_id:int}")
    client = Client(app)
    for _ in range(300):
        assert client.get("/v1/items/3").status_code == 200
    app.metrics.flush()
    flush()
    assert _count(app.metrics, "/v1/items/{item_id:int}") - before == 300
    assert "No space left on device" in capsys.readouterr().err


def test_hostile_paths_cannot_grow_the_cached_texts() -> None:
    """A client choosing a new long path per request: nothing of it is kept; short ones
    are kept up to a bound."""
    capture()
    access = AccessLines()
    handler = access.handler()
    assert handler is not None
    long_paths = [record(n, path=f"/{n}/" + "x" * 10_000) for n in range(200)]
    assert len(access.render(long_paths, handler)) == 200
    assert access._middles == {}
    short_paths = [record(n, path=f"/{n}") for n in range(5000)]
    assert len(access.render(short_paths, handler)) == 5000
    assert 0 < len(access._middles) <= 1024
