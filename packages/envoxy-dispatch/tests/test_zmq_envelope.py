"""zmqc pieces that need no socket: envelope, replies, headers, settings, errors."""

import itertools
import pickle
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from envoxy import exceptions
from envoxy.exceptions import ConfigError, ValidationException
from envoxy.utils.datetime import format_api
from envoxy.zeromq import ZmqConnectError, ZmqDeadlineError, ZmqUnavailableError, zmqc
from envoxy.zeromq.envelope import build_request, clean_response, prepare_message
from envoxy.zeromq.headers import api_now, correlation_id, generate_headers
from envoxy.zeromq.route_cache import route_of
from envoxy.zeromq.settings import ZmqServerSettings, ZmqWorkerSettings
from envoxy_testing.exports import all_problems
from envoxy_testing.interpreter import run_python


def test_generate_headers_has_exactly_the_envoxy_headers() -> None:
    headers = generate_headers()
    assert list(headers) == ["Accept", "Accept-Charset", "Date", "User-Agent", "X-Cid"]
    assert headers["Accept"] == "application/json"
    assert headers["Accept-Charset"] == "utf-8"
    assert headers["User-Agent"] == "Envoxy Server"
    assert uuid.UUID(headers["X-Cid"]).version == 4
    assert generate_headers("given-id")["X-Cid"] == "given-id"


def test_date_header_matches_now_api_format() -> None:
    before = format_api(datetime.now(UTC))
    ours = api_now()
    after = format_api(datetime.now(UTC))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", ours)
    assert before <= ours <= after


