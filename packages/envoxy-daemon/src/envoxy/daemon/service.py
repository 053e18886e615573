"""The service mule: the per-service work that must run once, not once per worker.

envoxyd starts it with ``--mule=envoxy.daemon.service:run``. It

- subscribes the MQTT views (each message handled once whatever the worker count),
  with the replica's own MQTT client ids (no process tag);
- fetches the credentials it needs for MQTT;
- feeds systemd's watchdog (``WATCHDOG=1`` while ``/_health`` answers 200 within 5 s)
  and sends ``READY=1``;
- on shutdown (uWSGI sends it SIGHUP) sends ``STOPPING=1``, stops new connections on
  the listening sockets, and gives MQTT handlers ``shutdown_grace`` seconds to finish.
"""

import os
import signal
import socket
import threading
from typing import Any

from envoxy.daemon.mqtt import MqttSubscriber
from envoxy.daemon.runtime import Runtime, current
from envoxy.utils.identity import set_process_tag
from envoxy.utils.logs import after_fork, log
from envoxy.utils.watchdog import Watchdog, notify

__all__ = ["HEALTH_TIMEOUT", "ServiceMule", "run", "watchdog_interval"]

#: seconds the watchdog's own /_health request may take
HEALTH_TIMEOUT = 5.0


class ServiceMule:
    """The service mule's work for ``runtime``; :meth:`serve` runs until :meth:`stop`."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.app.settings
        self.subscriber = MqttSubscriber(runtime.app.mqtt_routes, app=runtime.app)
        self.watchdog: Watchdog | None = None
        self.stopping = threading.Event()

    def serve(self) -> None:
        """Start the work, wait for :meth:`stop`, then shut down gracefully."""
        self.runtime.app.start_background()
        self.subscriber.start()
        interval = watchdog_interval(self.settings.keep_alive)
        if interval:
            self.watchdog = Watchdog(interval, check=self.healthy)
            self.watchdog.start()
        notify("READY=1")
        while not self.stopping.wait(3600):
            pass
        self.shutdown()

    def stop(self, *args: Any) -> None:
        """Ask :meth:`serve` to shut down (a signal handler)."""
        self.stopping.set()

    def shutdown(self) -> None:
        """Send ``STOPPING=1``, refuse new connections and drain the MQTT handlers."""
        notify("STOPPING=1")
        log.info("[envoxyd] stopping: new connections refused, draining")
        for fd in self.runtime.listen_fds:
            listener = socket.socket(fileno=os.dup(fd))
            try:
                listener.shutdown(socket.SHUT_RD)
            except OSError as exc:
                log.verbose(f"[envoxyd] listening socket {fd} already closed: {exc}")
            finally:
                listener.close()
        if self.watchdog is not None:
            self.watchdog.stop(1)
        self.subscriber.stop(self.settings.shutdown_grace)

    def healthy(self) -> bool:
        """Return whether this service's ``/_health`` answers 200 within 5 s."""
        url = self.runtime.health_url
        if url is None:
            return True
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=HEALTH_TIMEOUT
        )
        try:
            connection.request("GET", parts.path)
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()


def watchdog_interval(keep_alive: int) -> float:
    """Return the watchdog interval: ``keep_alive``, else systemd's ``WATCHDOG_USEC``, else 0."""
    if keep_alive and keep_alive > 0:
        return float(keep_alive)
    usec = os.environ.get("WATCHDOG_USEC", "")
    return int(usec) / 1_000_000 if usec.isdigit() else 0.0


def run() -> None:
    """The mule's entry point (``--mule=envoxy.daemon.service:run``)."""
    after_fork()  # forked from C by uWSGI: its lines carry the mule's own pid
    runtime = current()
    if runtime is None:
        log.error("[envoxyd] the service mule found no prepared service; is this envoxyd?")
        return
    set_process_tag("")
    mule = ServiceMule(runtime)
    # uWSGI sends SIGHUP for a graceful stop; SIGINT/SIGQUIT (immediate stop) keep
    # uWSGI's own handling
    signal.signal(signal.SIGHUP, mule.stop)
    mule.serve()
