"""A private Redis Sentinel set: one master, replicas and three sentinels on loopback.

For tests of clients that find their master through Sentinel and must survive a
failover::

    with RedisSentinelSet(replicas=1) as redis_set:   # started, replicated, sentinels agree
        redis_set.sentinel_addresses                   # [("127.0.0.1", port), ...]
        redis_set.service_name                         # "envoxy-test"
        old = redis_set.master
        new = redis_set.failover()                     # SENTINEL FAILOVER; returns the new master
        redis_set.master_address()                     # what the sentinels say now

Sentinels run with a quorum of 2, ``down-after-milliseconds`` 1000 and
``failover-timeout`` 5000, so a killed master is replaced within a few seconds, and
a forced failover (``SENTINEL FAILOVER``) completes in one to three seconds. Every
wait is bounded; :meth:`RedisSentinelSet.close` stops every process, even frozen.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from envoxy_testing.network import wait_until
from envoxy_testing.servers import (
    PrivateRedis,
    ServerError,
    ServerProcess,
    find_binary,
    redis_answers,
)

__all__ = ["PrivateSentinel", "RedisSentinelSet", "role"]

#: The master name every sentinel of a set monitors.
SERVICE_NAME = "envoxy-test"
#: Sentinels that must agree the master is down before a failover.
QUORUM = 2
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000


class PrivateSentinel(ServerProcess):
    """One ``redis-server --sentinel`` monitoring ``service_name`` at ``master``.

    Its configuration is written once (Sentinel rewrites it with what it learns, and a
    restart keeps that).
    """

    name = "sentinel"
    scheme = "redis"

    def __init__(
        self,
        directory: Path | None = None,
        *,
        master: tuple[str, int],
        service_name: str = SERVICE_NAME,
        quorum: int = QUORUM,
        port: int | None = None,
    ) -> None:
        super().__init__(directory, port=port)
        self.master = master
        self.service_name = service_name
        self.quorum = quorum
        self.config_path = self.directory / "sentinel.conf"

    def prepare(self) -> None:
        name = self.service_name
        lines = [
            f"dir {self.directory}",
            f"sentinel monitor {name} {self.master[0]} {self.master[1]} {self.quorum}",
            f"sentinel down-after-milliseconds {name} {DOWN_AFTER_MS}",
            f"sentinel failover-timeout {name} {FAILOVER_TIMEOUT_MS}",
            f"sentinel parallel-syncs {name} 1",
        ]
        self.config_path.write_text("\n".join([*lines, ""]))

    def command(self) -> list[str]:
        # Port and bind on the command line: a port moved after a failed first start wins
        # over the one Sentinel rewrote into its file.
        return [
            find_binary("redis-server", "redis"),
            str(self.config_path),
            "--sentinel",
            *("--port", str(self.port), "--bind", self.host),
            *("--daemonize", "no", "--logfile", ""),
        ]

    def answers(self) -> bool:
        """A ``PING`` gets a reply."""
        return redis_answers(self.address)

    def ask(self, *command: str, timeout: float = 1.0) -> object:
        """Send one command and return its decoded reply (redis-py, a fresh connection)."""
        import redis

        client = redis.Redis(
            host=self.host,
            port=self.port,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            decode_responses=True,
            retry=None,
        )
        try:
            return client.execute_command(*command)
        finally:
            client.close()


class RedisSentinelSet:
    """A master, ``replicas`` replicas and ``sentinels`` sentinels, each its own process.

    Args:
        directory: Parent of every server's directory; ``None`` makes a temporary one
            that :meth:`close` removes.
        replicas: How many replicas follow the master (at least 1 for a failover).
        sentinels: How many sentinels watch it (3 gives a quorum of 2 a majority).
        password: ``requirepass``/``masterauth`` of the Redis servers (not the sentinels).
    """

    #: Seconds :meth:`start` waits for replication and for the sentinels to know each other.
    ready_timeout = 20.0

    def __init__(
        self,
        directory: Path | None = None,
        *,
        replicas: int = 1,
        sentinels: int = 3,
        password: str | None = None,
    ) -> None:
        self._own_directory = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="envoxy-sentinel-set-"))
        self.service_name = SERVICE_NAME
        self.password = password
        self.servers: list[PrivateRedis] = []
        self.sentinels: list[PrivateSentinel] = []
        self._replica_count = replicas
        self._sentinel_count = sentinels

    # ------------------------------------------------------------------ public API

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """``(host, port)`` of every sentinel."""
        return [sentinel.address for sentinel in self.sentinels]

    @property
    def sentinel_hosts(self) -> list[str]:
        """Every sentinel as ``host:port`` (the ``sentinels`` setting of ``envoxy.json``)."""
        return [f"{host}:{port}" for host, port in self.sentinel_addresses]

    @property
    def master(self) -> PrivateRedis:
        """The server the sentinels name as master now."""
        return self.server_at(self.master_address())

    @property
    def replicas(self) -> list[PrivateRedis]:
        """Every server but the current master."""
        master = self.master
        return [server for server in self.servers if server is not master]

    def server_at(self, address: tuple[str, int]) -> PrivateRedis:
        """The server of this set listening on ``address``."""
        for server in self.servers:
            if server.address == address:
                return server
        raise ServerError(f"no server of this sentinel set listens on {address[0]}:{address[1]}")

    def master_address(self, sentinel: PrivateSentinel | None = None) -> tuple[str, int]:
        """The master's address as one sentinel (the first that answers) reports it."""
        candidates = [sentinel] if sentinel is not None else self.sentinels
        for candidate in candidates:
            with contextlib.suppress(Exception):
                reply = candidate.ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service_name)
                if isinstance(reply, list | tuple) and len(reply) == 2:
                    return (str(reply[0]), int(reply[1]))
        raise ServerError(f"no sentinel of this set names a master for {self.service_name}")

    def start(self) -> Self:
        """Start the master, the replicas and the sentinels; return once all agree.

        Raises:
            ServerStartError: A process did not start.
            TimeoutError: Replication or sentinel discovery not complete within
                :attr:`ready_timeout`.
        """
        try:
            master = self._add_server([])
            for _ in range(self._replica_count):
                self._add_server(["--replicaof", master.host, str(master.port)])
            for index in range(self._sentinel_count):
                sentinel = PrivateSentinel(
                    self.directory / f"sentinel-{index}", master=master.address
                )
                self.sentinels.append(sentinel)
                sentinel.start()
            self.wait_until_ready(master.address)
        except BaseException:
            self.close()
            raise
        return self

    def wait_until_ready(
        self, master: tuple[str, int] | None = None, timeout: float | None = None
    ) -> float:
        """Wait until every sentinel names ``master``, sees every replica and the other
        sentinels, and the master has every replica online; return the seconds waited.

        ``master=None`` follows the master the sentinels name at each look: after a
        failover a second election may pick another replica (a first one that lost its
        quorum), and the set then settles on that one.
        """
        expected_replicas = len(self.servers) - 1
        expected_sentinels = len(self.sentinels) - 1

        def ready() -> bool:
            if master is None:
                try:
                    wanted = self.master_address()
                except ServerError:
                    return False
            else:
                wanted = master
            for sentinel in self.sentinels:
                if not sentinel.running or sentinel.frozen:
                    continue
                try:
                    state = _pairs(sentinel.ask("SENTINEL", "MASTER", self.service_name))
                except Exception:
                    return False
                if (state.get("ip"), int(state.get("port", 0))) != wanted:
                    return False
                flags = state.get("flags", "")
                if "s_down" in flags or "o_down" in flags or "failover" in flags:
                    return False
                if int(state.get("num-slaves", 0)) < expected_replicas:
                    return False
                if int(state.get("num-other-sentinels", 0)) < expected_sentinels:
                    return False
            return _online_replicas(self.server_at(wanted)) >= self._live_replicas(wanted)

        named = "the master its sentinels name" if master is None else f"{master[0]}:{master[1]}"
        return wait_until(
            ready,
            timeout=timeout or self.ready_timeout,
            interval=0.05,
            what=f"sentinel set {self.service_name} settled on {named}",
        )

    def failover(self, timeout: float = 10.0) -> PrivateRedis:
        """Force a failover (``SENTINEL FAILOVER``); return the new master once every
        running sentinel names it and it answers ``ROLE`` as master.

        The old master is not a replica yet: Sentinel converts it about 8 s later
        (until then it still accepts writes from clients that did not move);
        :meth:`settle` waits for that.

        Raises:
            TimeoutError: The switch did not complete within ``timeout`` seconds.
        """
        old = self.master_address()
        self.sentinels[0].ask("SENTINEL", "FAILOVER", self.service_name)

        def switched() -> bool:
            try:
                named = {
                    self.master_address(sentinel)
                    for sentinel in self.sentinels
                    if sentinel.running and not sentinel.frozen
                }
            except ServerError:
                return False
            if len(named) != 1 or old in named:
                return False
            return role(self.server_at(named.pop())) == "master"

        wait_until(switched, timeout=timeout, what="every sentinel names a new master")
        return self.master

    def settle(self, timeout: float = 20.0) -> float:
        """Wait until every replica (the old master included) follows the master the
        sentinels agree on, whichever it ends up being; return the seconds waited."""
        return self.wait_until_ready(None, timeout=timeout)

    def close(self) -> None:
        """Stop every sentinel and server (even frozen); remove the directory if made here."""
        errors: list[BaseException] = []
        for process in [*self.sentinels, *self.servers]:
            try:
                process.close()
            except BaseException as exc:  # close the others anyway
                errors.append(exc)
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
        if errors:
            raise errors[0]

    def processes(self) -> Sequence[ServerProcess]:
        """Every process of the set (servers first), for log tails."""
        return [*self.servers, *self.sentinels]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<RedisSentinelSet {self.service_name}: {len(self.servers)} servers, "
            f"{len(self.sentinels)} sentinels>"
        )

    # ------------------------------------------------------------------ helpers

    def _add_server(self, extra_args: list[str]) -> PrivateRedis:
        server = PrivateRedis(
            self.directory / f"redis-{len(self.servers)}",
            password=self.password,
            # A new replica's first sync starts at once, not after the default 5 s.
            extra_args=["--repl-diskless-sync-delay", "0", *extra_args],
        )
        self.servers.append(server)
        return server.start()

    def _live_replicas(self, master: tuple[str, int]) -> int:
        return sum(
            1
            for server in self.servers
            if server.address != master and server.running and not server.frozen
        )