def test_correlation_ids_are_unique_uuid4s() -> None:
    ids = {correlation_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert {uuid.UUID(value).version for value in ids} == {4}


def test_correlation_ids_differ_between_processes() -> None:
    code = "from envoxy.zeromq.headers import correlation_id; print(correlation_id())"
    other = run_python(code).stdout.strip()
    assert other[:24] != correlation_id()[:24]


def test_one_correlation_id_does_not_predict_the_next() -> None:
    ids = [uuid.UUID(correlation_id()).int for _ in range(1_000)]
    # no shared prefix (a per-process prefix made every id of a process alike) ...
    assert len({value >> 64 for value in ids}) == len(ids)
    # ... and no counter in the low bits
    steps = {(later - earlier) & ((1 << 48) - 1) for earlier, later in itertools.pairwise(ids)}
    assert len(steps) > len(ids) // 2


def test_build_request_merges_caller_headers_and_casts_the_performative() -> None:
    request = build_request(6, "/v3/things/1", {"a": 1}, {"b": 2}, {"Authorization": "Bearer x"})
    assert request["performative"] == 6
    assert type(request["performative"]) is int
    assert request["headers"]["Authorization"] == "Bearer x"
    assert request["params"] == {"a": 1}
    assert request["payload"] == {"b": 2}


def test_prepare_message_copies_and_requires_a_performative() -> None:
    message: dict[str, Any] = {"resource": "/x", "performative": 0, "headers": {"X-Cid": "c"}}
    prepared = prepare_message(message)
    prepared["headers"]["X-Other"] = "1"
    assert message["headers"] == {"X-Cid": "c"}
    with pytest.raises(ValidationException, match="'performative'"):
        prepare_message({"resource": "/x"})
    with pytest.raises(ValidationException, match="integer"):
        prepare_message({"resource": "/x", "performative": "GET"})


def test_clean_response_tolerates_replies_without_headers() -> None:
    assert clean_response({"status": 200, "protocol": "x"}) == {"status": 200}
    assert clean_response(None) is None


def test_validate_response_none_is_service_unavailable() -> None:
    with pytest.raises(ValidationException) as caught:
        zmqc.validate_response(None)
    assert (str(caught.value), caught.value.code, caught.value.status) == (
        "Service Unavailable",
        0,
        503,
    )


@pytest.mark.parametrize("status", [200, 201])
def test_validate_response_returns_successes(status: int) -> None:
    reply = {"status": status, "payload": {}}
    assert zmqc.validate_response(reply) is reply


def test_validate_response_uses_the_payload_text_and_code() -> None:
    reply = {"status": 404, "resource": "/x", "payload": {"text": "not here", "code": 1234}}
    with pytest.raises(ValidationException) as caught:
        zmqc.validate_response(reply)
    assert (str(caught.value), caught.value.code, caught.value.status) == ("not here", 1234, 404)


def test_validate_response_describes_errors_without_text() -> None:
    with pytest.raises(ValidationException) as caught:
        zmqc.validate_response({"status": "500", "resource": "/y", "payload": None})
    assert str(caught.value) == "Resource error, code: 500, /y"
    assert (caught.value.code, caught.value.status) == (0, 500)


def test_validate_response_accepts_a_listing_with_elements_and_id() -> None:
    reply = {"status": 206, "payload": {"elements": [], "_id": "x"}}
    assert zmqc.validate_response(reply) is reply


def test_route_of_uses_the_performative_and_four_path_parts() -> None:
    assert route_of({"performative": 0, "resource": "/v3/users/me/devices/1"}) == "0:/v3/users/me"


def test_server_settings_defaults_and_endpoint() -> None:
    settings = ZmqServerSettings.from_config("core", {"host": "10.0.0.1", "port": "5555"})
    assert settings.endpoint == "tcp://10.0.0.1:5555"
    assert (settings.timeout, settings.retries, settings.retry_delay) == (30.0, 3, 2.0)
    assert settings.deadline == 30.0


def test_default_worst_case_fits_under_harakiri() -> None:
    # Was 4 x 30 s + 3 x 2 s = 126 s, past uWSGI's 90 s harakiri: the deadline bounds it.
    settings = ZmqServerSettings.from_config("core", {"host": "h", "port": 1})
    assert settings.worst_case() == 30.0
    unbounded = ZmqServerSettings.from_config(
        "core", {"host": "h", "port": 1, "timeout": 2, "retries": 2, "deadline": 100}
    )
    # three attempts of 2 s, pauses of at most 2 s then 4 s
    assert unbounded.worst_case() == 12.0


def test_unavailable_errors_are_503_validation_exceptions_and_client_errors() -> None:
    for cls, kind in (
        (ZmqDeadlineError, exceptions.TimeoutError),
        (ZmqConnectError, exceptions.ConnectError),
    ):
        error = cls()
        assert isinstance(error, ZmqUnavailableError)
        assert isinstance(error, ValidationException)  # envoxy 0.7 code keeps working
        assert isinstance(error, kind)
        assert isinstance(error, exceptions.ClientError)
        assert (str(error), error.code, error.status) == ("Service Unavailable", 0, 503)
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is cls
        assert (str(copy), copy.status) == ("Service Unavailable", 503)


@pytest.mark.parametrize(
    ("conf", "fault"),
    [
        ({"port": 1}, "zmq_servers.core needs 'host'"),
        ({"host": "h", "port": 1, "timeout": 0}, "zmq_servers.core.timeout"),
        ({"host": "h", "port": 1, "retries": -1}, "zmq_servers.core.retries"),
        ({"host": "h", "port": 1, "deadline": 0}, "zmq_servers.core.deadline"),
        ({"host": "h", "port": 1, "deadline": "soon"}, "zmq_servers.core.deadline"),
        ({"host": "h", "port": "x"}, "zmq_servers.core.port"),
    ],
)
def test_server_settings_errors_name_the_setting(conf: dict[str, Any], fault: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(fault)):
        ZmqServerSettings.from_config("core", conf)


def test_worker_settings_read_zmq_workers() -> None:
    settings = ZmqWorkerSettings.from_config(
        {"thread_poll_executor_max_workers": "8", "context_max_workers": 4}
    )
    assert (settings.max_workers, settings.max_sockets) == (8, 4)
    with pytest.raises(ConfigError, match="context_max_workers"):
        ZmqWorkerSettings.from_config({"context_max_workers": 0})


def test_importing_envoxy_zeromq_imports_no_zmq_and_reads_no_config() -> None:
    code = (
        "import sys, envoxy.zeromq\n"
        "from envoxy.utils.config import Config\n"
        "assert 'zmq' not in sys.modules, 'zmq imported'\n"
        "assert Config._data is None, 'config read'\n"
        "import threading; assert threading.active_count() == 1\n"
    )
    run_python(code, env={"ENVOXY_CONFIG": "/nonexistent/envoxy.json"})


def test_envoxy_zeromq_exports_match_all() -> None:
    import envoxy.zeromq

    assert all_problems("envoxy.zeromq", exact=True) == []
    assert envoxy.zeromq.zmqc is envoxy.zeromq.Dispatcher


def test_server_settings_accept_bind_like_every_client() -> None:
    settings = ZmqServerSettings.from_config("core", {"bind": "10.0.0.1:5555"})
    assert (settings.endpoint, settings.where) == ("tcp://10.0.0.1:5555", "zmq_servers.core")
    assert ZmqServerSettings.from_config("c", {"bind": "ipc://x:1"}).endpoint == "ipc://x:1"
    assert "bind" in ZmqServerSettings.KEYS
