"""A checkout pool of REQ sockets for one ZeroMQ endpoint.

A socket is lent to one thread at a time and comes back only after a complete
request/reply exchange, so a REQ socket never serves two threads and never
holds a half-finished exchange. A socket whose exchange failed is closed.
"""

import threading
import time
from typing import TYPE_CHECKING, Any

from envoxy.utils.observe import PoolStats
from envoxy.zeromq.exceptions import ZmqTimeoutError

if TYPE_CHECKING:
    import zmq

__all__ = ["SocketPool"]


class SocketPool:
    """REQ sockets connected to one endpoint, at most ``max_sockets`` open at once.

    :param zmq_module: the imported ``zmq`` module.
    :param context: the process's ``zmq.Context``.
    :param endpoint: e.g. ``tcp://127.0.0.1:5555``.
    :param max_sockets: the cap of open sockets; a checkout waits for a free one.
    :param timeout_ms: ``SNDTIMEO`` and ``RCVTIMEO`` of new sockets.
    """

    def __init__(
        self,
        zmq_module: Any,
        context: "zmq.Context[Any]",
        endpoint: str,
        *,
        max_sockets: int,
        timeout_ms: int,
    ) -> None:
        self.endpoint = endpoint
        self._zmq = zmq_module
        self._context = context
        self._max_sockets = max_sockets
        self._timeout_ms = timeout_ms
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._idle: list[zmq.Socket[Any]] = []
        self._open = 0
        self._waiting = 0
        self._closed = False

    def checkout(self, deadline: float) -> "zmq.Socket[Any]":
        """Lend a socket to the calling thread.

        :param deadline: ``time.monotonic()`` value after which waiting stops.
        :raises ZmqTimeoutError: when ``max_sockets`` are lent out until the deadline.
        :raises RuntimeError: when the pool is closed.
        """
        with self._lock:
            if self._idle:
                return self._idle.pop()
            while self._open >= self._max_sockets:
                self._check_open()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ZmqTimeoutError(
                        f"no free socket for {self.endpoint}: all {self._max_sockets} are busy "
                        "(raise zmq_workers.context_max_workers or the server's timeout)"
                    )
                self._waiting += 1
                try:
                    self._freed.wait(remaining)
                finally:
                    self._waiting -= 1
                if self._idle:
                    return self._idle.pop()
            self._check_open()
            self._open += 1
        try:
            return self._new_socket()
        except BaseException:
            self._forget_one()
            raise

    def checkin(self, sock: "zmq.Socket[Any]") -> None:
        """Take back a socket whose exchange completed."""
        with self._lock:
            if not self._closed:
                self._idle.append(sock)
                if self._waiting:
                    self._freed.notify()
                return
        self.discard(sock)

    def discard(self, sock: "zmq.Socket[Any]") -> None:
        """Close a socket whose exchange failed and free its place."""
        sock.close(linger=0)
        self._forget_one()

    def close(self) -> None:
        """Close the idle sockets; lent ones are closed when they come back. Idempotent."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._freed.notify_all()
        for sock in idle:
            sock.close(linger=0)

    def stats(self) -> PoolStats:
        """Return the sockets lent out, open and the limit."""
        open_now = self._open
        return PoolStats(max(open_now - len(self._idle), 0), open_now, self._max_sockets)

    @property
    def open_sockets(self) -> int:
        """How many sockets are open, idle or lent."""
        return self._open

    def _new_socket(self) -> "zmq.Socket[Any]":
        sock = self._context.socket(self._zmq.REQ)
        try:
            sock.linger = 0
            sock.sndtimeo = self._timeout_ms
            sock.rcvtimeo = self._timeout_ms
            sock.connect(self.endpoint)
        except BaseException:
            sock.close(linger=0)
            raise
        return sock

    def _forget_one(self) -> None:
        with self._lock:
            self._open -= 1
            if self._waiting:
                self._freed.notify()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the socket pool of {self.endpoint} is closed")
