"""LineEmitter and batched lines: the same lines as log.<level>, written together, never lost
at exit, never duplicated by a fork, always before a later unbatched line."""

import json
import logging
import os
import subprocess
import sys
import time

import pytest

from envoxy.utils.log_batch import BATCH_BYTES, BATCH_LINES, BATCH_SECONDS
from envoxy.utils.log_setup import (
    configure_logging,
    reset_logging,
)
from envoxy.utils.logs import LineEmitter, log
from envoxy_testing.logcapture import capture, entries, flush

ENVOXY_LOGGER = logging.getLogger("envoxy")


pytestmark = pytest.mark.usefixtures("clean_logging")  # envoxy_testing.plugin


def message(name: str, number: int) -> str:
    return f"< {name} {number}"


@pytest.mark.parametrize("log_format", ["json", "pretty"])
def test_an_emitter_writes_the_line_log_would_write(log_format: str) -> None:
    stream = capture(log_format=log_format)
    plain, batched = LineEmitter(log.INFO), LineEmitter(log.INFO, batched=True)
    for emit in (plain, batched):
        emit('same line é \u2603 "quoted" \\ tab\t')
    flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    if log_format == "json":
        first, second = json.loads(lines[0]), json.loads(lines[1])
        for entry in (first, second):
            assert entry["short_message"] == 'same line é \u2603 "quoted" \\ tab\t'
            assert entry["level"] == 6
            assert entry["file"].endswith("tests.test_core_log_batch.py")
        assert abs(first.pop("timestamp") - second.pop("timestamp")) <= 1
        assert (first.pop("line"), second.pop("line")) != (None, None)
        assert first == second
    else:
        assert lines[0].split(" ", 1)[1].split("]", 1)[1] == lines[1].split("]", 1)[1]


def test_batched_lines_wait_and_keep_their_time_and_order() -> None:
    stream = capture()
    emit = LineEmitter(log.INFO, batched=True)
    before = time.time()
    for number in range(5):
        emit.later(message, "request", number)
    assert stream.getvalue() == ""  # queued, not built yet
    flush()
    assert [entry["short_message"] for entry in entries(stream)] == [
        f"< request {number}" for number in range(5)
    ]
    assert all(int(before) <= entry["timestamp"] <= time.time() for entry in entries(stream))


def test_an_unbatched_line_writes_the_queued_ones_first() -> None:
    stream = capture()
    emit = LineEmitter(log.INFO, batched=True)
    emit("first")
    emit("second")
    log.warning("third")
    assert [entry["short_message"] for entry in entries(stream)] == ["first", "second", "third"]


def test_each_write_is_at_most_pipe_buf_and_holds_whole_lines() -> None:
    stream = capture()
    emit = LineEmitter(log.INFO, batched=True)
    for number in range(BATCH_LINES * 3):
        emit.later(message, "x" * 150, number)
    flush()
    assert len(stream.writes) >= 3
    assert all(len(text.encode()) <= BATCH_BYTES and text.endswith("\n") for text in stream.writes)
    assert len(entries(stream)) == BATCH_LINES * 3


def test_a_line_longer_than_a_write_goes_alone() -> None:
    stream = capture()
    emit = LineEmitter(log.INFO, batched=True)
    emit("short")
    emit("y" * (BATCH_BYTES * 2))
    emit("short again")
    flush()
    assert [len(entry["short_message"]) for entry in entries(stream)] == [5, BATCH_BYTES * 2, 11]
    assert any(len(text) > BATCH_BYTES for text in stream.writes)


def test_queued_lines_are_written_within_the_batch_delay() -> None:
    stream = capture()
    LineEmitter(log.INFO, batched=True)("soon")
    deadline = time.monotonic() + 2
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [entry["short_message"] for entry in entries(stream)] == ["soon"]


def test_secrets_in_batched_lines_are_redacted() -> None:
    stream = capture()
    LineEmitter(log.INFO, batched=True).later(
        "{} {}".format, "GET /cb?password=hunter2", "Authorization: Bearer abc.def"
    )
    flush()
    text = stream.getvalue()
    assert "hunter2" not in text
    assert "abc.def" not in text


