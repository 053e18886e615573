"""The ZeroMQ request/reply client behind ``zmqc``.

One :class:`ZmqClient` serves every ``zmq_servers`` key of a process. A key's
settings, socket pool and retry policy are built on its first request; the
configuration is never read at import or construction. After ``os.fork()`` the
child drops the parent's sockets, context and threads and builds its own.
"""

import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from envoxy.constants import DEFAULT_STATUS_CODE, URI_REGEX
from envoxy.exceptions import ConfigError, ValidationException
from envoxy.utils.config import Config
from envoxy.utils.encoders import envoxy_json_loads
from envoxy.utils.imports import require
from envoxy.utils.logs import log
from envoxy.utils.retry import RetryPolicy
from envoxy.zeromq.envelope import (
    build_request,
    clean_response,
    encode_request,
    prepare_message,
)
from envoxy.zeromq.exceptions import (
    ZmqAttemptError,
    ZmqConnectError,
    ZmqDeadlineError,
    ZmqTimeoutError,
)
from envoxy.zeromq.pool import SocketPool
from envoxy.zeromq.settings import ZmqServerSettings, ZmqWorkerSettings

if TYPE_CHECKING:
    from envoxy.zeromq.route_cache import RouteCache

__all__ = ["ZmqClient"]

_EXTRA = "envoxy-dispatch[zmq]"
_URI = re.compile(URI_REGEX)
#: Milliseconds an attempt may run past its timeout rather than adjust RCVTIMEO.
_RCVTIMEO_SLACK_MS = 2
#: What forked children inherited from their parent, kept so it is never finalized.
_INHERITED: list[Any] = []


