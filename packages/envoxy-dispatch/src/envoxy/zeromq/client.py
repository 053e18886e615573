"""The ZeroMQ request/reply client behind ``zmqc``.

One :class:`ZmqClient` serves every ``zmq_servers`` key of a process. A key's
settings, socket pool and retry policy (an :class:`~envoxy.zeromq.endpoint.Endpoint`)
are built on its first request; the configuration is never read at import or
construction. What the keys share (the ``zmq.Context``, the executor, ``zmq_workers``)
is one ``_Process`` object in a :class:`~envoxy.utils.registry.ClientRegistry`: a
forked child (a uWSGI worker, however it was forked) leaves the parent's sockets,
context and threads alone and builds its own, and :meth:`ZmqClient.close` replaces
all of it at once.
"""

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from typing import TYPE_CHECKING, Any, Protocol, Self, overload

from envoxy.constants import DEFAULT_STATUS_CODE, URI_REGEX, Performative
from envoxy.exceptions import ValidationException
from envoxy.utils.config import Config
from envoxy.utils.imports import require
from envoxy.utils.observe import register_pool
from envoxy.utils.registry import ClientRegistry
from envoxy.utils.retry import RetryPolicy
from envoxy.utils.settings import server_conf
from envoxy.zeromq.endpoint import Endpoint
from envoxy.zeromq.envelope import build_request, prepare_message
from envoxy.zeromq.exceptions import ZmqAttemptError
from envoxy.zeromq.pool import SocketPool
from envoxy.zeromq.settings import SECTION, WORKERS_SECTION, ZmqServerSettings, ZmqWorkerSettings

if TYPE_CHECKING:
    from envoxy.zeromq.route_cache import RouteCache

__all__ = ["VerbMethod", "ZmqClient"]

_EXTRA = "envoxy-dispatch[zmq]"
_URI = re.compile(URI_REGEX)


class VerbMethod(Protocol):
    """``zmqc.get`` and the other verbs: one request with the verb's performative."""

    def __call__(
        self,
        server_key: str,
        url: str,
        params: Any = None,
        payload: Any = None,
        headers: Mapping[str, Any] | None = None,
        future: bool = False,
    ) -> Any:
        """Send the request; return the cleaned reply, or a ``Future`` of it with ``future``.

        See :meth:`ZmqClient.request` for the errors.
        """
        ...


class _Verb:
    """A verb method of :class:`ZmqClient` (``get``, ``post``, ...), built once per client."""

    def __init__(self, performative: Performative) -> None:
        self.performative = performative
        self.name = performative.name.lower()

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, client: None, owner: type) -> Self: ...
    @overload
    def __get__(self, client: "ZmqClient", owner: type) -> VerbMethod: ...
    def __get__(self, client: "ZmqClient | None", owner: type) -> "Self | VerbMethod":
        if client is None:
            return self
        performative, request = self.performative, client.request

        def verb(
            server_key: str,
            url: str,
            params: Any = None,
            payload: Any = None,
            headers: Mapping[str, Any] | None = None,
            future: bool = False,
        ) -> Any:
            return request(server_key, performative, url, params, payload, headers, future)

        verb.__name__ = verb.__qualname__ = self.name
        verb.__doc__ = f"Send a {self.name.upper()} (performative {int(performative)})."
        client.__dict__[self.name] = verb  # later lookups find it without this descriptor
        return verb


