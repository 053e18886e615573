"""The pytest plugin of the workspace: fixtures for fault tests and shared helpers.

Loaded by the root ``conftest.py`` (``pytest_plugins = ["envoxy_testing.plugin"]``).

The server fixtures are **factories**, function-scoped: a test that breaks a server gets
instances nobody else uses, and every instance is closed at teardown (thawed first if
frozen), even when the test fails. PostgreSQL's ``initdb`` runs once per session
(``postgres_template``); each instance copies that template and starts in about half a
second, so no test has to share (and possibly leave frozen) a server with another.

When a test fails, the last lines of each private server's log are printed in its
teardown section.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import pytest

from envoxy_testing.envoxyd import Envoxyd
from envoxy_testing.faultproxy import FaultProxy
from envoxy_testing.network import free_port as _free_port
from envoxy_testing.pgbouncer import PrivatePgBouncer
from envoxy_testing.postgres import PrivatePostgres, make_template
from envoxy_testing.redis_cluster import PrivateRedisCluster
from envoxy_testing.redis_sentinel import RedisSentinelSet
from envoxy_testing.servers import PrivateMosquitto, PrivateRedis, ServerProcess
from envoxy_testing.tls import TlsFiles, make_tls_files

__all__ = [
    "FaultProxyFactory",
    "clean_logging",
    "fault_proxy",
    "free_port",
    "postgres_template",
    "private_mosquitto",
    "private_pgbouncer",
    "private_postgres",
    "private_redis",
    "redis_cluster",
    "redis_sentinel_set",
    "start_envoxyd",
    "tls_files",
]

#: Set for the whole session: ``tools/services stop|restart`` then refuses to act on the
#: shared servers (it still acts on a private ``ENVOXY_SERVICES_DIR``).
PROTECT_VARIABLE = "ENVOXY_SERVICES_PROTECT"

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
#: What a server fixture closes at teardown: one server, or a set of them.
_Closable = ServerProcess | RedisSentinelSet | PrivateRedisCluster


class FaultProxyFactory:
    """Makes :class:`FaultProxy` instances: ``fault_proxy(server)``, ``fault_proxy(host, port)``."""

    def __init__(self) -> None:
        self.proxies: list[FaultProxy] = []

    @overload
    def __call__(self, target: ServerProcess | tuple[str, int], /) -> FaultProxy: ...

    @overload
    def __call__(self, target: str, port: int, /) -> FaultProxy: ...

    def __call__(self, target: Any, port: int | None = None, /) -> FaultProxy:
        if isinstance(target, ServerProcess):
            host, port = target.address
        elif isinstance(target, tuple):
            host, port = target
        else:
            host = target
        assert port is not None, "fault_proxy(host, port): the port is missing"
        proxy = FaultProxy(host, port)
        self.proxies.append(proxy)
        return proxy

    def close(self) -> None:
        """Close every proxy made."""
        for proxy in self.proxies:
            proxy.close()


def pytest_configure(config: pytest.Config) -> None:
    """Protect the shared servers from ``tools/services stop|restart`` for this session."""
    os.environ[PROTECT_VARIABLE] = "1"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so teardown knows whether the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture
def clean_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Logging as a fresh process has it, before and after the test: no level or format
    variable, no configuration file, Envoxy's handlers reset."""
    from envoxy.utils.config import Config
    from envoxy.utils.log_setup import FORMAT_ENV_VAR, LEVEL_ENV_VAR, reset_logging

    monkeypatch.delenv(LEVEL_ENV_VAR, raising=False)
    monkeypatch.delenv(FORMAT_ENV_VAR, raising=False)
    monkeypatch.delenv("ENVOXY_CONFIG", raising=False)
    previous_path = Config.file_path
    Config.set_file_path(None)
    reset_logging()
    yield
    reset_logging()
    Config.set_file_path(previous_path)


@pytest.fixture
def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    return _free_port()


@pytest.fixture
def client_calls() -> Iterator[list[tuple[str, str, float, BaseException | None]]]:
    """The client calls reported through :mod:`envoxy.utils.observe` during the test, as
    ``(client, key, seconds, error)`` in order (an observer added for the test)."""
    from envoxy.utils.observe import add_call_observer, remove_call_observer

    seen: list[tuple[str, str, float, BaseException | None]] = []

    def observer(client: str, key: str, seconds: float, error: BaseException | None) -> None:
        seen.append((client, key, seconds, error))

    add_call_observer(observer)
    yield seen
    remove_call_observer(observer)


@pytest.fixture
def fault_proxy() -> Iterator[FaultProxyFactory]:
    """Factory of :class:`FaultProxy`; every proxy is closed at teardown."""
    factory = FaultProxyFactory()
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[Path]:
    """A PostgreSQL data directory (role ``envoxy``, db ``envoxy_test``), made once per session."""
    data = make_template()
    yield data
    shutil.rmtree(data.parent, ignore_errors=True)


