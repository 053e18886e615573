"""Lines written together: one ``write`` for many per-request log lines.

Under a busy uWSGI worker one ``write`` per request costs far more than its bytes (a
system call, a chance for the scheduler to switch away, colder caches afterwards), and
building each line as it happens costs more than keeping its parts. So a batched
:class:`envoxy.utils.logs.LineEmitter` (envoxyd's access line) queues the parts of each
line with its time in the handler's :class:`LineBatch`, and the lines are built,
rendered and written together:

- when :data:`BATCH_LINES` are queued (to a pipe or socket in pieces of at most
  :data:`BATCH_BYTES`, Linux's ``PIPE_BUF``: each piece is one atomic write, so lines of
  processes sharing a pipe never interleave; to a regular file in one write, which Linux
  keeps whole among processes sharing the file);
- when another line is written through the same handler (the batch goes first: the
  order of the lines is kept);
- at most :data:`BATCH_SECONDS` after the first of them, by a daemon thread started in
  each process on its first queued line (or by the next line, when threads cannot run);
  with nothing queued the thread waits, without waking up or taking a lock;
- when the handler is flushed or closed, which :mod:`logging` does at interpreter exit.

Besides its own queue, a batch writes the lines of its *sources* (:class:`LineSource`):
producers that queue records of their own shape and render many lines in one pass
(envoxyd's request ledger, whose records also feed its metrics). A source calls
:meth:`LineBatch.wake` when it queues its first record, and :meth:`LineBatch.flush` when
it holds enough; its lines go out with the batch's, in its own order, before any later
unbatched line.

A process killed with ``SIGKILL`` loses its last :data:`BATCH_SECONDS` of queued lines at
most. A forked child drops the lines it inherited (its parent writes them): at
:func:`os.fork`, or when a C fork's child calls :func:`envoxy.utils.logs.after_fork`.
"""

import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from envoxy.utils.log_format import current_pid

__all__ = [
    "BATCH_BYTES",
    "BATCH_LINES",
    "BATCH_SECONDS",
    "LineBatch",
    "LineSource",
    "QueuedLine",
    "forget_batches",
]

#: the most bytes written at once (Linux's ``PIPE_BUF``: a write this size is atomic)
BATCH_BYTES = 4096
#: the most lines queued before they are written (a batch costs a few microseconds of its
#: own whatever its size: at 40,000 requests a second, 128 lines are 3 ms of them)
BATCH_LINES = 128
#: the longest a queued line waits before it is written
BATCH_SECONDS = 0.1

#: a queued line: ``render(build(*args), created, request_id)`` is its text (no newline)
type QueuedLine = tuple[Callable[..., str], float, Callable[..., str], tuple[Any, ...], str | None]


class LineSource(Protocol):
    """Records queued elsewhere, rendered to lines when their batch is written."""

    def __len__(self) -> int:
        """The number of records queued."""
        ...

    def take_lines(self) -> list[str]:
        """Remove the queued records; return their lines (no newlines), in order.

        Called with the batch's lock held, from any thread.
        """
        ...