def _pairs(reply: object) -> dict[str, str]:
    """A flat ``[key, value, ...]`` reply (or redis-py's dict of it) as a dict of strings."""
    if isinstance(reply, dict):
        return {str(key): str(value) for key, value in reply.items()}
    if isinstance(reply, list):
        return {str(reply[i]): str(reply[i + 1]) for i in range(0, len(reply) - 1, 2)}
    return {}


def role(server: PrivateRedis) -> str:
    """``master`` or ``slave`` as ``ROLE`` of ``server`` says; ``""`` when it does not answer."""
    try:
        reply = _ask(server, "ROLE")
    except Exception:
        return ""
    first = reply[0] if isinstance(reply, list) and reply else b""
    return first.decode() if isinstance(first, bytes) else str(first)


def _online_replicas(server: PrivateRedis) -> int:
    """How many replicas ``INFO replication`` of ``server`` lists as online (0 on error)."""
    try:
        info = _ask(server, "INFO", "replication")
    except Exception:
        return 0
    return sum(
        1
        for key, value in info.items()
        if key.startswith("slave") and isinstance(value, dict) and value.get("state") == "online"
    )


def _ask(server: PrivateRedis, *command: str) -> Any:
    """``command``'s parsed reply from ``server`` on a fresh connection (1 s timeouts, no
    retries); raises what redis-py raises."""
    import redis

    client = redis.Redis(
        host=server.host,
        port=server.port,
        password=server.password,
        socket_timeout=1,
        socket_connect_timeout=1,
        retry=None,
    )
    try:
        return client.execute_command(*command)
    finally:
        client.close()
