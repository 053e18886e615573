"""The request id of each HTTP request, its log lines, and the in-process metrics.

In-process through werkzeug's test Client (one process: the metrics live in memory).
"""

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from envoxy.daemon.app import create_app
from envoxy.daemon.metrics import get_metrics
from envoxy.utils.config import Config
from envoxy.utils.log_setup import configure_logging, reset_logging

SAMPLE = Path(__file__).with_name("views_sample.py")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    for name in ("ENVOXY_LOG_LEVEL", "ENVOXY_LOG_FORMAT", "ENVOXY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    previous = Config.file_path
    Config.set_file_path(None)
    # a handler or a disabled flag left on the envoxy logger by an earlier test (or a
    # library's logging.config call) would keep Envoxy's handler out
    logger = logging.getLogger("envoxy")
    handlers, disabled = logger.handlers[:], logger.disabled
    logger.handlers.clear()
    logger.disabled = False
    reset_logging()
    stream = io.StringIO()
    configure_logging(6, "json", stream=stream, force=True)
    yield stream
    reset_logging()
    logger.handlers[:] = handlers
    logger.disabled = disabled
    Config.set_file_path(previous)


@pytest.fixture
def client(lines: io.StringIO) -> Client:
    return Client(create_app({"modules": [str(SAMPLE)]}))


def entries(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_incoming_request_id_is_echoed_and_in_every_line(
    client: Client, lines: io.StringIO
) -> None:
    answer = client.get("/v1/items/7", headers={"X-Request-ID": "req-abc.1"})
    assert answer.headers["X-Request-ID"] == "req-abc.1"
    logged = entries(lines)
    assert [entry["short_message"] for entry in logged][-1].startswith("< Response [HTTP] GET")
    assert {entry.get("_request_id") for entry in logged} == {"req-abc.1"}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Cid": "cid-1"}, "cid-1"),
        ({"X-Request-ID": "rid", "X-Cid": "cid-1"}, "rid"),
        ({"traceparent": TRACEPARENT}, "4bf92f3577b34da6a3ce929d0e0e4736"),
    ],
)
def test_x_cid_and_traceparent_give_the_id(
    client: Client, headers: dict[str, str], expected: str
) -> None:
    assert client.get("/v1/items/1", headers=headers).headers["X-Request-ID"] == expected


@pytest.mark.parametrize(
    "hostile",
    ["x" * 10_240, 'quo"te', "back\\slash", "a b", "caf\u00e9".encode().decode("latin-1")],
)
def test_hostile_request_id_is_replaced(client: Client, lines: io.StringIO, hostile: str) -> None:
    answer = client.get("/v1/items/1", headers={"X-Request-ID": hostile})
    echoed = answer.headers["X-Request-ID"]
    assert UUID.fullmatch(echoed)
    assert hostile not in lines.getvalue()
    assert {entry.get("_request_id") for entry in entries(lines)} == {echoed}


def test_each_request_gets_its_own_id_and_errors_carry_it(
    client: Client, lines: io.StringIO
) -> None:
    first = client.get("/v1/items/1").headers["X-Request-ID"]
    second = client.get("/v1/boom").headers["X-Request-ID"]
    missing = client.get("/nope").headers["X-Request-ID"]
    assert len({first, second, missing}) == 3
    error_lines = [entry for entry in entries(lines) if entry["level"] == 3]
    assert error_lines
    assert {entry["_request_id"] for entry in error_lines} == {second}


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        if not labels and line.startswith(f"{name} "):
            return float(line.rsplit(" ", 1)[1])
        if line.startswith(f"{name}{{") and _labels(line) == wanted:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _labels(line: str) -> str:
    inside = line[line.index("{") + 1 : line.rindex("}")]
    return ",".join(sorted(inside.split(",")))


