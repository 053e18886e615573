"""Logging: levels, lazy set-up, json and pretty lines, truncation, overrides."""

import io
import json
import logging
import os
import pty
import re
import sys
from pathlib import Path

import pytest

from envoxy.exceptions import ConfigError
from envoxy.utils.config import Config
from envoxy.utils.log_setup import (
    FORMAT_ENV_VAR,
    LEVEL_ENV_VAR,
    EnvoxyStreamHandler,
    configure_logging,
    current_settings,
    reset_logging,
)
from envoxy.utils.logs import TRUNCATION_MARKER, Log, LogStyle, log, truncate_text

JSON_KEYS = {
    "version",
    "host",
    "source",
    "timestamp",
    "level",
    "pid",
    "exec",
    "file",
    "line",
    "short_message",
}
ENVOXY_LOGGER = logging.getLogger("envoxy")

pytestmark = pytest.mark.usefixtures("clean_logging")  # envoxy_testing.plugin


def use_config(tmp_path: Path, document: dict[str, object]) -> None:
    path = tmp_path / "envoxy.json"
    path.write_text(json.dumps(document))
    Config.set_file_path(path)


def capture(level: object = None, log_format: str | None = None) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(level, log_format, stream=stream, force=True)
    return stream


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_levels_are_registered_with_logging() -> None:
    expected = {
        "EMERGENCY": 60,
        "ALERT": 55,
        "CRITICAL": 50,
        "ERROR": 40,
        "WARNING": 30,
        "NOTICE": 25,
        "INFO": 20,
        "DEBUG": 10,
        "TRACE": 5,
        "VERBOSE": 3,
    }
    for name, number in expected.items():
        assert logging.getLevelName(name) == number
        assert logging.getLevelName(number) == name


def test_default_level_is_info() -> None:
    stream = capture()
    log.info("shown")
    log.debug("hidden")
    assert [line["short_message"] for line in json_lines(stream)] == ["shown"]
    assert log.log_level() == 6


@pytest.mark.parametrize(
    ("method", "number"),
    [
        ("emergency", 0),
        ("alert", 1),
        ("critical", 2),
        ("error", 3),
        ("warning", 4),
        ("notice", 5),
        ("info", 6),
        ("debug", 7),
        ("trace", 8),
        ("verbose", 9),
    ],
)
def test_message_is_emitted_when_its_level_is_at_most_the_configured_one(
    method: str, number: int
) -> None:
    for configured in range(10):
        stream = capture(level=configured)
        getattr(log, method)(f"at {number}")
        lines = json_lines(stream)
        if number <= configured:
            assert [(line["level"], line["short_message"]) for line in lines] == [
                (number, f"at {number}")
            ]
        else:
            assert lines == []


def test_system_is_emitted_at_any_level() -> None:
    stream = capture(level=0)
    log.info("hidden")
    log.system("always")
    assert [line["short_message"] for line in json_lines(stream)] == ["always"]


def test_disabled_level_does_not_format_the_message() -> None:
    class Expensive:
        rendered = 0

        def __str__(self) -> str:
            Expensive.rendered += 1
            return "rendered"

    stream = capture(level="info")
    log.debug(Expensive())
    log.verbose(Expensive())
    assert Expensive.rendered == 0
    log.info(Expensive())
    assert Expensive.rendered == 1
    assert json_lines(stream)[0]["short_message"] == "rendered"


def test_json_lines_are_valid_json_with_the_documented_keys() -> None:
    stream = capture(level=9)
    messages = [
        'quotes " and \\ backslashes',
        "two\nlines\r\nand a tab\t",
        "unicode: café ✓ 日本",
        LogStyle.apply("styled", LogStyle.RED_FG),
        "control \x00\x07 characters",
        "{not: json}",
    ]
    for message in messages:
        log.info(message)
    output = stream.getvalue()
    assert "\033" not in output
    lines = json_lines(stream)
    assert len(lines) == len(messages) == len(output.splitlines())
    for line in lines:
        assert set(line) == JSON_KEYS
        assert line["version"] == "1.1"
        assert line["host"] == line["source"]
        # GELF: seconds with millisecond precision
        assert isinstance(line["timestamp"], float)
        assert line["timestamp"] == round(line["timestamp"], 3)
        assert line["pid"] == os.getpid()
        assert line["exec"] == "MainProcess"
    assert [line["short_message"] for line in lines] == [
        messages[0],
        messages[1],
        messages[2],
        "styled",
        messages[4],
        messages[5],
    ]