class ZmqClient:
    """Send "Zapata" requests to ZeroMQ REP/ROUTER peers, per server key.

    :param servers: the ``zmq_servers`` mapping to use instead of ``envoxy.json``.
    :param workers: the ``zmq_workers`` mapping to use instead of ``envoxy.json``.
    :param retry_delay: ceiling of the first pause between attempts for every key,
        overriding ``zmq_servers.<key>.retry_delay`` (default 2).
    :param cache_factory: returns the reply cache backend; by default
        ``envoxy.cache.Cache()`` when ``envoxy.json`` has a ``cache`` section.

    Thread-safe: each request borrows a socket of its own from the key's pool.
    """

    def __init__(
        self,
        servers: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        workers: Mapping[str, Any] | None = None,
        retry_delay: float | None = None,
        cache_factory: Callable[[], Any] | None = None,
    ) -> None:
        self._servers = servers
        self._workers_conf = workers
        self._retry_delay = retry_delay
        self._cache_factory = cache_factory
        self._lock = threading.Lock()
        self._endpoints: dict[str, _Endpoint] = {}
        self._context: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._worker_settings: ZmqWorkerSettings | None = None
        _reset_in_forked_child(self)

    def request(
        self,
        server_key: str,
        performative: int,
        url: str,
        params: Any = None,
        payload: Any = None,
        headers: Mapping[str, Any] | None = None,
        future: bool = False,
    ) -> Any:
        """Send one request and return the cleaned reply (or a ``Future`` of it).

        :param server_key: a ``zmq_servers`` key.
        :param performative: the integer verb (:class:`envoxy.constants.Performative`).
        :param url: the resource path.
        :param params: query parameters. :param payload: the body.
        :param headers: merged over the generated headers.
        :param future: return a :class:`concurrent.futures.Future` at once.
        :raises ConfigError: for an unknown key or bad settings.
        :raises PayloadEncodingError: when the request cannot be encoded as JSON.
        :raises ZmqUnavailableError: (a ``ValidationException`` with status 503, and a
            ``TimeoutError`` or ``ConnectError``) when every attempt failed or the
            call's ``deadline`` passed.
        """
        endpoint = self._endpoints.get(server_key) or self._open_endpoint(server_key)
        message = build_request(performative, url, params, payload, headers)
        if future:
            return self._pool_executor().submit(endpoint.send, message)
        return endpoint.send(message)

    def send(self, server_key: str, message: Mapping[str, Any]) -> Any:
        """Send a prepared request and return the cleaned reply.

        :param message: ``resource`` and ``performative`` are required; ``headers``
            are generated when missing. The caller's dict is not modified.
        :raises ValidationException: 412 for a malformed message.
        :raises ZmqUnavailableError: (status 503) when every attempt failed or the
            call's ``deadline`` passed.
        """
        endpoint = self._endpoints.get(server_key) or self._open_endpoint(server_key)
        return endpoint.send(prepare_message(message))

    def submit(self, server_key: str, message: Mapping[str, Any]) -> "Future[Any]":
        """Like :meth:`send`, run on the client's executor; returns a ``Future``."""
        endpoint = self._endpoints.get(server_key) or self._open_endpoint(server_key)
        return self._pool_executor().submit(endpoint.send, prepare_message(message))

    def bulk_requests(self, items: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Validate every item, run them concurrently and return the replies in input order.

        :param items: ``{"server_key", "performative", "url", "params"?, "payload"?,
            "headers"?}`` mappings.
        :raises ValidationException: (412) naming the first malformed item, before
            anything is sent.
        :raises ConfigError: for an unknown server key, before anything is sent.
        :raises: the first request error in input order, once the requests ran.

        Works whether or not an asyncio event loop runs in the calling thread (it
        blocks that thread until the replies are in).
        """
        requests = [_bulk_request(index, item) for index, item in enumerate(items)]
        endpoints = {
            key: self._endpoints.get(key) or self._open_endpoint(key)
            for key in {key for key, _ in requests}
        }
        messages = [
            (endpoints[key], build_request(performative, url, params, payload, headers))
            for key, (performative, url, params, payload, headers) in requests
        ]
        if len(messages) <= 1:
            return [endpoint.send(message) for endpoint, message in messages]
        executor = self._pool_executor()
        futures = [executor.submit(endpoint.send, message) for endpoint, message in messages]
        return [pending.result() for pending in futures]

    def close(self) -> None:
        """Close every socket, the context and the executor. Idempotent; the client
        reopens on its next request."""
        with self._lock:
            endpoints, self._endpoints = self._endpoints, {}
            executor, self._executor = self._executor, None
            context, self._context = self._context, None
            self._worker_settings = None
        for endpoint in endpoints.values():
            endpoint.pool.close()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        if context is not None:
            context.term()

    def _open_endpoint(self, server_key: str) -> "_Endpoint":
        with self._lock:
            endpoint = self._endpoints.get(server_key)
            if endpoint is not None:
                return endpoint
            zmq = require("zmq", _EXTRA)
            settings = ZmqServerSettings.from_config(server_key, self._server_conf(server_key))
            workers = self._workers()
            if self._context is None:
                self._context = zmq.Context()
            pool = SocketPool(
                zmq,
                self._context,
                settings.endpoint,
                max_sockets=workers.max_sockets,
                timeout_ms=max(1, int(settings.timeout * 1000)),
            )
            policy = RetryPolicy(
                settings.retries + 1, settings.backoff(self._retry_delay), (ZmqAttemptError,)
            )
            endpoint = _Endpoint(zmq, settings, pool, policy, self._route_cache(settings))
            self._endpoints[server_key] = endpoint
            return endpoint

    def _server_conf(self, server_key: str) -> Mapping[str, Any]:
        if self._servers is None:
            return Config.server("zmq_servers", server_key)
        conf = self._servers.get(server_key)
        if not isinstance(conf, Mapping):
            known = ", ".join(sorted(self._servers)) or "none"
            raise ConfigError(
                f"zmq_servers has no server key {server_key!r} (known keys: {known}); "
                "add it to the zmq_servers section"
            )
        return conf

    def _workers(self) -> ZmqWorkerSettings:
        if self._worker_settings is None:
            conf = Config.get("zmq_workers") if self._workers_conf is None else self._workers_conf
            self._worker_settings = ZmqWorkerSettings.from_config(conf or {})
        return self._worker_settings

    def _route_cache(self, settings: ZmqServerSettings) -> "RouteCache | None":
        if not settings.cached_routes:
            return None
        # imported here: only servers with cached_routes pay for envoxy.cache
        from envoxy.cache.identity import vary_headers
        from envoxy.zeromq.route_cache import RouteCache

        factory = self._cache_factory
        if factory is not None:
            return RouteCache(settings.key, settings.cached_routes, factory)
        section = Config.get("cache")
        if not section:
            return None
        return RouteCache(
            settings.key, settings.cached_routes, _default_cache, vary_headers(section)
        )

    def _pool_executor(self) -> ThreadPoolExecutor:
        executor = self._executor
        if executor is None:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(
                        max_workers=self._workers().max_workers, thread_name_prefix="envoxy-zmqc"
                    )
                executor = self._executor
        return executor

    def _forget_after_fork(self) -> None:
        # The parent's sockets, context and threads are not usable in the child. They
        # are kept, unused, rather than closed or collected: pyzmq skips closing
        # another process's sockets and would warn about each of them.
        _INHERITED.append((self._endpoints, self._context, self._executor))
        self._lock = threading.Lock()
        self._endpoints = {}
        self._context = None
        self._executor = None


class _Endpoint:
    """The settings, socket pool, retry policy and cache of one server key."""

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


def _bulk_request(
    index: int, item: Any
) -> tuple[str, tuple[int, str, Any, Any, Mapping[str, Any] | None]]:
    def invalid(problem: str) -> ValidationException:
        return ValidationException(
            f"bulk_requests item {index}: {problem}", code=0, status=DEFAULT_STATUS_CODE
        )

    if not isinstance(item, Mapping):
        raise invalid(f"expected a mapping, got {type(item).__name__}")
    server_key = item.get("server_key")
    if not isinstance(server_key, str) or not server_key:
        raise invalid("'server_key' must be a non-empty string")
    performative = item.get("performative")
    if isinstance(performative, bool) or not isinstance(performative, int):
        raise invalid(f"'performative' must be an integer, got {performative!r}")
    url = item.get("url")
    if not isinstance(url, str) or not _URI.fullmatch(url):
        raise invalid(f"'url' must be a resource path, got {url!r}")
    headers = item.get("headers")
    if headers is not None and not isinstance(headers, Mapping):
        raise invalid("'headers' must be a mapping")
    return server_key, (performative, url, item.get("params"), item.get("payload"), headers)


def _default_cache() -> Any:
    from envoxy.cache import Cache

    return Cache()


def _reset_in_forked_child(client: ZmqClient) -> None:
    reference = weakref.ref(client)

    def forget() -> None:
        alive = reference()
        if alive is not None:
            alive._forget_after_fork()

    os.register_at_fork(after_in_child=forget)
