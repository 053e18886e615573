"""A bounded pool of handler threads for one MQTT view.

``max_workers`` threads take the view's messages from bounded queues. Unordered, they
share one queue: a message goes to the first free thread. ``ordered``, each thread has
its own queue and the messages of one topic always go to the same one (by a stable hash
of the topic), so they are handled one after another in the order they arrived.

When the queues are full, :meth:`HandlerLanes.submit` waits: the MQTT network thread
stops reading, which pushes back on the broker (TCP) instead of dropping or piling up
messages. With QoS 1 the broker rarely lets it come to that: it sends a client at most
its in-flight window of unacknowledged messages (Mosquitto: ``max_inflight_messages``,
20), and messages are acknowledged only once handled.
"""

import queue
import threading
import zlib
from collections.abc import Callable

from envoxy.utils.logs import log

__all__ = ["MAX_WORKERS", "QUEUE_PER_WORKER", "HandlerLanes"]

#: The most handler threads one view may have.
MAX_WORKERS = 256
#: Messages that may wait per handler thread before the network thread waits.
QUEUE_PER_WORKER = 16

type Job = Callable[[], None]


class HandlerLanes:
    """``max_workers`` threads running the jobs of one view.

    :param name: names the threads (``envoxy-mqtt-<name>-<n>``) and log lines.
    :param max_workers: the number of threads (1 to :data:`MAX_WORKERS`).
    :param ordered: give the jobs of one key (the topic) to the same thread.
    """

    def __init__(self, name: str, max_workers: int = 1, ordered: bool = False) -> None:
        if not 1 <= max_workers <= MAX_WORKERS:
            raise ValueError(f"max_workers must be 1 to {MAX_WORKERS}, not {max_workers}")
        self.name = name
        self.max_workers = max_workers
        self.ordered = ordered
        lanes = max_workers if ordered else 1
        capacity = QUEUE_PER_WORKER * (1 if ordered else max_workers)
        self._queues: list[queue.Queue[Job | None]] = [
            queue.Queue(maxsize=capacity) for _ in range(lanes)
        ]
        self._pending = 0
        self._idle = threading.Condition()
        self._closed = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the threads (daemon threads: they never hold the process up at exit)."""
        for number in range(self.max_workers):
            lane = self._queues[number if self.ordered else 0]
            thread = threading.Thread(
                target=self._work, args=(lane,), name=f"envoxy-mqtt-{self.name}-{number + 1}"
            )
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def submit(self, key: str, job: Job) -> bool:
        """Queue ``job``, waiting while its queue is full.

        :param key: the topic; with ``ordered`` it picks the thread.
        :returns: False when the lanes were stopped (``job`` will not run).
        """
        queues = self._queues
        lane = (
            queues[zlib.crc32(key.encode(errors="replace")) % len(queues)]
            if len(queues) > 1
            else queues[0]
        )
        with self._idle:
            if self._closed:
                return False
            self._pending += 1
        while True:
            try:
                lane.put(job, timeout=0.5)
                return True
            except queue.Full:
                if self._closed:
                    self._done()
                    return False

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        return self._pending

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until no job is queued or running."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self) -> int:
        """Stop taking jobs; the threads end after their current job. Idempotent.

        :returns: the number of queued jobs dropped (they will not run).
        """
        with self._idle:
            if self._closed:
                return 0
            self._closed = True
        dropped = 0
        for lane in self._queues:
            while True:
                try:
                    job = lane.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    dropped += 1
                    self._done()
        for lane in self._queues:
            for _ in range(1 if self.ordered else self.max_workers):
                lane.put(None)
        return dropped

    def _work(self, lane: "queue.Queue[Job | None]") -> None:
        while True:
            job = lane.get()
            if job is None:
                return
            try:
                job()
            except Exception as exc:  # the job logs its handler's errors; this is a bug guard
                log.error(f"[MQTT] {self.name}: job failed: {type(exc).__name__}: {exc}")
            finally:
                self._done()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()