def test_json_line_names_the_calling_file_and_line() -> None:
    stream = capture()
    log.warning("where am I")
    expected_line = sys._getframe().f_lineno - 1
    (line,) = json_lines(stream)
    assert line["line"] == expected_line
    assert line["file"] == "envoxy-core.tests.test_core_logs.py"


def test_json_line_carries_the_traceback_as_full_message() -> None:
    stream = capture()
    try:
        raise RuntimeError("boom with password=hunter2")
    except RuntimeError:
        log.error("handler failed", exc_info=True)
    (line,) = json_lines(stream)
    assert line["short_message"] == "handler failed"
    assert isinstance(line["full_message"], str)
    assert "Traceback (most recent call last)" in line["full_message"]
    assert "RuntimeError: boom with password=***" in line["full_message"]


def test_exec_is_boot_name_from_config(tmp_path: Path) -> None:
    use_config(tmp_path, {"boot": [{"name": "my-service"}]})
    stream = capture()
    log.info("x")
    assert json_lines(stream)[0]["exec"] == "my-service"


def test_level_and_format_come_from_the_log_section(tmp_path: Path) -> None:
    use_config(tmp_path, {"log": {"level": "debug", "format": "pretty"}})
    stream = capture()
    assert current_settings() is not None
    assert log.log_level() == 7
    assert log.is_format_log_pretty()
    log.debug("visible")
    assert "DEBUG" in stream.getvalue()


def test_dollar_log_section_is_an_alias(tmp_path: Path) -> None:
    use_config(tmp_path, {"$log": {"level": 3}})
    capture()
    assert log.log_level() == 3


def test_debug_flag_sets_level_7_when_log_level_is_absent(tmp_path: Path) -> None:
    use_config(tmp_path, {"debug": True})
    capture()
    assert log.log_level() == 7


def test_environment_overrides_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_config(tmp_path, {"log": {"level": 2, "format": "json"}})
    monkeypatch.setenv(LEVEL_ENV_VAR, "TRACE")
    monkeypatch.setenv(FORMAT_ENV_VAR, "pretty")
    capture()
    assert log.log_level() == 8
    assert log.is_format_log_pretty()


def test_invalid_environment_level_is_a_config_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(LEVEL_ENV_VAR, "loud")
    with pytest.raises(ConfigError, match=f"{LEVEL_ENV_VAR} must be 0-9"):
        configure_logging(force=True)


def test_invalid_format_is_a_config_error_naming_the_setting(tmp_path: Path) -> None:
    use_config(tmp_path, {"log": {"format": "xml"}})
    with pytest.raises(ConfigError, match=r"log\.format must be one of json, pretty"):
        configure_logging(force=True)


