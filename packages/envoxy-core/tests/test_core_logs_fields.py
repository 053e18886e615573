"""Log lines an aggregator can use: ``_request_id``, ``extra`` fields, millisecond time.

Both ways a line is written (the direct path and a LogRecord through the logger) must
give the same fields.
"""

import io
import json
import logging

import pytest

from envoxy.utils.context import RequestContext, bound
from envoxy.utils.log_format import JsonFormatter, gelf_fields
from envoxy.utils.log_setup import (
    configure_logging,
)
from envoxy.utils.logs import log

pytestmark = pytest.mark.usefixtures("clean_logging")  # conftest.py

ENVOXY_LOGGER = logging.getLogger("envoxy")


class _PassAll(logging.Filter):
    """Any filter takes the record path."""

    def filter(self, record: logging.LogRecord) -> bool:
        return True


def capture(log_format: str = "json") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(6, log_format, stream=stream, force=True)
    return stream


EXTRA = {
    "order": 42,
    "ratio": 0.25,
    "user": "bob",
    "ok": True,
    "skipped": None,
    "tags": ["a", "b"],
    "id": 7,
    "api_token": "s3cr3t",
    "note": "Authorization: Bearer abc.def",
    'we"ird\nname': "v",
    "nan": float("nan"),
}
EXPECTED = {
    "_request_id": "req-1",
    "_order": 42,
    "_ratio": 0.25,
    "_user": "bob",
    "_ok": "true",
    "_tags": '["a","b"]',
    "_id_": 7,
    "_api_token": "***",
    "_note": "Authorization: ***",
    "_we_ird_name": "v",
    "_nan": "nan",
}


def _fields(entry: dict[str, object]) -> dict[str, object]:
    return {name: value for name, value in entry.items() if name.startswith("_")}


@pytest.mark.parametrize("via_record", [False, True])
def test_request_id_and_extra_fields_in_json(via_record: bool) -> None:
    stream = capture()
    if via_record:
        ENVOXY_LOGGER.addFilter(_PassAll())
    try:
        with bound(RequestContext("req-1")):
            log.info("stored", extra=EXTRA)
    finally:
        ENVOXY_LOGGER.filters.clear()
    entry = json.loads(stream.getvalue())
    assert _fields(entry) == EXPECTED
    assert "s3cr3t" not in stream.getvalue()


def test_stdlib_logger_extra_gives_the_same_fields() -> None:
    stream = capture()
    extra = {name: value for name, value in EXTRA.items() if name != 'we"ird\nname'}
    with bound(RequestContext("req-1")):
        log.info("stored", extra=extra)
        logging.getLogger("envoxy.app").info("stored", extra=extra)
    direct, recorded = (json.loads(line) for line in stream.getvalue().splitlines())
    assert _fields(direct) == _fields(recorded)
    assert _fields(direct)["_order"] == 42


def test_direct_and_record_paths_agree_on_every_field() -> None:
    stream = capture()
    with bound(RequestContext("req-1")):
        for via_record in (False, True):
            if via_record:
                ENVOXY_LOGGER.addFilter(_PassAll())
            try:
                log.warning("same", extra={"a": 1, "b": "two"})  # one line for both
            finally:
                ENVOXY_LOGGER.filters.clear()
    direct, recorded = (json.loads(line) for line in stream.getvalue().splitlines())
    direct.pop("timestamp"), recorded.pop("timestamp")
    assert direct == recorded


def test_no_request_id_outside_a_request() -> None:
    stream = capture()
    log.info("outside")
    assert "_request_id" not in json.loads(stream.getvalue())


def test_record_request_id_attribute_wins_over_the_context() -> None:
    """A record formatted on another thread (a queue handler) keeps its own id."""
    stream = capture()
    with bound(RequestContext("bound")):
        logging.getLogger("envoxy.q").info("m", extra={"request_id": "from-record"})
    entry = json.loads(stream.getvalue())
    assert entry["_request_id"] == "from-record"
    assert stream.getvalue().count('"_request_id"') == 1


def test_timestamp_has_milliseconds_and_matches_the_record() -> None:
    formatter = JsonFormatter(exec_name="svc", host="h")
    record = logging.makeLogRecord({"msg": "m", "levelno": logging.INFO})
    record.created, record.msecs = 1761662730.0456, 45.0
    entry = json.loads(formatter.format(record))
    assert entry["timestamp"] == 1761662730.045
    assert json.loads(formatter.render(logging.INFO, "/a.py", 1, 5.0, 7, "m"))["timestamp"] == (
        5.007
    )


def test_pretty_line_ends_with_the_fields() -> None:
    stream = capture("pretty")
    with bound(RequestContext("req-9")):
        log.info("hello", extra={"order": 3, "password": "pw"})
    line = stream.getvalue().rstrip("\n")
    assert line.endswith("hello | request_id=req-9 order=3 password=***")


def test_hostile_field_names_and_values_stay_one_json_line() -> None:
    stream = capture()
    hostile = {"a\r\nb": "x\r\ny", "k" * 500: "v", "\u2603": '"}{'}
    log.info("h", extra=hostile)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["_a__b"] == "x\r\ny"
    assert entry["_" + "k" * 64] == "v"
    assert entry["__"] == '"}{'


def test_gelf_fields_names() -> None:
    assert gelf_fields({"request_id": "x", "id": 1, "a.b-c": 2}) == [("_id_", 1), ("_a.b-c", 2)]
