"""The direct line path: same lines as the record path, redacted, flushed, fork-aware."""

import io
import json
import logging
import os
import select
import sys

import pytest

from envoxy.utils.log_format import JsonFormatter, PrettyFormatter
from envoxy.utils.log_setup import (
    EnvoxyStreamHandler,
    configure_logging,
    direct_handler,
    reset_logging,
)
from envoxy.utils.logs import log

ENVOXY_LOGGER = logging.getLogger("envoxy")

pytestmark = pytest.mark.usefixtures("clean_logging")  # envoxy_testing.plugin


def capture(log_format: str = "json") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(6, log_format, stream=stream, force=True)
    return stream


class _PassAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return True


def test_envoxy_handler_alone_takes_the_direct_path() -> None:
    capture()
    assert isinstance(direct_handler(ENVOXY_LOGGER, logging.INFO), EnvoxyStreamHandler)


def test_a_filter_or_second_handler_forces_the_record_path() -> None:
    capture()
    passing = _PassAll()
    ENVOXY_LOGGER.addFilter(passing)
    try:
        assert direct_handler(ENVOXY_LOGGER, logging.INFO) is None
    finally:
        ENVOXY_LOGGER.removeFilter(passing)
    extra = logging.NullHandler()
    ENVOXY_LOGGER.addHandler(extra)
    try:
        assert direct_handler(ENVOXY_LOGGER, logging.INFO) is None
    finally:
        ENVOXY_LOGGER.removeHandler(extra)


@pytest.mark.parametrize("log_format", ["json", "pretty"])
def test_direct_and_record_paths_write_the_same_line(log_format: str) -> None:
    stream = capture(log_format)
    passing = _PassAll()
    for via_record in (False, True):
        if via_record:
            ENVOXY_LOGGER.addFilter(passing)
        try:
            log.info('same line é \u2603 "quoted" \\ tab\t')  # one source line for both
        finally:
            ENVOXY_LOGGER.removeFilter(passing)
    direct, recorded = stream.getvalue().splitlines()
    if log_format == "json":
        direct_entry, recorded_entry = json.loads(direct), json.loads(recorded)
        assert abs(int(direct_entry.pop("timestamp")) - int(recorded_entry.pop("timestamp"))) <= 1
        assert direct_entry == recorded_entry
        assert direct_entry["short_message"] == 'same line é \u2603 "quoted" \\ tab\t'
    else:
        assert direct.split(" ", 1)[1] == recorded.split(" ", 1)[1]


def test_direct_json_line_names_the_real_caller() -> None:
    stream = capture()
    expected_line = sys._getframe().f_lineno + 1
    log.info("where")
    entry = json.loads(stream.getvalue())
    assert entry["line"] == expected_line
    assert entry["file"].endswith("tests.test_core_logs_direct.py")


@pytest.mark.parametrize("log_format", ["json", "pretty"])
def test_secret_on_the_direct_path_is_redacted(log_format: str) -> None:
    stream = capture(log_format)
    # "Name: value" masks the rest of the line, so the header comes last
    log.info("password=hunter2 postgresql://u:pw@db/x Authorization: Bearer abc.def")
    text = stream.getvalue()
    for secret in ("abc.def", "hunter2", ":pw@"):
        assert secret not in text
    assert text.count("***") == 3


def test_non_string_message_is_converted_like_get_message() -> None:
    stream = capture()
    log.info({"token": "abc"})
    entry = json.loads(stream.getvalue())
    assert entry["short_message"] == "{'token': '***'}"


def test_each_line_is_flushed_to_a_block_buffered_pipe() -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as reader, os.fdopen(write_end, "w", buffering=8192) as writer:
        configure_logging(6, "json", stream=writer, force=True)
        log.info("first")
        log.info("second")
        assert select.select([reader], [], [], 5)[0]
        received = os.read(read_end, 65536).decode()
        lines = received.splitlines()
        assert [json.loads(line)["short_message"] for line in lines] == ["first", "second"]
        reset_logging()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
# an earlier test's batched lines may have left their flusher thread finishing
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_reports_its_own_pid() -> None:
    read_end, write_end = os.pipe()
    writer = os.fdopen(write_end, "w", buffering=1)
    configure_logging(6, "json", stream=writer, force=True)
    log.info("parent")  # the parent's pid is now cached
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            log.info("child")
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    writer.close()
    with os.fdopen(read_end, "rb") as reader:
        entries = [json.loads(line) for line in reader.read().decode().splitlines()]
    assert [(entry["short_message"], entry["pid"]) for entry in entries] == [
        ("parent", os.getpid()),
        ("child", child),
    ]


def test_pretty_time_changes_with_the_second() -> None:
    formatter = PrettyFormatter()
    first = formatter.render(logging.INFO, "/a/b/c.py", 1, 0.0, 5, "m")
    second = formatter.render(logging.INFO, "/a/b/c.py", 1, 86400.0, 7, "m")
    again = formatter.render(logging.INFO, "/a/b/c.py", 1, 0.0, 5, "m")
    assert first.startswith("1970-01-01T00:00:00.005Z INFO ")
    assert second.startswith("1970-01-02T00:00:00.007Z INFO ")
    assert again == first


def test_json_render_escapes_host_and_exec() -> None:
    formatter = JsonFormatter(exec_name='svc "a"', host="h\u00e9st")
    entry = json.loads(formatter.render(logging.WARNING, "/w/x/y.py", 3, 10.9, 900, "hi"))
    assert entry["host"] == entry["source"] == "h\u00e9st"
    assert entry["exec"] == 'svc "a"'
    assert (entry["timestamp"], entry["level"], entry["file"]) == (10.9, 4, "w.x.y.py")
