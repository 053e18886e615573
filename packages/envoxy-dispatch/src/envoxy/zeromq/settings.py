"""Settings of the ZeroMQ client, read from ``zmq_servers.<key>`` and ``zmq_workers``.

Every default has a name here; numbers accept numeric strings (SPEC §8).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from envoxy.constants import ZEROMQ_RETRY_TIMEOUT
from envoxy.exceptions import ConfigError
from envoxy.utils.config import as_float, as_int
from envoxy.utils.retry import Backoff, RetryPolicy

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_SOCKETS",
    "DEFAULT_MAX_WORKERS",
    "DEFAULT_RETRIES",
    "DEFAULT_RETRY_DELAY",
    "DEFAULT_TIMEOUT",
    "RETRY_DELAY_GROWTH",
    "ZmqServerSettings",
    "ZmqWorkerSettings",
]

#: Seconds one attempt may take, the wait for a free socket included.
DEFAULT_TIMEOUT = 30.0
#: Seconds a whole call may take, every attempt and pause included. It stays well
#: under uWSGI's ``harakiri`` (90 s by default), so a silent peer answers the caller
#: a 503 instead of getting its worker killed mid-request.
DEFAULT_DEADLINE = 30.0
#: Attempts after the first one before a request gives up with a 503.
DEFAULT_RETRIES = 3
#: Ceiling of the first pause between two attempts, in seconds; later pauses double,
#: up to :data:`RETRY_DELAY_GROWTH` times this, each drawn with full jitter.
DEFAULT_RETRY_DELAY = float(ZEROMQ_RETRY_TIMEOUT)
#: The longest pause is this many times ``retry_delay``.
RETRY_DELAY_GROWTH = 4
#: Threads of the executor behind ``future=True`` and ``bulk_requests``.
DEFAULT_MAX_WORKERS = 50
#: REQ sockets one server key may have open at once in a process.
DEFAULT_MAX_SOCKETS = 50


@dataclass(frozen=True, slots=True)
class ZmqServerSettings:
    """The settings of one ``zmq_servers`` entry.

    :param key: the server key.
    :param endpoint: the ZeroMQ endpoint, ``tcp://<host>:<port>``.
    :param timeout: seconds per attempt, the wait for a free socket included.
    :param retries: attempts after the first one.
    :param retry_delay: ceiling of the first pause between attempts (an Envoxy extension).
    :param deadline: seconds for the whole call, attempts and pauses included.
    :param cached_routes: ``"<performative>:<path>"`` → ``{"ttl", "error_ttl"}``.
    """

    key: str
    endpoint: str
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    retry_delay: float = DEFAULT_RETRY_DELAY
    deadline: float = DEFAULT_DEADLINE
    cached_routes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, key: str, conf: Mapping[str, Any]) -> "ZmqServerSettings":
        """Read one ``zmq_servers.<key>`` entry.

        :raises ConfigError: naming the setting when ``host`` or ``port`` is missing,
            a number is malformed, ``timeout`` is not positive or ``retries`` is negative.
        """
        where = f"zmq_servers.{key}"
        host, port = conf.get("host"), conf.get("port")
        if not host or port in (None, ""):
            raise ConfigError(
                f'{where} needs \'host\' and \'port\' (e.g. "host": "127.0.0.1", "port": 5555)'
            )
        port_number = as_int(port, f"{where}.port")
        host_text = str(host)
        endpoint = (
            f"{host_text}:{port_number}"
            if "://" in host_text
            else f"tcp://{host_text}:{port_number}"
        )
        timeout = as_float(conf.get("timeout", DEFAULT_TIMEOUT), f"{where}.timeout")
        retries = as_int(conf.get("retries", DEFAULT_RETRIES), f"{where}.retries")
        retry_delay = as_float(conf.get("retry_delay", DEFAULT_RETRY_DELAY), f"{where}.retry_delay")
        deadline = as_float(conf.get("deadline", DEFAULT_DEADLINE), f"{where}.deadline")
        if deadline <= 0:
            raise ConfigError(
                f"{where}.deadline must be a positive number of seconds, not {deadline}"
            )
        if timeout <= 0:
            raise ConfigError(
                f"{where}.timeout must be a positive number of seconds, not {timeout}"
            )
        if retries < 0:
            raise ConfigError(f"{where}.retries must be 0 or more, not {retries}")
        if retry_delay < 0:
            raise ConfigError(f"{where}.retry_delay must be 0 or more, not {retry_delay}")
        routes = conf.get("cached_routes") or {}
        if not isinstance(routes, Mapping):
            raise ConfigError(f"{where}.cached_routes must be an object of route → settings")
        return cls(
            key=key,
            endpoint=endpoint,
            timeout=timeout,
            retries=retries,
            retry_delay=retry_delay,
            deadline=deadline,
            cached_routes=dict(routes),
        )

    def backoff(self, retry_delay: float | None = None) -> Backoff:
        """Return the pauses between attempts (``retry_delay`` overrides the setting)."""
        base = self.retry_delay if retry_delay is None else retry_delay
        return Backoff(base=base, cap=base * RETRY_DELAY_GROWTH)

    def worst_case(self) -> float:
        """Return the longest a call can take: every attempt timing out and every
        pause at its ceiling, bounded by ``deadline``."""
        policy = RetryPolicy(self.retries + 1, self.backoff(), ())
        return min(self.deadline, policy.worst_case(self.timeout))


@dataclass(frozen=True, slots=True)
class ZmqWorkerSettings:
    """The ``zmq_workers`` section.

    :param max_workers: threads behind ``future=True`` and ``bulk_requests``
        (``thread_poll_executor_max_workers``).
    :param max_sockets: REQ sockets per server key (``context_max_workers``); a
        request waits for a free one within its attempt's timeout.
    """

    max_workers: int = DEFAULT_MAX_WORKERS
    max_sockets: int = DEFAULT_MAX_SOCKETS

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> "ZmqWorkerSettings":
        """Read the ``zmq_workers`` section.

        :raises ConfigError: naming the setting when a value is not a positive integer.
        """
        max_workers = as_int(
            conf.get("thread_poll_executor_max_workers", DEFAULT_MAX_WORKERS),
            "zmq_workers.thread_poll_executor_max_workers",
        )
        max_sockets = as_int(
            conf.get("context_max_workers", DEFAULT_MAX_SOCKETS), "zmq_workers.context_max_workers"
        )
        for name, value in (
            ("thread_poll_executor_max_workers", max_workers),
            ("context_max_workers", max_sockets),
        ):
            if value < 1:
                raise ConfigError(f"zmq_workers.{name} must be 1 or more, not {value}")
        return cls(max_workers=max_workers, max_sockets=max_sockets)