class ZmqClient:
    """Send "Zapata" requests to ZeroMQ REP/ROUTER peers, per server key.

    :param servers: the ``zmq_servers`` mapping to use instead of ``envoxy.json``.
    :param workers: the ``zmq_workers`` mapping to use instead of ``envoxy.json``.
    :param retry_delay: ceiling of the first pause between attempts for every key,
        overriding ``zmq_servers.<key>.retry_delay`` (default 2).
    :param cache_factory: returns the reply cache backend; by default
        ``envoxy.cache.Cache()`` when ``envoxy.json`` has a ``cache`` section.

    Thread-safe: each request borrows a socket of its own from the key's pool. The
    verbs ``get``, ``post``, ``put``, ``patch``, ``delete`` and ``head`` take
    ``(server_key, url, params=None, payload=None, headers=None, future=False)``.
    """

    get = _Verb(Performative.GET)
    post = _Verb(Performative.POST)
    put = _Verb(Performative.PUT)
    patch = _Verb(Performative.PATCH)
    delete = _Verb(Performative.DELETE)
    head = _Verb(Performative.HEAD)

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
        self._process: ClientRegistry[_Process] = ClientRegistry(self._open_process, _Process.close)

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
        process = self._process.get(WORKERS_SECTION)
        endpoint = process.endpoints.get(server_key)
        message = build_request(performative, url, params, payload, headers)
        if future:
            return process.executor().submit(copy_context().run, endpoint.send, message)
        return endpoint.send(message)

    def send(self, server_key: str, message: Mapping[str, Any]) -> Any:
        """Send a prepared request and return the cleaned reply.

        :param message: ``resource`` and ``performative`` are required; ``headers``
            are generated when missing. The caller's dict is not modified.
        :raises ValidationException: 412 for a malformed message.
        :raises ZmqUnavailableError: (status 503) when every attempt failed or the
            call's ``deadline`` passed.
        """
        endpoint = self._process.get(WORKERS_SECTION).endpoints.get(server_key)
        return endpoint.send(prepare_message(message))

    def submit(self, server_key: str, message: Mapping[str, Any]) -> "Future[Any]":
        """Like :meth:`send`, run on the client's executor; returns a ``Future``."""
        process = self._process.get(WORKERS_SECTION)
        endpoint = process.endpoints.get(server_key)
        return process.executor().submit(
            copy_context().run, endpoint.send, prepare_message(message)
        )

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
        process = self._process.get(WORKERS_SECTION)
        endpoints = {key: process.endpoints.get(key) for key in {key for key, _ in requests}}
        messages = [
            (endpoints[key], build_request(performative, url, params, payload, headers))
            for key, (performative, url, params, payload, headers) in requests
        ]
        if len(messages) <= 1:
            return [endpoint.send(message) for endpoint, message in messages]
        executor = process.executor()
        # each request runs in a copy of the caller's context (its request id, in logs)
        futures = [
            executor.submit(copy_context().run, endpoint.send, message)
            for endpoint, message in messages
        ]
        return [pending.result() for pending in futures]

    def open_sockets(self, server_key: str) -> int:
        """Return how many REQ sockets ``server_key`` has open in this process, idle or
        lent (0 before its first request). Never connects.

        .. versionadded:: 1.1
        """
        process = self._process.peek(WORKERS_SECTION)
        endpoint = None if process is None else process.endpoints.peek(server_key)
        return 0 if endpoint is None else endpoint.pool.open_sockets

    def close(self) -> None:
        """Close every socket, the context and the executor. Idempotent; the client
        reopens on its next request, reading the settings again."""
        self._process.close()

    def _open_process(self, section: str) -> "_Process":
        zmq = require("zmq", _EXTRA)
        conf = Config.get(section) if self._workers_conf is None else self._workers_conf
        return _Process(zmq, ZmqWorkerSettings.from_config(conf or {}), self._open_endpoint)

    def _open_endpoint(self, process: "_Process", server_key: str) -> Endpoint:
        conf = server_conf(SECTION, server_key, self._servers)
        settings = ZmqServerSettings.from_config(server_key, conf)
        pool = SocketPool(
            process.zmq,
            process.context,
            settings.endpoint,
            max_sockets=process.workers.max_sockets,
            timeout_ms=max(1, int(settings.timeout * 1000)),
        )
        policy = RetryPolicy(
            settings.retries + 1, settings.backoff(self._retry_delay), (ZmqAttemptError,)
        )
        register_pool("zmq", server_key, pool.stats)
        return Endpoint(process.zmq, settings, pool, policy, self._route_cache(settings))

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


class _Process:
    """What the requests of one process share: the ``zmq.Context``, the endpoints by
    server key, and the executor of ``future=True`` and ``bulk_requests``.

    Closing it closes the endpoints' sockets, then the executor and the context; an
    endpoint asked for afterwards (a request racing with ``close``) is refused, so no
    socket is opened on a context being terminated.
    """

    def __init__(
        self,
        zmq: Any,
        workers: ZmqWorkerSettings,
        open_endpoint: Callable[["_Process", str], Endpoint],
    ) -> None:
        self.zmq = zmq
        self.workers = workers
        self.context = zmq.Context()
        self.endpoints: ClientRegistry[Endpoint] = ClientRegistry(self._open, Endpoint.close)
        self._open_endpoint = open_endpoint
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False

    def executor(self) -> ThreadPoolExecutor:
        """Return the executor, started on first use."""
        executor = self._executor
        if executor is None:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(
                        max_workers=self.workers.max_workers, thread_name_prefix="envoxy-zmqc"
                    )
                executor = self._executor
        return executor

    def close(self) -> None:
        """Close the sockets, stop the executor and terminate the context."""
        self._closed = True
        self.endpoints.close()
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        self.context.term()

    def _open(self, server_key: str) -> Endpoint:
        if self._closed:
            raise RuntimeError("zmqc was closed while this request started; send it again")
        return self._open_endpoint(self, server_key)


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
