"""Hard deadlines for blocking socket I/O done by C libraries (libpq): shut the socket down.

A driver blocked in ``poll()``/``recv()`` on a server that stopped answering (a frozen
process, a network path that stopped forwarding) waits for ever: the kernel of the peer,
or of a proxy on the way, still acknowledges every byte, so TCP keepalives and
``tcp_user_timeout`` never fire. The one thing that wakes such a call from another
thread is ``shutdown(2)`` on its socket: the blocked read returns end-of-file and the
driver fails as if the server had hung up.

:class:`SocketDeadlines` does that with one daemon thread per process::

    alarm = socket_deadlines().arm(conn.fileno(), time.monotonic() + 5)
    try:
        cursor.execute(sql)
    except Exception:
        if alarm.cancel():  # True: the deadline passed and the socket was shut down
            raise DeadlineError(...) from None
        raise
    alarm.cancel()

Arming and cancelling take a lock and touch a heap; nothing wakes the thread unless a
new alarm is due before the one it already sleeps for, so a steady stream of calls that
finish in time costs it about one wake-up per deadline period. Cancelled alarms leave the
heap lazily (and in bulk when they outnumber the armed ones). The thread ends when it
wakes to find nothing armed, so an idle process has none (and a later ``fork`` finds
none); the next alarm starts it again.

An alarm is only ever fired while its owner is still blocked in the call (``cancel``
and the firing take the same lock), so a descriptor closed and reused after
``cancel`` is never touched.
"""

import heapq
import itertools
import math
import os
import select
import socket
import threading
import time

__all__ = ["Alarm", "SocketDeadlines", "socket_closed_by_peer", "socket_deadlines"]

# A heap with more dead entries than this, and four times more than armed ones, is
# rebuilt with the armed ones only.
_COMPACT_ABOVE = 256
_CLOSED_EVENTS = select.POLLIN | select.POLLERR | select.POLLHUP | select.POLLRDHUP


class Alarm:
    """One armed deadline: the socket ``fd`` is shut down at monotonic time ``at``."""

    __slots__ = ("_owner", "armed", "at", "fd", "fired")

    def __init__(self, owner: "SocketDeadlines", fd: int, at: float) -> None:
        self._owner = owner
        self.fd = fd
        self.at = at
        self.armed = True
        self.fired = False

    def cancel(self) -> bool:
        """Disarm; return True when the deadline had passed and the socket was shut down.

        Idempotent. After it returns the socket is never touched by the watcher.
        """
        owner = self._owner
        with owner._lock:
            if self.armed:
                self.armed = False
                owner._armed -= 1
            return self.fired


class SocketDeadlines:
    """Shut down sockets whose blocking call outlives its deadline (one thread, lazily started).

    Build one per process with :func:`socket_deadlines`; a forked child gets its own.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._armed = 0
        self._wake_at = math.inf  # when the watcher looks next; inf: no watcher running
        self._thread: threading.Thread | None = None
        self.fired = 0  # alarms fired since the start, for tests and diagnostics

    @property
    def armed(self) -> int:
        """Alarms armed and not yet cancelled nor fired."""
        return self._armed

    def arm(self, fd: int, at: float) -> Alarm:
        """Shut down socket ``fd`` at monotonic time ``at`` unless the alarm is cancelled first."""
        alarm = Alarm(self, fd, at)
        with self._lock:
            heap = self._heap
            heapq.heappush(heap, (at, next(self._order), alarm))
            self._armed += 1
            if len(heap) > _COMPACT_ABOVE and len(heap) > 4 * self._armed:
                self._heap = heap = [entry for entry in heap if entry[2].armed]
                heapq.heapify(heap)
            if at < self._wake_at:
                self._wake_at = at
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._watch, name="envoxy-deadlines", daemon=True
                    )
                    self._thread.start()
                else:
                    self._changed.notify()
        return alarm

    def _watch(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                heap = self._heap
                while heap and (not heap[0][2].armed or heap[0][0] <= now):
                    alarm = heapq.heappop(heap)[2]
                    if alarm.armed:
                        alarm.armed = False
                        alarm.fired = True
                        self._armed -= 1
                        self.fired += 1
                        _shut_down(alarm.fd)
                if not self._armed:  # idle: end; the next arm starts a new thread
                    heap.clear()
                    self._wake_at = math.inf
                    self._thread = None
                    return
                self._wake_at = heap[0][0]
                self._changed.wait(self._wake_at - now)


def socket_deadlines() -> SocketDeadlines:
    """Return this process's :class:`SocketDeadlines` (a forked child builds its own)."""
    pid = os.getpid()
    instance = _instances.get(pid)
    if instance is None:
        instance = _instances.setdefault(pid, SocketDeadlines())
    return instance


def socket_closed_by_peer(fd: int) -> bool:
    """Tell, without blocking, whether an idle connection's socket is readable or hung up.

    A client connection waiting in a pool has nothing to read: readable data (a
    server's goodbye message), end-of-file or an error means the server closed it
    (a restart, a killed backend) or keepalives found the path dead.
    """
    poller = select.poll()
    poller.register(fd, _CLOSED_EVENTS)
    return bool(poller.poll(0))


_instances: dict[int, SocketDeadlines] = {}


def _shut_down(fd: int) -> None:
    """``shutdown(SHUT_RDWR)`` socket ``fd`` through a duplicate (the owner closes ``fd``)."""
    try:
        duplicate = os.dup(fd)
    except OSError:
        return
    try:
        sock = socket.socket(fileno=duplicate)
    except OSError:  # not a socket
        os.close(duplicate)
        return
    with sock:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already disconnected
            return