class LineBatch:
    """Lines queued by their parts, to be built, rendered and written with ``write``.

    ``generation`` changes whenever the queue is emptied or closed: a producer that
    checked its level and handler may queue again without checking until it changes.

    :param write: writes text (whole lines, newlines included); called with ``lock`` held.
    :param lock: the lock of the writer (the handler's).
    :param failed: called (inside ``except``) when a queued line cannot be built.
    """

    def __init__(
        self,
        write: Callable[[str], None],
        lock: threading.RLock,
        failed: Callable[[], None],
        piece_bytes: Callable[[], int | None] = lambda: BATCH_BYTES,
    ) -> None:
        self._write = write
        self._lock = lock
        self._failed = failed
        self._piece_bytes = piece_bytes
        self.entries: list[QueuedLine] = []
        self.generation = 0
        self.closed = False
        self._started = 0.0
        self._flusher_pid: int | None = None
        #: set when a first line is queued: the flusher sleeps on it while nothing is
        self._wakeup = threading.Event()
        #: the sources (weakly: a source is kept while it lives)
        self._sources: list[weakref.ref[LineSource]] = []
        _BATCHES.add(self)

    def add_source(self, source: LineSource) -> None:
        """Write the lines of ``source`` with this batch's (kept while ``source`` lives)."""
        with self._lock:
            live = [ref for ref in self._sources if ref() is not None]
            if not any(ref() is source for ref in live):
                live.append(weakref.ref(source))
            self._sources = live

    def remove_source(self, source: LineSource) -> None:
        """Stop writing the lines of ``source`` (it writes them another way now)."""
        with self._lock:
            self._sources = [
                ref for ref in self._sources if ref() is not None and ref() is not source
            ]

    def wake(self) -> None:
        """Make sure queued lines are written within :data:`BATCH_SECONDS`: a source
        calls it when it queues a first record (cheap when the flusher runs)."""
        if self._flusher_pid != current_pid():
            with self._lock:
                if self._flusher_pid != current_pid():
                    self._start_flusher()
        self._wakeup.set()

    def pending(self) -> bool:
        """Whether any line is queued here or in a source."""
        if self.entries:
            return True
        for ref in self._sources:
            source = ref()
            if source is not None and len(source):
                return True
        return False

    def queue(
        self,
        render: Callable[..., str],
        created: float,
        build: Callable[..., str],
        args: tuple[Any, ...],
        request_id: str | None = None,
    ) -> None:
        """Queue the line ``render(build(*args), created, request_id)``; write the queue
        first when it is full or old enough.

        :param request_id: the request id of the line, read when it is queued (it is
            rendered later, outside the request).
        """
        lock = self._lock
        lock.acquire()  # not "with": this runs for every request's access line
        try:
            entries = self.entries
            if not entries:
                self._started = time.monotonic()
                if self._flusher_pid != current_pid():
                    self._start_flusher()
                self._wakeup.set()
            elif len(entries) >= BATCH_LINES or time.monotonic() - self._started > BATCH_SECONDS:
                self.write_queued()
                self._started = time.monotonic()
            self.entries.append((render, created, build, args, request_id))
        finally:
            lock.release()

    def write_queued(self, then: str = "") -> None:
        """Build, render and write the queued lines (the sources' after this batch's
        own), then ``then`` (a line with its newline), in as few writes as
        :data:`BATCH_BYTES` allows (the caller holds the lock)."""
        limit = self._piece_bytes()
        texts = self._take(limit)
        for ref in self._sources:
            source = ref()
            if source is not None and len(source):
                texts += _chunks(self._source_lines(source), limit)
        if then:
            if texts and (limit is None or len(texts[-1]) + len(then) <= limit):
                texts[-1] += then
            else:
                texts.append(then)
        for text in texts:
            self._write(text)

    def flush(self) -> None:
        """Write the queued lines now. A stream that fails is reported through the
        handler (``handleError``) and those lines are dropped: a broken log never fails
        the request or the thread that happened to flush."""
        with self._lock:
            if self.pending():
                try:
                    self.write_queued()
                except RecursionError:
                    raise
                except Exception:
                    self._failed()
                if not self.closed and self.pending():
                    # a source's record queued while its records were taken: its producer
                    # saw a queue that was not empty, so woke nobody
                    self.wake()

    def close(self) -> None:
        """Write the queued lines and stop the flusher thread."""
        self.flush()
        self.closed = True
        self.generation += 1
        self._wakeup.set()  # the flusher thread ends

    def _take(self, limit: int | None) -> list[str]:
        """Empty the queue; return its lines as texts of at most :data:`BATCH_BYTES` (a
        longer line alone), each line with its newline."""
        entries = self.entries
        if not entries:
            return []
        self.entries = []  # before building: a line logged meanwhile finds the queue empty
        self.generation += 1
        lines: list[str] = []
        for render, created, build, args, request_id in entries:
            try:
                lines.append(render(build(*args), created, request_id))
            except RecursionError:
                raise
            except Exception:
                self._failed()
        return _chunks(lines, limit)

    def _source_lines(self, source: LineSource) -> list[str]:
        try:
            return source.take_lines()
        except RecursionError:
            raise
        except Exception:  # the source's records are gone; the handler says so
            self._failed()
            return []

    def _start_flusher(self) -> None:
        self._flusher_pid = current_pid()
        # a new event in each process: a forked child's copy may be in any state
        self._wakeup = wakeup = threading.Event()
        thread = threading.Thread(
            target=self._flush_periodically, args=(wakeup,), name="envoxy-log-batch"
        )
        thread.daemon = True
        thread.start()

    def _flush_periodically(self, wakeup: threading.Event) -> None:
        # idle, the thread waits for a first queued line: it takes no lock (a fork from C
        # while it held one would leave the lock held in the child) and costs no wake-up
        while not self.closed:
            wakeup.wait()
            wakeup.clear()
            time.sleep(BATCH_SECONDS)
            try:
                self.flush()
            except Exception:  # a broken stream: the handler reports it with the next line
                continue

    def _forget(self) -> None:
        """In a forked child: the queued lines are the parent's, and so is the thread."""
        self.entries = []
        self.generation += 1
        self._flusher_pid = None


def _chunks(lines: list[str], limit: int | None = BATCH_BYTES) -> list[str]:
    """``lines`` joined into texts of at most ``limit`` bytes (a longer line alone; one
    text when ``limit`` is ``None``), each line with its newline."""
    if not lines:
        return []
    text = "\n".join(lines) + "\n"
    if limit is None:
        return [text]
    if text.isascii():  # the usual case: cut after the last newline that fits
        if len(text) <= limit:
            return [text]
        texts = []
        start, end = 0, len(text)
        while end - start > limit:
            cut = text.rfind("\n", start, start + limit) + 1
            if cut <= start:  # a line longer than a piece goes alone
                cut = text.index("\n", start) + 1
            texts.append(text[start:cut])
            start = cut
        if start < end:
            texts.append(text[start:])
        return texts
    texts = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        length = (len(line) if line.isascii() else len(line.encode())) + 1
        if chunk and size + length > limit:
            texts.append("\n".join(chunk) + "\n")
            chunk, size = [], 0
        chunk.append(line)
        size += length
    if chunk:
        texts.append("\n".join(chunk) + "\n")
    return texts


_BATCHES: weakref.WeakSet[LineBatch] = weakref.WeakSet()


def forget_batches() -> None:
    """Drop the queued lines in a forked child (its parent writes them); see
    ``logs.after_fork``."""
    for batch in list(_BATCHES):
        batch._forget()


os.register_at_fork(after_in_child=forget_batches)