def test_broken_configuration_does_not_break_logging(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "envoxy.json"
    path.write_text("{broken")
    Config.set_file_path(path)
    log.info("still logged")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert "logging uses its defaults" in str(lines[0]["short_message"])
    assert str(path) in str(lines[0]["short_message"])
    assert lines[1]["short_message"] == "still logged"


def test_handler_is_added_lazily_on_first_emit(capsys: pytest.CaptureFixture[str]) -> None:
    assert not ENVOXY_LOGGER.handlers
    root_handlers = list(logging.getLogger().handlers)
    log.info("first")
    log.info("second")
    handlers = ENVOXY_LOGGER.handlers
    assert len(handlers) == 1
    assert isinstance(handlers[0], EnvoxyStreamHandler)
    assert ENVOXY_LOGGER.propagate is False
    assert logging.getLogger().handlers == root_handlers
    err = capsys.readouterr().err
    assert [json.loads(line)["short_message"] for line in err.splitlines()] == ["first", "second"]


def test_application_handler_is_kept_and_none_is_added() -> None:
    received: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            received.append(record)

    handler = Collect()
    ENVOXY_LOGGER.addHandler(handler)
    try:
        log.notice("to the application")
        assert ENVOXY_LOGGER.handlers == [handler]
        assert ENVOXY_LOGGER.propagate is True
        assert [(r.levelname, r.getMessage()) for r in received] == [
            ("NOTICE", "to the application")
        ]
    finally:
        ENVOXY_LOGGER.removeHandler(handler)


def test_reset_restores_the_logger() -> None:
    capture()
    reset_logging()
    assert ENVOXY_LOGGER.handlers == []
    assert ENVOXY_LOGGER.propagate is True
    assert ENVOXY_LOGGER.level == logging.NOTSET


def test_child_logger_records_use_the_same_format() -> None:
    stream = capture()
    logging.getLogger("envoxy.orm").warning("from %s", "a child")
    (line,) = json_lines(stream)
    assert line["level"] == 4
    assert line["short_message"] == "from a child"


def test_pretty_line_layout_without_colour_off_a_terminal() -> None:
    stream = capture(level=6, log_format="pretty")
    log.info(LogStyle.apply("hello", LogStyle.GREEN_FG))
    line_number = sys._getframe().f_lineno - 1
    output = stream.getvalue()
    assert "\033" not in output
    pattern = (
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO      "
        rf"\[envoxy-core\.tests\.test_core_logs\.py:{line_number}\] hello\n"
    )
    assert re.fullmatch(pattern, output)


def test_pretty_is_coloured_on_a_terminal() -> None:
    primary, secondary = pty.openpty()
    with os.fdopen(secondary, "w") as terminal:
        configure_logging(6, "pretty", stream=terminal, force=True)
        log.error("red alert")
        terminal.flush()
        output = os.read(primary, 4096).decode()
    os.close(primary)
    assert LogStyle.generate(LogStyle.ERROR) in output
    assert "red alert" in output


def test_pretty_lines_are_redacted() -> None:
    stream = capture(log_format="pretty")
    log.info("connecting to redis://:hunter2@cache:6379/1")
    assert "hunter2" not in stream.getvalue()
    assert "redis://:***@cache:6379/1" in stream.getvalue()


def test_json_lines_are_redacted() -> None:
    stream = capture()
    log.info('headers {"Authorization": "Bearer abc.def.ghi", "X": "1"} token=xyz')
    (line,) = json_lines(stream)
    assert line["short_message"] == 'headers {"Authorization": "***", "X": "1"} token=***'


@pytest.mark.parametrize(
    ("level", "expected"),
    [(6, True), (b"\x06", True), (Log.INFO, True), (7, False), (Log.DEBUG, False), (0, True)],
)
def test_is_gte_log_level_accepts_ints_and_bytes(level: int | bytes, expected: bool) -> None:
    capture(level=6)
    assert log.is_gte_log_level(level) is expected


@pytest.mark.parametrize("level", [10, -1, b"\x0a", b"", "6"])
def test_is_gte_log_level_rejects_other_values(level: object) -> None:
    with pytest.raises(ValueError, match="log level must be 0-9"):
        log.is_gte_log_level(level)  # type: ignore[arg-type]


def test_truncation_keeps_first_and_last_halves() -> None:
    text = "\n".join(f"line {n}" for n in range(10))
    assert truncate_text(text, 4).split("\n") == [
        "line 0",
        "line 1",
        TRUNCATION_MARKER,
        "line 8",
        "line 9",
    ]
    assert truncate_text(text, 10) == text
    assert truncate_text(text, None) == text
    assert truncate_text(["a", "b", "c"], 2) == f"a\n{TRUNCATION_MARKER}\nc"


def test_info_truncates_to_100_lines_by_default() -> None:
    stream = capture()
    log.info("\n".join(str(n) for n in range(150)))
    lines = str(json_lines(stream)[0]["short_message"]).split("\n")
    assert len(lines) == 101
    assert lines[49:52] == ["49", TRUNCATION_MARKER, "100"]


def test_error_does_not_truncate_by_default() -> None:
    stream = capture()
    log.error("\n".join(str(n) for n in range(150)))
    assert TRUNCATION_MARKER not in stream.getvalue()
