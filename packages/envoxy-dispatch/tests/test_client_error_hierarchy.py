"""Every client's errors extend envoxy.exceptions' ClientError branch (one hierarchy)."""

import pytest

from envoxy.couchdb import CouchDBConnectionError, CouchDBError, CouchDBTimeoutError
from envoxy.db.exceptions import DatabaseException
from envoxy.exceptions import ClientError, ConnectError, EnvoxyError, TimeoutError
from envoxy.postgresql import exceptions as pg
from envoxy.redis import exceptions as redis_errors


@pytest.mark.parametrize(
    ("error", "kinds"),
    [
        (redis_errors.RedisConnectionError, (redis_errors.RedisClientError, ConnectError)),
        (redis_errors.RedisTimeoutError, (redis_errors.RedisClientError, TimeoutError)),
        (pg.ConnectError, (DatabaseException, ConnectError)),
        (pg.PoolTimeoutError, (DatabaseException, TimeoutError)),
        (CouchDBConnectionError, (CouchDBError, ConnectError)),
        (CouchDBTimeoutError, (CouchDBConnectionError, TimeoutError)),
    ],
)
def test_client_errors_are_kinds_of_connect_or_timeout_errors(
    error: type[Exception], kinds: tuple[type[Exception], ...]
) -> None:
    for kind in (*kinds, ClientError, EnvoxyError):
        assert issubclass(error, kind)


def test_envoxy_timeout_error_is_not_the_builtin() -> None:
    import builtins

    assert TimeoutError is not builtins.TimeoutError
    assert not issubclass(TimeoutError, OSError)


@pytest.mark.parametrize(
    "error",
    [
        redis_errors.RedisSerializationError,
        pg.QueryError,
        pg.UnknownServerError,
        CouchDBError,
    ],
)
def test_errors_that_are_no_outage_are_neither_connect_nor_timeout(error: type[Exception]) -> None:
    assert not issubclass(error, ConnectError | TimeoutError)