def test_below_the_level_nothing_is_queued_or_built() -> None:
    stream = capture(level=4)
    built: list[int] = []

    def build(number: int) -> str:
        built.append(number)
        return str(number)

    LineEmitter(log.INFO, batched=True).later(build, 1)
    flush()
    assert (stream.getvalue(), built) == ("", [])


def test_with_another_handler_the_line_goes_through_the_logger_at_once() -> None:
    stream = capture()
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    extra = Keep()
    ENVOXY_LOGGER.addHandler(extra)
    try:
        LineEmitter(log.INFO, batched=True).later(message, "now", 1)
    finally:
        ENVOXY_LOGGER.removeHandler(extra)
    assert [record.getMessage() for record in seen] == ["< now 1"]
    assert seen[0].pathname == __file__
    assert [entry["short_message"] for entry in entries(stream)] == ["< now 1"]


def test_a_line_that_cannot_be_built_is_reported_and_the_others_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stream = capture()
    emit = LineEmitter(log.INFO, batched=True)

    def broken() -> str:
        raise ValueError("cannot build")

    emit("before")
    emit.later(broken)
    emit("after")
    flush()
    assert [entry["short_message"] for entry in entries(stream)] == ["before", "after"]
    assert "cannot build" in capsys.readouterr().err


def test_reset_writes_the_queued_lines() -> None:
    stream = capture()
    LineEmitter(log.INFO, batched=True)("queued")
    reset_logging()
    assert [entry["short_message"] for entry in entries(stream)] == ["queued"]


def test_queued_lines_are_written_at_interpreter_exit() -> None:
    code = (
        "from envoxy.utils.log_setup import configure_logging\n"
        "from envoxy.utils.logs import LineEmitter, log\n"
        "configure_logging(6, 'json', force=True)\n"
        "emit = LineEmitter(log.INFO, batched=True)\n"
        "for number in range(3):\n"
        "    emit(f'line {number}')\n"
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ENVOXY_")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=environment
    )
    messages = [json.loads(line)["short_message"] for line in done.stderr.splitlines()]
    assert messages == ["line 0", "line 1", "line 2"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_never_writes_its_parents_queued_lines() -> None:
    read_end, write_end = os.pipe()
    writer = os.fdopen(write_end, "w", buffering=1)
    configure_logging(6, "json", stream=writer, force=True)
    emit = LineEmitter(log.INFO, batched=True)
    emit("parent's")
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            emit("child's")
            logging.getLogger("envoxy").handlers[0].flush()
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    reset_logging()  # the parent writes its line
    writer.close()
    with os.fdopen(read_end, "rb") as reader:
        lines = [json.loads(line) for line in reader.read().decode().splitlines()]
    assert sorted((entry["short_message"], entry["pid"]) for entry in lines) == sorted(
        [("parent's", os.getpid()), ("child's", child)]
    )


def test_the_batch_delay_is_short() -> None:
    assert BATCH_SECONDS <= 0.25


def test_after_fork_forgets_the_queued_lines_and_the_cached_pid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a child forked from C (uWSGI) calls, since Python's at-fork hooks do not run."""
    from envoxy.utils import log_format, process
    from envoxy.utils.logs import after_fork

    stream = capture()
    LineEmitter(log.INFO, batched=True)("the parent's")
    parent = os.getpid()
    assert log_format.current_pid() == parent
    monkeypatch.setattr(process.os, "getpid", lambda: 424242)
    try:
        assert log_format.current_pid() == parent  # cached: a C fork leaves it stale
        after_fork()
        assert log_format.current_pid() == 424242
        LineEmitter(log.INFO, batched=True)("the child's")
        flush()
    finally:
        monkeypatch.undo()
        log_format.forget_process()
    assert [(entry["short_message"], entry["pid"]) for entry in entries(stream)] == [
        ("the child's", 424242)
    ]
