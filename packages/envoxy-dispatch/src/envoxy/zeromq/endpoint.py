"""One ``zmq_servers`` key of a process: its socket pool, retry policy and reply cache.

:meth:`Endpoint.send` runs one request: the reply cache first (cached routes only), then
up to ``retries + 1`` attempts of at most ``timeout`` seconds each, all within the
call's ``deadline``; each attempt borrows a REQ socket of the pool for one complete
exchange.
"""

import time
from typing import TYPE_CHECKING, Any

from envoxy.exceptions import ValidationException
from envoxy.utils.encoders import envoxy_json_loads
from envoxy.utils.logs import log
from envoxy.utils.observe import observed
from envoxy.utils.retry import RetryPolicy
from envoxy.zeromq.envelope import clean_response, encode_request
from envoxy.zeromq.exceptions import (
    ZmqAttemptError,
    ZmqConnectError,
    ZmqDeadlineError,
    ZmqTimeoutError,
)
from envoxy.zeromq.pool import SocketPool
from envoxy.zeromq.settings import ZmqServerSettings

if TYPE_CHECKING:
    from envoxy.zeromq.route_cache import RouteCache

__all__ = ["Endpoint"]

#: Milliseconds an attempt may run past its timeout rather than adjust RCVTIMEO.
_RCVTIMEO_SLACK_MS = 2


class Endpoint:
    """The settings, socket pool, retry policy and reply cache of one server key."""

    __slots__ = (
        "_again",
        "_rcvtimeo",
        "_sndmore",
        "_timeout_ms",
        "_zmq_error",
        "cache",
        "policy",
        "pool",
        "settings",
    )

    def __init__(
        self,
        zmq: Any,
        settings: ZmqServerSettings,
        pool: SocketPool,
        policy: RetryPolicy,
        cache: "RouteCache | None",
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.policy = policy
        self.cache = cache
        self._again = zmq.Again
        self._zmq_error = zmq.ZMQError
        self._rcvtimeo = zmq.RCVTIMEO
        self._timeout_ms = max(1, int(settings.timeout * 1000))
        self._sndmore = zmq.SNDMORE

    @observed("zmq", key=lambda self, message: self.settings.key)
    def send(self, message: dict[str, Any]) -> Any:
        """Send ``message`` with retries; return the cleaned reply."""
        route = self.cache.route(message) if self.cache is not None else None
        if route is not None and self.cache is not None:
            cached = self.cache.get(message)
            if cached is not None:
                return cached
        data = encode_request(message)
        started = time.monotonic()
        deadline = started + self.settings.deadline
        try:
            reply = self.policy.call(
                lambda: self._exchange(data, deadline), deadline=deadline, on_retry=self._log_retry
            )
        except ZmqAttemptError as exc:
            log.error(
                f"zmqc {self.settings.key}: {self.settings.endpoint} did not answer "
                f"{message.get('resource')} within {time.monotonic() - started:.1f} s "
                f"(deadline {self.settings.deadline:g} s, up to {self.settings.retries + 1} "
                f"attempts): {exc}"
            )
            unavailable = ZmqDeadlineError if isinstance(exc, ZmqTimeoutError) else ZmqConnectError
            raise unavailable() from exc
        try:
            response = clean_response(envoxy_json_loads(reply))
        except ValueError as exc:
            raise ValidationException(
                f"zmqc {self.settings.key}: the reply of {self.settings.endpoint} to "
                f"{message.get('resource')} is not JSON ({exc})",
                code=0,
                status=502,
            ) from exc
        if route is not None and self.cache is not None:
            self.cache.set(message, route, response)
        return response

    def _exchange(self, data: bytes, call_deadline: float) -> bytes:
        deadline = min(time.monotonic() + self.settings.timeout, call_deadline)
        pool = self.pool
        sock = pool.checkout(deadline)
        try:
            sock.send(b"", self._sndmore)  # the "Zapata" framing is [b"", json]
            sock.send(data)
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                raise ZmqTimeoutError(f"no time left to wait for {self.settings.endpoint}")
            # Sockets wait `timeout` for a reply (RCVTIMEO); shorten it only when the
            # wait for the socket or the send used part of the attempt's time, or the
            # call's deadline comes first.
            shortened = remaining_ms < self._timeout_ms - _RCVTIMEO_SLACK_MS
            if shortened:
                sock.setsockopt(self._rcvtimeo, remaining_ms)
            frames = sock.recv_multipart()
            if shortened:
                sock.setsockopt(self._rcvtimeo, self._timeout_ms)
        except self._again as exc:
            pool.discard(sock)
            raise ZmqTimeoutError(
                f"no reply from {self.settings.endpoint} within "
                f"{min(self.settings.timeout, self.settings.deadline):g} s"
            ) from exc
        except self._zmq_error as exc:
            pool.discard(sock)
            raise ZmqAttemptError(f"{self.settings.endpoint}: {exc}") from exc
        except BaseException:
            pool.discard(sock)
            raise
        pool.checkin(sock)
        return frames[-1]

    def _log_retry(self, number: int, error: BaseException, delay: float) -> None:
        log.warning(
            f"zmqc {self.settings.key}: attempt {number} of {self.settings.retries + 1} "
            f"failed ({error}); retrying in {delay:.2f} s"
        )

    def close(self) -> None:
        """Close the idle sockets; lent ones close when they come back. Idempotent."""
        self.pool.close()
