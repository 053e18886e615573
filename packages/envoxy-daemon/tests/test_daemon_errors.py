"""The error contract (SPEC §6.4): fixed messages for unexpected errors, 503 for outages,
nothing internal in a body, the details in the log under the same ELRC."""

import builtins
import logging
import re
import socket
from collections.abc import Callable

import pytest
from werkzeug.test import Client

from envoxy.daemon.app import create_app
from envoxy.decorators import on
from envoxy.exceptions import ConnectError, TimeoutError, ValidationException
from envoxy.views import View
from envoxy.views.error_responses import RETRY_AFTER_SECONDS
from envoxy.views.outages import is_outage

ELRC = re.compile(r"ELRC\(([0-9a-f-]{36})\)")
#: what a database, a filesystem or a broker error may say; none of it may reach a body
INTERNALS = (
    'SELECT "password" FROM aux_users WHERE id = 1',
    "relation aux_users does not exist",
    "db.internal.example:5432/billing",
    "/srv/service/secret/config.py",
)
LEAKY_TEXT = "; ".join(INTERNALS)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _real_sqlalchemy_outage() -> Exception:
    from sqlalchemy import create_engine, text

    engine = create_engine(
        f"postgresql+psycopg2://u:p@127.0.0.1:{_closed_port()}/db",
        connect_args={"connect_timeout": 1},
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("connecting to a closed port succeeded")


def _real_redis_outage() -> Exception:
    import redis

    try:
        redis.Redis(port=_closed_port(), socket_connect_timeout=1).ping()
    except Exception as exc:
        return exc
    raise AssertionError("connecting to a closed port succeeded")


def _real_httpx_outage() -> Exception:
    import httpx

    try:
        httpx.get(f"http://127.0.0.1:{_closed_port()}/", timeout=1)
    except Exception as exc:
        return exc
    raise AssertionError("connecting to a closed port succeeded")


def _pgsqlc_pool_timeout() -> Exception:
    from envoxy.postgresql.exceptions import PoolTimeoutError

    return PoolTimeoutError(f"Timeout waiting for DB connection ({INTERNALS[2]})")


def _redisc_timeout() -> Exception:
    from envoxy.redis.exceptions import RedisTimeoutError

    return RedisTimeoutError(f"redis_servers.cache {INTERNALS[2]}: timed out")


OUTAGES: dict[str, Callable[[], BaseException]] = {
    "envoxy ConnectError": lambda: ConnectError(LEAKY_TEXT),
    "envoxy TimeoutError": lambda: TimeoutError(LEAKY_TEXT),
    "pgsqlc pool exhausted": _pgsqlc_pool_timeout,
    "redisc timeout": _redisc_timeout,
    "SQLAlchemy cannot connect": _real_sqlalchemy_outage,
    "redis-py cannot connect": _real_redis_outage,
    "httpx cannot connect": _real_httpx_outage,
    "socket timeout": lambda: builtins.TimeoutError(LEAKY_TEXT),
    "connection refused": lambda: ConnectionRefusedError(111, LEAKY_TEXT),
}

UNEXPECTED: dict[str, Callable[[], BaseException]] = {
    "RuntimeError": lambda: RuntimeError(LEAKY_TEXT),
    "KeyError": lambda: KeyError(LEAKY_TEXT),
    "a database error that is no outage": lambda: __import__(
        "envoxy.postgresql.exceptions", fromlist=["QueryError"]
    ).QueryError(LEAKY_TEXT, pgcode="42P01"),
}


def _client_raising(exc: BaseException) -> Client:
    @on(endpoint="/v1/fail", protocols=["http"])
    class Failing(View):
        def get(self, request, **kwargs):
            raise exc

        def post(self, request, **kwargs):
            raise exc

    return Client(create_app({}, views=[Failing]))


def _assert_no_internals(body: str) -> None:
    for fragment in (*INTERNALS, "Traceback", 'File "'):
        assert fragment not in body


@pytest.mark.parametrize("make_error", OUTAGES.values(), ids=OUTAGES.keys())
def test_an_outage_answers_503_with_retry_after_and_a_fixed_message(
    make_error: Callable[[], BaseException],
) -> None:
    error = make_error()
    assert is_outage(error)
    answer = _client_raising(error).get("/v1/fail", headers={"Accept": "application/json"})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert answer.json["error"].startswith("Service Unavailable :: ELRC(")
    assert answer.json["code"] == 0
    _assert_no_internals(answer.get_data(as_text=True))


@pytest.mark.parametrize("make_error", UNEXPECTED.values(), ids=UNEXPECTED.keys())
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_an_unexpected_error_answers_500_with_a_fixed_message(
    make_error: Callable[[], BaseException], accept: str
) -> None:
    error = make_error()
    assert not is_outage(error)
    answer = _client_raising(error).get("/v1/fail", headers={"Accept": accept})
    assert answer.status_code == 500
    assert "Retry-After" not in answer.headers
    body = answer.get_data(as_text=True)
    _assert_no_internals(body)
    if accept == "application/json":
        assert answer.json["error"].startswith("Internal Server Error :: ELRC(")
    else:
        assert body.startswith("error: Internal Server Error :: ELRC(")


def test_the_log_holds_the_details_under_the_same_elrc(caplog: pytest.LogCaptureFixture) -> None:
    client = _client_raising(RuntimeError(LEAKY_TEXT))
    with caplog.at_level(logging.ERROR, logger="envoxy"):
        answer = client.get("/v1/fail", headers={"Accept": "application/json"})
    ref = ELRC.search(answer.json["error"])
    assert ref is not None
    records = [r for r in caplog.records if ref.group(1) in r.getMessage()]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.ERROR
    assert LEAKY_TEXT in record.getMessage()
    # the traceback travels as exc_info (GELF full_message), not inside the message text
    assert "Traceback" not in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[1] is not None
    assert str(record.exc_info[1]) == LEAKY_TEXT


def test_a_validation_exception_keeps_its_own_message_and_status() -> None:
    error = ValidationException("sku already taken", code=1201, status=409)
    answer = _client_raising(error).post("/v1/fail", headers={"Accept": "application/json"})
    assert answer.status_code == 409
    assert answer.json["error"].startswith("sku already taken :: ELRC(")
    assert answer.json["code"] == 1201
    assert "Retry-After" not in answer.headers


def test_a_validation_exception_with_503_also_gets_retry_after() -> None:
    error = ValidationException("Service Unavailable", code=0, status=503)
    answer = _client_raising(error).get("/v1/fail", headers={"Accept": "application/json"})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_an_error_on_a_head_request_sends_no_internals_in_headers() -> None:
    answer = _client_raising(RuntimeError(LEAKY_TEXT)).head("/v1/fail")
    assert answer.status_code == 500
    _assert_no_internals(str(answer.headers))
