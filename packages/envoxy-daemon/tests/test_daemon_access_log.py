"""Request logging in-process (SPEC §6.6): one access line per request at INFO, the request
line at DEBUG, refused requests included, paths that cannot forge or hide a line."""

import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, create_environ, run_wsgi_app

from envoxy.daemon.app import create_app
from envoxy.utils.log_setup import (
    configure_logging,
)

SAMPLE = Path(__file__).with_name("views_sample.py")
ACCESS = re.compile(r"^< Response \[HTTP\] (\S+) (.+) - (\d{3}) \((\d+\.\d\d) ms\)$")


pytestmark = pytest.mark.usefixtures("clean_logging")  # envoxy_testing.plugin


def serve(level: int, log_format: str = "json") -> tuple[Client, io.StringIO]:
    stream = io.StringIO()
    configure_logging(level, log_format, stream=stream, force=True)
    return Client(create_app({"modules": [str(SAMPLE)]})), stream


def messages(stream: io.StringIO) -> list[str]:
    for handler in logging.getLogger("envoxy").handlers:
        handler.flush()  # the access lines are written in batches
    return [json.loads(line)["short_message"] for line in stream.getvalue().splitlines()]


def access_lines(stream: io.StringIO) -> list[tuple[str, ...]]:
    found = [ACCESS.match(text) for text in messages(stream)]
    return [match.groups()[:3] for match in found if match]


def test_info_writes_one_access_line_per_request_and_no_request_line() -> None:
    client, stream = serve(6)
    assert client.get("/v1/items/7?code=MKSECRET").status_code == 200
    assert client.get("/nope").status_code == 404
    assert client.post("/v1/items/7").status_code == 405
    assert client.head("/v1/items/7").status_code == 200
    assert access_lines(stream) == [
        ("GET", "/v1/items/7", "200"),
        ("GET", "/nope", "404"),
        ("POST", "/v1/items/7", "405"),
        ("HEAD", "/v1/items/7", "200"),
    ]
    text = stream.getvalue()
    assert "> Request" not in text
    assert "MKSECRET" not in text  # the query is not in the access line


def test_debug_adds_the_request_line_with_the_query_redacted() -> None:
    client, stream = serve(7)
    client.get("/v1/items/7?code=MKSECRET&q=visible")
    found = messages(stream)
    assert "> Request [HTTP] GET /v1/items/7?code=***&q=visible" in found
    assert [line for line in found if line.startswith("< Response")] != []
    assert "MKSECRET" not in stream.getvalue()


def test_warning_writes_no_request_logging() -> None:
    client, stream = serve(4)
    client.get("/v1/items/7")
    assert [text for text in messages(stream) if "[HTTP]" in text] == []


def test_a_refused_request_has_its_access_line() -> None:
    client, stream = serve(6)
    app = client.application
    environ = create_environ("/v1/items/7")
    environ["PATH_INFO"] = "/v1/items/\x00"
    _, status, _ = run_wsgi_app(app, environ)
    assert status.startswith("400")
    assert access_lines(stream) == [("GET", "/v1/items/\\x00", "400")]


@pytest.mark.parametrize("log_format", ["json", "pretty"])
def test_a_path_cannot_forge_a_log_line(log_format: str) -> None:
    client, stream = serve(7, log_format)
    client.get("/v1/items/1%0A%7B%22level%22%3A0%7D%0D%1B[31m%E2%80%A8x")
    for handler in logging.getLogger("envoxy").handlers:
        handler.flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3  # the request line, the 404 warning, the access line
    assert all("\r" not in line and "\x1b" not in line and "\u2028" not in line for line in lines)
    if log_format == "json":
        assert all(json.loads(line)["level"] in (4, 6, 7) for line in lines)


def test_an_error_answer_keeps_the_order_of_its_lines() -> None:
    client, stream = serve(6)
    client.get("/v1/items/7")
    client.get("/v1/boom")
    found = messages(stream)
    assert found[0].startswith("< Response [HTTP] GET /v1/items/7 - 200")
    assert found[1].startswith("ELRC(")  # the 500 is logged before its access line
    assert found[2].startswith("< Response [HTTP] GET /v1/boom - 500")


def test_the_access_line_times_the_whole_request() -> None:
    client, stream = serve(6)
    client.get("/v1/slow?seconds=0.06")
    (line,) = [text for text in messages(stream) if "/v1/slow" in text]
    match = ACCESS.match(line)
    assert match is not None
    assert float(match.group(4)) >= 55  # the view sleeps 0.06 s


def test_an_access_line_is_written_for_every_request_of_a_burst() -> None:
    client, stream = serve(6)
    for number in range(200):
        client.get(f"/v1/items/{number}")
    paths: list[Any] = [groups[1] for groups in access_lines(stream)]
    assert paths == [f"/v1/items/{number}" for number in range(200)]


@pytest.mark.integration
def test_workers_write_their_own_pid_after_the_master_logged(
    write_config: Any, start_envoxyd: Any
) -> None:
    """uWSGI forks without Python's at-fork hooks: a pid cached by the master's own lines
    (the unknown-key warning) must not be the pid of the workers' access lines."""
    config = write_config(
        {"modules": [str(SAMPLE)], "log": {"level": 6}, "log_levels": "a typo the master logs"}
    )
    daemon = start_envoxyd("--set", f"conf={config}", "--processes", "2")
    for number in range(20):
        assert daemon.get(f"/v1/items/{number}")[0] == 200
    assert daemon.stop() == 0
    entries = [json.loads(line) for line in daemon.log().splitlines() if line[:1] == "{"]
    (master,) = {entry["pid"] for entry in entries if "unknown key" in entry["short_message"]}
    workers = {entry["pid"] for entry in entries if entry["short_message"].startswith("< Response")}
    assert len([e for e in entries if e["short_message"].startswith("< Response")]) >= 20
    assert workers
    assert master not in workers
