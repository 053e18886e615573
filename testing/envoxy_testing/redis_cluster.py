"""A private Redis Cluster on loopback: 3 masters (and optional replicas), made by redis-cli.

::

    with PrivateRedisCluster(masters=3) as cluster:   # created, every slot served, state ok
        cluster.startup_nodes                          # ["127.0.0.1:port", ...]
        cluster.node_for_key("user:1")                 # the PrivateRedis serving its slot
        cluster.nodes[0].freeze()                      # any node can be broken like a server

Every node is a :class:`~envoxy_testing.servers.PrivateRedis` with
``--cluster-enabled yes`` and its cluster bus on a second free port
(``--cluster-port``); ``redis-cli --cluster create ... --cluster-yes`` assigns the
16384 slots. ``cluster-node-timeout`` is 1000 ms, so a replica takes over a dead
master within a few seconds. Every wait is bounded; :meth:`close` stops every node.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

from envoxy_testing.network import free_port, wait_until
from envoxy_testing.servers import PrivateRedis, ServerError, ServerStartError, find_binary

__all__ = ["CLUSTER_SLOTS", "PrivateRedisCluster"]

#: Hash slots of a Redis Cluster.
CLUSTER_SLOTS = 16384
NODE_TIMEOUT_MS = 1000


class PrivateRedisCluster:
    """``masters`` masters with ``replicas`` replicas each, every one its own process.

    Args:
        directory: Parent of every node's directory; ``None`` makes a temporary one
            that :meth:`close` removes.
        masters: Masters sharing the slots (Redis Cluster needs at least 3).
        replicas: Replicas per master.
    """

    #: Seconds to wait for ``redis-cli --cluster create`` and for every node to agree.
    ready_timeout = 30.0

    def __init__(
        self, directory: Path | None = None, *, masters: int = 3, replicas: int = 0
    ) -> None:
        if masters < 3:
            raise ServerError("a Redis Cluster needs at least 3 masters")
        self._own_directory = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="envoxy-redis-cluster-"))
        self.nodes: list[PrivateRedis] = []
        self._masters = masters
        self._replicas = replicas

    # ------------------------------------------------------------------ public API

    @property
    def startup_nodes(self) -> list[str]:
        """Every node as ``host:port`` (what a client needs to find the others)."""
        return [f"{node.host}:{node.port}" for node in self.nodes]

    @property
    def url(self) -> str:
        """``redis://host:port/0`` of the first node."""
        return self.nodes[0].url

    def start(self) -> Self:
        """Start every node, create the cluster, return once every node serves every slot.

        Raises:
            ServerStartError: A node did not start or ``redis-cli --cluster create`` failed.
            TimeoutError: The nodes did not agree within :attr:`ready_timeout`.
        """
        try:
            for index in range(self._masters * (1 + self._replicas)):
                node = PrivateRedis(
                    self.directory / f"node-{index}",
                    extra_args=[
                        *("--cluster-enabled", "yes"),
                        *("--cluster-config-file", "nodes.conf"),
                        *("--cluster-node-timeout", str(NODE_TIMEOUT_MS)),
                        *("--cluster-port", str(free_port())),
                        *("--repl-diskless-sync-delay", "0"),
                    ],
                )
                self.nodes.append(node)
                node.start()
            self._create()
            self.wait_until_ready()
        except BaseException:
            self.close()
            raise
        return self

    def wait_until_ready(self, timeout: float | None = None) -> float:
        """Wait until every running node reports ``cluster_state:ok``, knows every node
        and sees all slots assigned; return the seconds waited."""
        total = len(self.nodes)

        def ready() -> bool:
            for node in self.nodes:
                if not node.running or node.frozen:
                    continue
                info = cluster_info(node)
                if info.get("cluster_state") != "ok":
                    return False
                if int(info.get("cluster_known_nodes", 0)) < total:
                    return False
                if int(info.get("cluster_slots_assigned", 0)) != CLUSTER_SLOTS:
                    return False
            return True

        return wait_until(
            ready, timeout=timeout or self.ready_timeout, interval=0.05, what="cluster state ok"
        )

    def masters(self) -> list[PrivateRedis]:
        """The nodes that are masters now (``ROLE``)."""
        return [node for node in self.nodes if _role(node) == "master"]

    def node_for_key(self, key: str) -> PrivateRedis:
        """The master serving the slot of ``key`` now."""
        import redis

        node = next(node for node in self.nodes if node.running and not node.frozen)
        client = redis.Redis(host=node.host, port=node.port, socket_timeout=1, retry=None)
        try:
            slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
            ranges = client.execute_command("CLUSTER", "SLOTS")
        finally:
            client.close()
        ranges = ranges.values() if isinstance(ranges, dict) else ranges
        for entry in ranges:
            first, last, master = entry[0], entry[1], entry[2]
            if int(first) <= slot <= int(last):
                host = master[0].decode() if isinstance(master[0], bytes) else str(master[0])
                address = (host, int(master[1]))
                return next(node for node in self.nodes if node.address == address)
        raise ServerError(f"no node serves slot {slot} of {key!r}")

    def close(self) -> None:
        """Stop every node (even frozen); remove the directory if made here."""
        errors: list[BaseException] = []
        for node in self.nodes:
            try:
                node.close()
            except BaseException as exc:  # close the others anyway
                errors.append(exc)
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
        if errors:
            raise errors[0]

    def processes(self) -> list[PrivateRedis]:
        """Every node, for log tails."""
        return list(self.nodes)

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
        return f"<PrivateRedisCluster {self._masters} masters x {1 + self._replicas} nodes>"

    # ------------------------------------------------------------------ helpers

    def _create(self) -> None:
        command = [
            find_binary("redis-cli", "redis"),
            "--cluster",
            "create",
            *self.startup_nodes,
            *("--cluster-replicas", str(self._replicas)),
            "--cluster-yes",
        ]
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=self.ready_timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServerStartError(
                f"redis-cli --cluster create took over {self.ready_timeout}s"
            ) from exc
        if result.returncode != 0:
            raise ServerStartError(
                f"redis-cli --cluster create failed ({result.returncode}):\n"
                f"{(result.stdout + result.stderr)[-2000:]}"
            )


def cluster_info(node: PrivateRedis) -> dict[str, str]:
    """``CLUSTER INFO`` of ``node`` as a dict (empty when it does not answer)."""
    import redis

    client = redis.Redis(
        host=node.host, port=node.port, socket_timeout=1, socket_connect_timeout=1, retry=None
    )
    try:
        reply = client.execute_command("CLUSTER", "INFO")
    except Exception:
        return {}
    finally:
        client.close()
    if isinstance(reply, dict):
        return {str(key): str(value) for key, value in reply.items()}
    text = reply.decode() if isinstance(reply, bytes) else str(reply)
    pairs = (line.partition(":") for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, _, value in pairs}


def _role(node: PrivateRedis) -> str:
    from envoxy_testing.redis_sentinel import role

    return role(node)
