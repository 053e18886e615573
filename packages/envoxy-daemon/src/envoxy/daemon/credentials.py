"""The service's credentials, fetched in the background and retried until they arrive.

Each process that serves (every worker and the service mule) runs one
:class:`CredentialsKeeper` after it forks. Until the fetch succeeds the service is
not ready (``/_ready`` answers 503); a failure never exits the process. What it
fetches is also put in ``uwsgi.opt["credentials"]``, where envoxy 0.7 services read it.
"""

import threading
from collections.abc import Callable, Mapping
from typing import Any

from envoxy.auth.credentials import authenticate_container
from envoxy.daemon.legacy_uwsgi import publish_credentials
from envoxy.utils.logs import log
from envoxy.views.outages import outage_kind

__all__ = ["RETRY_INTERVAL", "CredentialsKeeper"]

#: seconds between two attempts
RETRY_INTERVAL = 30.0


class CredentialsKeeper:
    """Fetch ``credentials`` with ``fetch`` in a daemon thread, retrying every ``retry_interval``.

    :param section: the ``credentials`` section of ``envoxy.json``.
    :param fetch: the function that obtains them (:func:`authenticate_container`).
    :param retry_interval: seconds between attempts.
    """

    def __init__(
        self,
        section: Mapping[str, Any],
        fetch: Callable[[Mapping[str, Any]], Any] = authenticate_container,
        retry_interval: float = RETRY_INTERVAL,
    ) -> None:
        self.section = dict(section)
        self.fetch = fetch
        self.retry_interval = retry_interval
        self._value: Any = None
        self._failure: BaseException | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the fetching thread (once per process; later calls do nothing)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="envoxy-credentials", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop retrying."""
        self._stop.set()

    def get(self) -> Any:
        """Return the credentials, or ``{}`` while they are missing (a credentials provider)."""
        return self._value if self._value is not None else {}

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the credentials arrive; return whether they did."""
        return self._ready.wait(timeout)

    def check(self) -> str | None:
        """Return ``None`` when the credentials are there, else a short reason they are
        not: ``pending`` (no attempt finished yet), ``timeout``, ``unreachable`` or
        ``error`` (the details are in the log)."""
        if self._ready.is_set():
            return None
        failure = self._failure
        return "pending" if failure is None else outage_kind(failure)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                value = self.fetch(self.section)
            except Exception as exc:
                self._failure = exc
                log.error(
                    f"credentials not obtained ({type(exc).__name__}: {exc}); "
                    f"retrying in {self.retry_interval:g} s"
                )
            else:
                self._value = value
                publish_credentials(value)
                self._ready.set()
                log.info("credentials obtained")
                return
            self._stop.wait(self.retry_interval)
