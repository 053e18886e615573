"""Finished requests, recorded by one append each and accounted for many at a time.

Every request envoxyd answers ends with :meth:`RequestLedger.add`: one tuple
(:data:`FinishedRequest`) appended to a queue, nothing else. The queued records are
*settled* together, in one pass: counted in the HTTP metrics
(:meth:`~envoxy.daemon.metrics.Metrics.count_requests`) and rendered to access lines
(:class:`~envoxy.daemon.reqlog.AccessLines`) written in one ``write``. They are settled

- when :data:`SETTLE_RECORDS` are queued, or by the first record queued more than
  :data:`SETTLE_SECONDS` after the oldest;
- with access lines, by the log handler's batch (:mod:`envoxy.utils.log_batch`, whose
  source the ledger is): at most :data:`SETTLE_SECONDS` after the first record, and
  before any other log line, so the lines keep their order;
- before the metrics are flushed (every second), scraped, or written at exit.

Per request this replaces a locked queue of log lines and a locked update of the
metrics: under a busy uWSGI worker the access line and the metrics then cost a
fraction of a microsecond each instead of several (``tools/bench/bench_daemon.py``).

Without Envoxy's handler alone on the logger (other handlers or filters), each access
line goes through the logger as soon as its request ends, as any other line. A forked
child drops the records it inherited (its parent settles them): at :func:`os.fork`, or
when a C fork's child calls :func:`forget_ledgers` (envoxyd's post-fork hook does).
"""

import os
import weakref
from collections import deque
from typing import TYPE_CHECKING

from envoxy.utils.log_batch import BATCH_LINES, BATCH_SECONDS

if TYPE_CHECKING:
    from envoxy.daemon.metrics import Metrics
    from envoxy.daemon.reqlog import AccessLines
    from envoxy.utils.log_setup import EnvoxyStreamHandler

__all__ = [
    "SETTLE_RECORDS",
    "SETTLE_SECONDS",
    "FinishedRequest",
    "RequestLedger",
    "forget_ledgers",
]

#: one finished request: (started, ended) as :func:`time.perf_counter_ns` values (integer
#: arithmetic: cheaper than floats when many are settled), method, path, status, route
#: template (the metrics' label) and request id
type FinishedRequest = tuple[int, int, str, str, int, str, str]

#: the most records queued before they are settled
SETTLE_RECORDS = BATCH_LINES
#: the longest a record waits before it is settled (with access lines)
SETTLE_SECONDS = BATCH_SECONDS
_SETTLE_NANOSECONDS = int(SETTLE_SECONDS * 1e9)


class RequestLedger:
    """The finished requests of one app in this process, settled in batches.

    :param metrics: counts the records (``None``: metrics off).
    :param access: renders their access lines (``None``: below INFO, or at VERBOSE
        where the app writes each line itself).
    """

    def __init__(self, metrics: "Metrics | None", access: "AccessLines | None") -> None:
        self._queue: deque[FinishedRequest] = deque()
        self._oldest = 0
        self._metrics = metrics
        self._access = access
        #: the handler whose batch writes the access lines, when Envoxy's handler is the
        #: logger's only one (set when a first record is queued)
        self._handler: EnvoxyStreamHandler | None = None
        if metrics is not None:
            metrics.add_ledger(self)
        _LEDGERS.add(self)

    def add(self, record: FinishedRequest) -> None:
        """Queue one finished request (thread-safe; settles the queue when it is due)."""
        queue = self._queue
        queue.append(record)
        size = len(queue)
        if size == 1:
            self._oldest = record[1]
            self._first_queued()
        elif size >= SETTLE_RECORDS or record[1] - self._oldest > _SETTLE_NANOSECONDS:
            self.settle()

    def settle(self) -> None:
        """Count and write the queued records now."""
        if not self._queue:
            return
        handler = self._handler
        if handler is not None and self._access is not None:
            handler.batch.flush()  # calls take_lines with the handler's lock held
            return
        records = self._take()
        if self._metrics is not None:
            self._metrics.count_requests(records)
        if self._access is not None:
            self._access.log(records)

    def take_lines(self) -> list[str]:
        """Settle the queued records; return their access lines (the log handler's
        batch calls it, with the handler's lock held). Nothing is taken while the
        records go through the logger instead (other handlers or filters appeared): the
        thread that queued them logs them."""
        if self._handler is None:
            return []
        records = self._take()
        if self._metrics is not None:
            self._metrics.count_requests(records)
        handler = self._handler
        if self._access is None or handler is None or not records:
            return []
        try:
            return self._access.render(records, handler)
        except RecursionError:
            raise
        except Exception:  # one record that cannot be rendered: the others still can
            return self._access.render_each(records, handler)

    def forget(self) -> None:
        """Drop the queued records (in a forked child: they are the parent's)."""
        self._queue = deque()
        self._handler = None

    def __len__(self) -> int:
        return len(self._queue)

    def _first_queued(self) -> None:
        """A first record in an empty queue: make sure it is settled in time."""
        if self._metrics is not None:
            self._metrics.start()
        access = self._access
        if access is None:
            return  # the metrics' flush settles it, or the records that follow
        handler = access.handler()
        if handler is not self._handler:
            if self._handler is not None:
                self._handler.batch.remove_source(self)
            if handler is not None:
                handler.batch.add_source(self)
            self._handler = handler
        if handler is None:  # other handlers on the logger: no batching
            self.settle()
            return
        handler.batch.wake()

    def _take(self) -> list[FinishedRequest]:
        """Remove the queued records (another thread may be adding, or taking too without
        the handler's lock: the metrics' flusher and a request settling at once; each
        record is taken once)."""
        queue = self._queue
        take = queue.popleft
        records: list[FinishedRequest] = []
        keep = records.append
        try:
            for _ in range(len(queue)):
                keep(take())
        except IndexError:  # another thread took the rest meanwhile
            pass
        return records


def forget_ledgers() -> None:
    """Drop every ledger's queued records in a forked child (its parent settles them)."""
    for ledger in list(_LEDGERS):
        ledger.forget()


_LEDGERS: weakref.WeakSet[RequestLedger] = weakref.WeakSet()
os.register_at_fork(after_in_child=forget_ledgers)
