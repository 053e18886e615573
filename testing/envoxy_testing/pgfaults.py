"""The shared scenes of the PostgreSQL fault tests: pgsqlc and ORM sessions alike.

A fault test breaks a private server (``private_postgres``), or the path to it
(``fault_proxy``), and shows three things: calls fail within the key's ``timeout`` plus
:data:`MARGIN`, the client recovers by itself once the server is back, and its pool is
whole again (:data:`CONCURRENCY` concurrent calls succeed, as many sessions on the
server). :class:`PgFaultScene` holds what every such test does; a subclass says how one
call is made and what a whole pool looks like::

    class Scene(PgFaultScene):
        client = "pgsqlc"
        ok = [{"ok": 1}]

        def call(self, sql: str = OK_SQL) -> Any:
            return pgsqlc.query(KEY, sql)

        def assert_pool_whole(self) -> None:
            ...

    @pytest.fixture
    def scene(request: pytest.FixtureRequest) -> Iterator[Scene]:
        with configured(request, KEY, timeout=1) as (server, proxy):
            yield Scene(request, server, proxy)
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from envoxy_testing.faultproxy import FaultProxy
from envoxy_testing.network import retry_until, wait_until
from envoxy_testing.postgres import PrivatePostgres
from envoxy_testing.reliability import record

__all__ = [
    "CONCURRENCY",
    "MARGIN",
    "OK_SQL",
    "RECOVERY",
    "PgFaultScene",
    "configured",
    "timed",
    "timed_failure",
]

#: A failing call must end within the key's ``timeout`` plus this many seconds.
MARGIN = 1.0
#: Seconds within which the client must work again once the server is back.
RECOVERY = 5.0
#: Concurrent calls that show the pool is whole, and the pool's size.
CONCURRENCY = 20
#: The default statement of :meth:`PgFaultScene.call`.
OK_SQL = "SELECT 1 AS ok"


@contextmanager
def configured(
    request: pytest.FixtureRequest, key: str, **client_config: Any
) -> Iterator[tuple[PrivatePostgres, FaultProxy | None]]:
    """Start a private server, and a proxy in front of it when the fixture's ``param`` is
    ``"proxy"``; load a configuration whose ``psql_servers`` entry ``key`` reaches them
    for the block, and yield both.

    For a ``scene`` fixture parametrized ``indirect=True`` with ``"server"``/``"proxy"``;
    it takes the fixtures ``private_postgres``, ``fault_proxy``, ``load_config`` and
    ``tmp_path`` of the test.

    :param client_config: the entry's settings (``timeout``, pool sizes, ...).
    """
    server: PrivatePostgres = request.getfixturevalue("private_postgres")()
    proxy: FaultProxy | None = None
    if getattr(request, "param", "") == "proxy":
        proxy = request.getfixturevalue("fault_proxy")(server)
    entry = server.client_config(**client_config)
    if proxy is not None:
        entry.update(host=proxy.host, port=proxy.port)
    load_config = request.getfixturevalue("load_config")
    with load_config({"psql_servers": {key: entry}}, request.getfixturevalue("tmp_path")):
        yield server, proxy


def timed[T](call: Callable[[], T]) -> tuple[T, float]:
    """Run ``call``; return its result and the seconds it took."""
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def timed_failure[E: BaseException](call: Callable[[], object], error: type[E]) -> tuple[E, float]:
    """Run ``call``, which must raise ``error``; return the error and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(error) as caught:
        call()
    return caught.value, time.monotonic() - started


