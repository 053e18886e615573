"""systemd notifications (``sd_notify``) and the keep-alive :class:`Watchdog` thread.

:func:`notify` speaks systemd's datagram protocol directly, so no third-party package
is needed::

    notify("READY=1")        # False when not started by systemd (NOTIFY_SOCKET unset)

:class:`Watchdog` pings ``WATCHDOG=1`` at once and then every ``max(interval / 2, 0.5)``
seconds while its ``check()`` passes; after 3 consecutive failed checks it logs an error
and stops, so systemd restarts the service.
"""

import os
import socket
import threading
from collections.abc import Callable

from envoxy.utils.logs import log

__all__ = ["MAX_FAILURES", "NOTIFY_SOCKET_ENV_VAR", "THREAD_NAME", "Watchdog", "notify"]

#: The environment variable systemd sets to its notification socket.
NOTIFY_SOCKET_ENV_VAR = "NOTIFY_SOCKET"
#: The name of the watchdog thread (one per process).
THREAD_NAME = "watchdog"
#: Consecutive failed checks after which the watchdog stops pinging.
MAX_FAILURES = 3


def notify(message: str) -> bool:
    """Send ``message`` (e.g. ``"READY=1"``, ``"WATCHDOG=1"``) to systemd.

    The socket is ``NOTIFY_SOCKET``: a file path, or an abstract socket written ``@name``.

    :param message: one or more ``KEY=value`` lines.
    :returns: True when sent; False (and nothing done) when ``NOTIFY_SOCKET`` is unset.
    :raises OSError: when the socket cannot be reached; the message names it.
    """
    address = os.environ.get(NOTIFY_SOCKET_ENV_VAR)
    if not address:
        return False
    target = f"\0{address[1:]}" if address.startswith("@") else address
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(message.encode(), target)
        except OSError as exc:
            raise OSError(
                exc.errno, f"cannot notify systemd at {NOTIFY_SOCKET_ENV_VAR}={address}: {exc}"
            ) from exc
    return True


class Watchdog:
    """Keep systemd's watchdog fed from a daemon thread while the service is healthy.

    :param interval: the keep-alive period in seconds (``keep_alive``); ``None`` or
        ≤ 0 disables the watchdog.
    :param check: a zero-argument health check; a false result or an exception counts
        as a failure. ``None`` always passes.
    """

    def __init__(self, interval: float | None, check: Callable[[], object] | None = None) -> None:
        self.interval = interval
        self.check = check
        self.thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def period(self) -> float:
        """Seconds between pings: ``max(interval / 2, 0.5)``."""
        return max((self.interval or 0) / 2, 0.5)

    def start(self) -> bool:
        """Start the ``watchdog`` thread, which pings once at once and then every :attr:`period`.

        :returns: True when a thread was started; False when disabled (``interval`` is
            ``None`` or ≤ 0) or when this process already runs a watchdog.
        """
        if self.interval is None or self.interval <= 0:
            log.verbose("[Watchdog] not enabled: keep_alive is missing or 0")
            return False
        with _RUNNING_LOCK:
            running = _RUNNING.get(os.getpid())
            if running is not None and running.is_alive():
                log.verbose(f"[Watchdog] already running in process {os.getpid()}")
                return False
            self._stop.clear()
            self.thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
            self.thread.start()
            _RUNNING[os.getpid()] = self.thread
        return True

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to stop and wait up to ``timeout`` seconds for it."""
        self._stop.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    def is_alive(self) -> bool:
        """Return whether the watchdog thread is running."""
        return self.thread is not None and self.thread.is_alive()

    def _run(self) -> None:
        self._ping()
        failures = 0
        while not self._stop.wait(self.period):
            if self._healthy() and self._ping():
                failures = 0
                continue
            failures += 1
            if failures >= MAX_FAILURES:
                log.error(
                    f"[Watchdog] {failures} consecutive failed health checks: stopping "
                    "WATCHDOG=1 so that systemd restarts the service"
                )
                return
            log.warning(f"[Watchdog] health check failed ({failures}/{MAX_FAILURES})")

    def _healthy(self) -> bool:
        if self.check is None:
            return True
        try:
            return bool(self.check())
        except Exception as exc:
            log.warning(f"[Watchdog] health check raised {type(exc).__name__}: {exc}")
            return False

    def _ping(self) -> bool:
        try:
            notify("WATCHDOG=1")
        except OSError as exc:
            log.warning(f"[Watchdog] {exc}")
            return False
        return True


_RUNNING: dict[int, threading.Thread] = {}
_RUNNING_LOCK = threading.Lock()