def test_metrics_count_by_route_template_method_and_status(client: Client) -> None:
    before = client.get("/_metrics").get_data(as_text=True)
    for item in range(5):
        client.get(f"/v1/items/{item}")
    client.get("/v1/boom")
    client.get("/nope/1")
    client.get("/nope/2")
    client.open("/v1/items/1", method="BREW")
    answer = client.get("/_metrics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    after = answer.get_data(as_text=True)

    def delta(name: str, **labels: str) -> float:
        return _sample(after, name, **labels) - _sample(before, name, **labels)

    route = "/v1/items/{item_id:int}"
    requests = "envoxy_http_requests_total"
    assert delta(requests, route=route, method="GET", status="200") == 5
    assert delta(requests, route="/v1/boom", method="GET", status="500") == 1
    assert delta(requests, route="(unmatched)", method="GET", status="404") == 2
    assert delta(requests, route="(unmatched)", method="OTHER", status="405") == 1
    assert delta("envoxy_http_request_duration_seconds_count", route=route, method="GET") == 5
    assert "/nope/1" not in after
    assert "BREW" not in after
    assert _sample(after, "envoxy_http_requests_in_flight") == 1  # the scrape itself


def test_metrics_can_be_turned_off(lines: io.StringIO) -> None:
    client = Client(create_app({"modules": [str(SAMPLE)], "metrics": {"enabled": False}}))
    assert client.get("/_metrics").status_code == 404
    assert client.get("/v1/items/1").headers["X-Request-ID"]


def test_client_calls_are_counted_through_the_observe_hook() -> None:
    from envoxy.utils.observe import observe_call

    metrics = get_metrics()
    before = metrics.render().decode()
    observe_call("redis", "cache", 0.002, None)
    observe_call("redis", "cache", 0.004, TimeoutError("slow"))
    after = metrics.render().decode()
    calls = _sample(after, "envoxy_client_calls_total", client="redis", key="cache")
    assert calls - _sample(before, "envoxy_client_calls_total", client="redis", key="cache") == 2
    errors = _sample(
        after, "envoxy_client_errors_total", client="redis", key="cache", error="TimeoutError"
    )
    assert (
        errors
        - _sample(
            before, "envoxy_client_errors_total", client="redis", key="cache", error="TimeoutError"
        )
        == 1
    )


def test_batched_counts_match_what_observe_would_write() -> None:
    """The per-request counts are added up in the process and written in batches through
    the histogram's own values: the same text as one ``observe`` per request."""
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from envoxy.daemon.metrics import HTTP_BUCKETS, Metrics

    metrics = Metrics()
    reference_registry = CollectorRegistry()
    reference = Histogram(
        "envoxy_http_request_duration_seconds",
        "x",
        ["route", "method"],
        buckets=HTTP_BUCKETS,
        registry=reference_registry,
    )
    durations = [0.0, 0.0005, 0.001, 0.0011, 0.0025, 0.3, 0.5, 9.9, 10.0, 11.0, 42.0]
    # (started, ended, method, path, status, route, request id) in nanoseconds
    metrics.count_requests(
        [(0, round(seconds * 1e9), "GET", "/r/1", 200, "/r", "id") for seconds in durations]
    )
    for seconds in durations:
        reference.labels("/r", "GET").observe(seconds)
    ours = metrics.render().decode()
    expected = generate_latest(reference_registry).decode()
    wanted = [
        line
        for line in expected.splitlines()
        if line.startswith("envoxy_http_request_dur") and "_created" not in line
    ]
    assert wanted
    for line in wanted:
        assert line in ours.splitlines(), line
    assert 'envoxy_http_requests_total{method="GET",route="/r",status="200"} 11.0' in ours
    assert "envoxy_http_requests_in_flight 0.0" in ours


def test_a_flood_of_made_up_methods_keeps_one_count_in_memory() -> None:
    """A hostile client sending thousands of distinct methods (a 405 or 404 each) costs
    one pending count, not one per method: served in one process nothing flushes the
    counts until a scrape, which may never come."""
    from envoxy.daemon.metrics import Metrics

    metrics = Metrics()
    for number in range(5000):
        metrics.count_requests(
            [
                (0, 1_000_000, f"M{number}", "/x", 405, "(unmatched)", "a"),
                (0, 1_000_000, "GET", "/r", 200, "/r", "b"),
            ]
        )
    assert len(metrics._pending) == 2
    text = metrics.render().decode()
    assert 'envoxy_http_requests_total{method="OTHER",route="(unmatched)",status="405"} 5000.0' in (
        text
    )
    assert "M4999" not in text


def test_a_refused_request_carries_its_id_too(client: Client, lines: io.StringIO) -> None:
    """The input guard refuses a NUL in the query before the app sees the request."""
    answer = client.get("/v1/items/1?q=%00", headers={"X-Request-ID": "refused-1"})
    assert answer.status_code == 400
    assert answer.headers["X-Request-ID"] == "refused-1"
    assert {entry.get("_request_id") for entry in entries(lines)} <= {"refused-1"}


def test_concurrent_requests_keep_their_own_ids(lines: io.StringIO) -> None:
    """8 threads, 40 requests each: every line names the id of its own request (access
    lines included, even when they are written later or together)."""
    import threading

    app = create_app({"modules": [str(SAMPLE)]})

    def user(number: int) -> None:
        client = Client(app)
        for index in range(40):
            item = number * 1000 + index
            answer = client.get(f"/v1/items/{item}", headers={"X-Request-ID": f"r-{item}"})
            assert answer.headers["X-Request-ID"] == f"r-{item}"

    threads = [threading.Thread(target=user, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for handler in logging.getLogger("envoxy").handlers:
        handler.flush()
    access = [
        entry
        for entry in entries(lines)
        if str(entry["short_message"]).startswith("< Response [HTTP] GET /v1/items/")
    ]
    assert len(access) == 320
    for entry in access:
        item = str(entry["short_message"]).split("/v1/items/")[1].split(" ")[0]
        assert entry["_request_id"] == f"r-{item}", entry


SHARED_VIEWS = """
from envoxy.decorators import on
from envoxy.views import View
from envoxy.views.containers import Response

LEAN = Response({"shared": True})
MATERIALIZED = Response({"shared": True}, status=201)
MATERIALIZED.headers["X-Shared"] = "yes"  # built as a werkzeug response now
NO_CONTENT = Response(None, status=204)


@on(endpoint="/shared/{kind}")
class Shared(View):
    def get(self, request, kind, **kwargs):
        return {"lean": LEAN, "materialized": MATERIALIZED, "empty": NO_CONTENT}[kind]


VIEWS = [Shared]
"""


@pytest.mark.parametrize("kind", ["lean", "materialized", "empty"])
def test_a_response_object_shared_by_callers_carries_only_each_callers_id(
    lines: io.StringIO, tmp_path: Path, kind: str
) -> None:
    module = tmp_path / "shared_views.py"
    module.write_text(SHARED_VIEWS)
    client = Client(create_app({"modules": [str(module)]}))
    for caller in ("alice-1", "bob-2", "carol-3"):
        answer = client.get(f"/shared/{kind}", headers={"X-Request-ID": caller})
        assert answer.headers.getlist("X-Request-ID") == [caller]
    again = client.get(f"/shared/{kind}")
    assert len(again.headers.getlist("X-Request-ID")) == 1
    assert UUID.fullmatch(again.headers["X-Request-ID"])