class PgFaultScene(ABC):
    """A private server, maybe behind a proxy, and one client configured for it."""

    #: The ``client`` column of the reliability records (``"pgsqlc"``, ``"orm"``).
    client: ClassVar[str]
    #: What :meth:`call` returns for :data:`OK_SQL`.
    ok: ClassVar[object]

    def __init__(
        self, request: pytest.FixtureRequest, server: PrivatePostgres, proxy: FaultProxy | None
    ) -> None:
        self.request = request
        self.server = server
        self.proxy = proxy

    @abstractmethod
    def call(self, sql: str = OK_SQL) -> Any:
        """Run ``sql`` through the client under test and return its result."""

    @abstractmethod
    def assert_pool_whole(self) -> None:
        """Assert that, after :data:`CONCURRENCY` concurrent calls, the client's pool holds
        that many idle connections and none in use."""

    @property
    def fault(self) -> str:
        """The name of what :meth:`frozen` does: ``"path frozen"`` or ``"SIGSTOP"``."""
        return "path frozen" if self.proxy is not None else "SIGSTOP"

    def concurrently(self, sql: str, count: int = CONCURRENCY) -> list[BaseException | None]:
        """Run ``sql`` in ``count`` threads at once; return each one's error, or None."""

        def one(_: int) -> BaseException | None:
            try:
                self.call(sql)
            except BaseException as exc:
                return exc
            return None

        with ThreadPoolExecutor(count) as executor:
            return list(executor.map(one, range(count)))

    def live_sessions(self) -> int:
        """The sessions of role ``envoxy`` the server has right now."""
        return self.server.client_sessions()

    def assert_capacity_intact(self) -> float:
        """:data:`CONCURRENCY` concurrent calls succeed, the pool is whole and its slots are
        the server's sessions; return the seconds the concurrent calls took."""
        errors, took = timed(lambda: self.concurrently("SELECT pg_sleep(0.3)"))
        assert errors == [None] * CONCURRENCY
        self.assert_pool_whole()
        # Sessions whose client went away may still end their statement on the server.
        wait_until(
            lambda: self.live_sessions() == CONCURRENCY,
            timeout=3,
            what=f"{CONCURRENCY} sessions",
        )
        return took

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Freeze the proxy's path (or the server itself) for the block; thaw after it."""
        if self.proxy is not None:
            self.proxy.freeze()
        else:
            self.server.freeze()
        try:
            yield
        finally:
            if self.proxy is not None:
                self.proxy.passthrough()
            else:
                self.server.thaw()

    def ok_call(self) -> float:
        """One call with the default statement succeeds; return the seconds it took."""
        result, took = timed(self.call)
        assert result == self.ok
        return took

    def recovery(self, errors: type[BaseException]) -> float:
        """Retry the default call while it raises ``errors``, for up to :data:`RECOVERY`
        seconds; return the seconds until it succeeded."""
        result, took = timed(lambda: retry_until(self.call, errors, timeout=RECOVERY))
        assert result == self.ok
        return took

    def terminate_backends(self) -> None:
        """``pg_terminate_backend`` the whole pool's sessions and wait until they are gone."""
        assert self.server.terminate_backends() == CONCURRENCY
        wait_until(lambda: self.live_sessions() == 0, timeout=3, what="the backends gone")

    def reset_in_flight(
        self, error: type[BaseException], match: str | None = None, count: int = 5
    ) -> float:
        """Reset every connection through the proxy while ``count`` one-second statements
        run; each must fail with ``error``. Return the seconds until all had failed; the
        proxy passes traffic again afterwards."""
        assert self.proxy is not None, "reset_in_flight needs the scene behind a proxy"
        with ThreadPoolExecutor(count) as executor:
            busy = [executor.submit(self.call, "SELECT pg_sleep(1)") for _ in range(count)]
            time.sleep(0.3)
            started = time.monotonic()
            self.proxy.reset()  # RST on every connection through the proxy
            for future in busy:
                with pytest.raises(error, match=match):
                    future.result()
            took = time.monotonic() - started
        self.proxy.passthrough()
        return took

    def record(self, fault: str, behaviour: str, **seconds: float) -> Path:
        """Record what the test measured for docs/RELIABILITY.md (``reliability.record``)."""
        return record(self.client, fault, behaviour, self.request.node.name, **seconds)