@pytest.fixture
def private_postgres(
    request: pytest.FixtureRequest, postgres_template: Path
) -> Iterator[Callable[..., PrivatePostgres]]:
    """Factory: ``private_postgres(settings={...})`` starts a :class:`PrivatePostgres`."""
    servers: list[_Closable] = []

    def start(**options: Any) -> PrivatePostgres:
        server = PrivatePostgres(template=postgres_template, **options)
        servers.append(server)
        return server.start()

    yield start
    _close_servers(request, servers)


@pytest.fixture
def private_pgbouncer(request: pytest.FixtureRequest) -> Iterator[Callable[..., PrivatePgBouncer]]:
    """Factory: ``private_pgbouncer(server, pool_mode="transaction", pool_size=5, settings={})``
    starts a :class:`PrivatePgBouncer` in front of a :class:`PrivatePostgres`."""
    servers: list[_Closable] = []

    def start(server: PrivatePostgres, **options: Any) -> PrivatePgBouncer:
        bouncer = PrivatePgBouncer(server, **options)
        servers.append(bouncer)
        return bouncer.start()

    yield start
    _close_servers(request, servers)


@pytest.fixture
def private_redis(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., PrivateRedis]]:
    """Factory: ``private_redis(password=None, extra_args=(), tls=None, tls_auth_clients=False)``
    starts a :class:`PrivateRedis` (``tls=tls_files``: ``rediss://`` only)."""
    servers: list[_Closable] = []

    def start(**options: Any) -> PrivateRedis:
        server = PrivateRedis(tmp_path_factory.mktemp("redis"), **options)
        servers.append(server)
        return server.start()

    yield start
    _close_servers(request, servers)


@pytest.fixture
def redis_sentinel_set(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., RedisSentinelSet]]:
    """Factory: ``redis_sentinel_set(replicas=1, sentinels=3, password=None)`` starts a
    :class:`RedisSentinelSet` (a master, its replicas, sentinels agreeing on it)."""
    sets: list[_Closable] = []

    def start(**options: Any) -> RedisSentinelSet:
        redis_set = RedisSentinelSet(tmp_path_factory.mktemp("sentinel-set"), **options)
        sets.append(redis_set)
        return redis_set.start()

    yield start
    _close_servers(request, sets)


@pytest.fixture
def redis_cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., PrivateRedisCluster]]:
    """Factory: ``redis_cluster(masters=3, replicas=0)`` starts a :class:`PrivateRedisCluster`
    (created with ``redis-cli --cluster create``, every slot served)."""
    clusters: list[_Closable] = []

    def start(**options: Any) -> PrivateRedisCluster:
        cluster = PrivateRedisCluster(tmp_path_factory.mktemp("redis-cluster"), **options)
        clusters.append(cluster)
        return cluster.start()

    yield start
    _close_servers(request, clusters)


@pytest.fixture
def private_mosquitto(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., PrivateMosquitto]]:
    """Factory: ``private_mosquitto(persistence=False, tls=None, extra="")``.

    Starts a :class:`PrivateMosquitto`; pass ``tls=tls_files`` for an ``mqtts://`` broker.
    """
    servers: list[_Closable] = []

    def start(**options: Any) -> PrivateMosquitto:
        server = PrivateMosquitto(tmp_path_factory.mktemp("mosquitto"), **options)
        servers.append(server)
        return server.start()

    yield start
    _close_servers(request, servers)


@pytest.fixture
def start_envoxyd(tmp_path: Path) -> Iterator[Callable[..., Envoxyd]]:
    """Start envoxyd on a free port: ``start_envoxyd(*arguments, listen="--http-socket",
    env=None, wait=True, cwd=tmp_path)`` (see :class:`~envoxy_testing.envoxyd.Envoxyd`);
    every one is stopped at teardown."""
    started: list[Envoxyd] = []

    def start(*arguments: str, cwd: Path | None = None, **options: Any) -> Envoxyd:
        daemon = Envoxyd(*arguments, cwd=cwd or tmp_path, **options)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.stop(timeout=10)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA, a server certificate for ``localhost``/``127.0.0.1`` and a client certificate,
    made once per session."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


def _close_servers(request: pytest.FixtureRequest, servers: Sequence[_Closable]) -> None:
    """Close every server (or set of servers); print their log tails when the test failed."""
    reports = request.node.stash.get(_REPORTS, {})
    failed = any(report.failed for report in reports.values())
    errors: list[BaseException] = []
    for server in servers:
        if failed:
            processes = [server] if isinstance(server, ServerProcess) else server.processes()
            for process in processes:
                print(f"---- {process!r}: last lines of {process.log_path}", file=sys.stderr)
                print(process.log_tail(), file=sys.stderr)
        try:
            server.close()
        except Exception as exc:  # close the others anyway
            errors.append(exc)
    if errors:
        raise errors[0]
