"""Settings of the ZeroMQ client, read from ``zmq_servers.<key>`` and ``zmq_workers``.

Every default has a name here; numbers accept numeric strings (SPEC §8).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from envoxy.constants import ZEROMQ_RETRY_TIMEOUT
from envoxy.exceptions import ConfigError
from envoxy.utils.retry import Backoff, RetryPolicy
from envoxy.utils.settings import host_port, integer, seconds

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_SOCKETS",
    "DEFAULT_MAX_WORKERS",
    "DEFAULT_RETRIES",
    "DEFAULT_RETRY_DELAY",
    "DEFAULT_TIMEOUT",
    "RETRY_DELAY_GROWTH",
    "SECTION",
    "WORKERS_SECTION",
    "ZmqServerSettings",
    "ZmqWorkerSettings",
]

#: The ``envoxy.json`` section holding the ZeroMQ server keys.
SECTION = "zmq_servers"
#: The ``envoxy.json`` section sizing the executor and the socket pools.
WORKERS_SECTION = "zmq_workers"
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
    :param where: the config location named in messages (``"zmq_servers.<key>"``).

    .. versionchanged:: 1.1
       ``bind`` (``"host:port"``) is accepted as well as ``host`` and ``port``.
    """

    SECTION: ClassVar[str] = SECTION
    KEYS: ClassVar[frozenset[str]] = frozenset(
        {"bind", "host", "port", "timeout", "retries", "retry_delay", "deadline", "cached_routes"}
    )

    key: str
    endpoint: str
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    retry_delay: float = DEFAULT_RETRY_DELAY
    deadline: float = DEFAULT_DEADLINE
    cached_routes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    where: str = ""

    def __post_init__(self) -> None:
        if not self.where:
            object.__setattr__(self, "where", f"{SECTION}.{self.key}")

    @classmethod
    def from_config(
        cls, key: str, conf: Mapping[str, Any], *, where: str | None = None
    ) -> "ZmqServerSettings":
        """Read one ``zmq_servers.<key>`` entry.

        :param where: the location named in messages; default ``"zmq_servers.<key>"``.
        :raises ConfigError: naming the setting when ``host`` or ``port`` is missing,
            a number is malformed, ``timeout`` is not positive or ``retries`` is negative.
        """
        where = where or f"{SECTION}.{key}"
        host, port = host_port(conf, where, default_host=None, default_port=None)
        routes = conf.get("cached_routes") or {}
        if not isinstance(routes, Mapping):
            raise ConfigError(f"{where}.cached_routes must be an object of route → settings")
        return cls(
            key=key,
            endpoint=f"{host}:{port}" if "://" in host else f"tcp://{host}:{port}",
            timeout=seconds(conf, "timeout", DEFAULT_TIMEOUT, where),
            retries=integer(conf, "retries", DEFAULT_RETRIES, where, minimum=0),
            retry_delay=seconds(conf, "retry_delay", DEFAULT_RETRY_DELAY, where, zero=True),
            deadline=seconds(conf, "deadline", DEFAULT_DEADLINE, where),
            cached_routes=dict(routes),
            where=where,
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

    KEYS: ClassVar[frozenset[str]] = frozenset(
        {"thread_poll_executor_max_workers", "context_max_workers"}
    )

    max_workers: int = DEFAULT_MAX_WORKERS
    max_sockets: int = DEFAULT_MAX_SOCKETS

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> "ZmqWorkerSettings":
        """Read the ``zmq_workers`` section (a section, not a server: no key).

        :raises ConfigError: naming the setting when a value is not a positive integer.
        """
        return cls(
            max_workers=integer(
                conf,
                "thread_poll_executor_max_workers",
                DEFAULT_MAX_WORKERS,
                WORKERS_SECTION,
                minimum=1,
            ),
            max_sockets=integer(
                conf, "context_max_workers", DEFAULT_MAX_SOCKETS, WORKERS_SECTION, minimum=1
            ),
        )
