"""Redis behind Sentinel: a bounded, blocking pool of master connections that follows
failovers, built on redis-py's ``redis.sentinel``.

redis-py's :class:`redis.sentinel.SentinelConnectionPool` asks the sentinels for the
master on every *new* connection, and turns a ``READONLY`` reply (the old master is a
replica now) into a reconnect. It leaves two gaps this module closes:

- it is not bounded-and-blocking like the pool of a plain server key
  (``max_connections`` + ``pool_timeout``): :class:`BlockingSentinelPool` mixes it with
  :class:`redis.BlockingConnectionPool`;
- pooled connections keep talking to the old master until it is demoted, which after
  a ``SENTINEL FAILOVER`` (the old master is alive) takes Sentinel about 8-10 s; writes
  it acknowledges meanwhile are lost when it resyncs. A :class:`MasterWatch` thread
  subscribes to ``+switch-master`` on a sentinel and re-points the pool at once: idle
  connections are closed, busy ones are dropped when given back. It also asks the
  sentinels every :data:`POLL_SECONDS` in case a notice was missed.

The watch thread starts with the pool's first connection, holds the pool weakly and
ends with :meth:`BlockingSentinelPool.close` (or when the pool is collected). What
remains is Redis's own window: writes the old master acknowledged between the
replica's promotion and the switch notice (a fraction of a second) are lost, as
Redis's asynchronous replication documents.
"""

import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from redis import BlockingConnectionPool
from redis.exceptions import RedisError
from redis.sentinel import Sentinel, SentinelConnectionPool

from envoxy.utils.logs import log

if TYPE_CHECKING:
    from redis.client import PubSub

__all__ = ["POLL_SECONDS", "BlockingSentinelPool", "MasterWatch"]

#: Seconds between two "which is the master?" questions of the watch thread.
POLL_SECONDS = 5.0
#: Seconds the watch waits for a notice before it looks again (and checks it should stop).
_WAKE_SECONDS = 1.0
#: Seconds the watch pauses after no sentinel could be reached.
_RETRY_SECONDS = 1.0


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """Master connections of ``service_name``: at most ``max_connections``, a caller waits
    up to ``timeout`` seconds for a free one, and a :class:`MasterWatch` re-points the
    pool when Sentinel switches the master.

    Built by ``Sentinel.master_for(service_name, connection_pool_class=BlockingSentinelPool,
    max_connections=..., timeout=...)``.
    """

    def __init__(self, service_name: str, sentinel_manager: Sentinel, **kwargs: Any) -> None:
        super().__init__(service_name, sentinel_manager, **kwargs)
        self._watch: MasterWatch | None = None
        self._watch_lock = threading.Lock()

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        """A master connection (waiting for a free one); starts the watch on first use."""
        if self._watch is None:
            self._start_watch()
        return super().get_connection(*args, **kwargs)

    def close(self) -> None:
        """Stop the watch and disconnect every connection. Idempotent."""
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.stop()
        self.disconnect()

    def _start_watch(self) -> None:
        with self._watch_lock:
            if self._watch is None:
                self._watch = MasterWatch(self)


class MasterWatch:
    """A daemon thread that re-points ``pool`` when a sentinel announces ``+switch-master``
    for its service, and polls the sentinels every :data:`POLL_SECONDS` as a fallback.

    It holds the pool weakly: a pool nobody uses any more ends it within a second.
    """

    def __init__(self, pool: BlockingSentinelPool) -> None:
        self._pool = weakref.ref(pool)
        self.service_name = pool.service_name
        self._sentinel: Sentinel = pool.sentinel_manager
        self._stopped = threading.Event()
        #: Master switches this watch applied (for tests and logs).
        self.switches = 0
        self._thread = threading.Thread(
            target=self._run, name=f"envoxy-sentinel-{self.service_name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to end and wait up to ``timeout`` seconds for it."""
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        index = 0
        while not self._stopped.is_set():
            clients = self._sentinel.sentinels
            client = clients[index % len(clients)]
            index += 1
            try:
                self._listen(client.pubsub(ignore_subscribe_messages=True))
            except (RedisError, OSError) as exc:
                log.debug(f"redis sentinel watch of {self.service_name}: {exc}; next sentinel")
                self._stopped.wait(_RETRY_SECONDS)
            except ReferenceError:  # the pool is gone
                return

    def _listen(self, pubsub: "PubSub") -> None:
        try:
            pubsub.subscribe("+switch-master")
            next_poll = time.monotonic() + POLL_SECONDS
            while not self._stopped.is_set():
                message = pubsub.get_message(timeout=_WAKE_SECONDS)
                if message is not None and self._names_our_service(message):
                    self._refresh("switch notice")
                    next_poll = time.monotonic() + POLL_SECONDS
                elif time.monotonic() >= next_poll:
                    pubsub.ping()  # a frozen sentinel fails here, after socket_timeout
                    self._refresh("poll")
                    next_poll = time.monotonic() + POLL_SECONDS
        finally:
            pubsub.close()

    def _names_our_service(self, message: dict[str, Any]) -> bool:
        data = message.get("data")
        text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
        return message.get("type") == "message" and text.split(" ", 1)[0] == self.service_name

    def _refresh(self, why: str) -> None:
        pool = self._pool()
        if pool is None:
            raise ReferenceError("pool collected")
        before = pool.master_address  # type: ignore[attr-defined]  # (types-redis 4.6 predates it)
        # redis-py's own re-pointing: asks the sentinels, and when the master changed
        # closes the idle connections (busy ones are dropped when given back).
        after = pool.get_master_address()
        if before is not None and after != before:
            self.switches += 1
            log.info(
                f"redis sentinel {self.service_name}: master moved to "
                f"{after[0]}:{after[1]} ({why}); connections to the old one are dropped"
            )
