"""Prometheus metrics of envoxyd, served at ``GET /_metrics`` (see docs/OBSERVABILITY.md).

On by default; ``"metrics": {"enabled": false}`` in ``envoxy.json`` turns the route and
the per-request work off. Under envoxyd every worker and the service mule write to
prometheus_client's multiprocess directory (:mod:`envoxy.daemon.metrics_dir`) and a
scrape adds them up, so the numbers are the service's whatever worker answers. Served
another way (one process), the metrics live in memory.

========================================  =========  ================================
metric                                    type       labels
========================================  =========  ================================
``envoxy_http_requests_total``            counter    ``route``, ``method``, ``status``
``envoxy_http_request_duration_seconds``  histogram  ``route``, ``method``
``envoxy_http_requests_in_flight``        gauge      (summed over live processes)
``envoxy_client_calls_total``             counter    ``client``, ``key``
``envoxy_client_errors_total``            counter    ``client``, ``key``, ``error``
``envoxy_client_call_duration_seconds``   histogram  ``client``, ``key``
``envoxy_client_pool_connections``        gauge      ``client``, ``key``, ``state``
``envoxy_client_pool_limit``              gauge      ``client``, ``key``
``envoxy_mqtt_messages_total``            counter    ``route``, ``server``, ``outcome``
``envoxy_mqtt_message_duration_seconds``  histogram  ``route``, ``server``
========================================  =========  ================================

``route`` is the endpoint template (``/v1/items/{id:int}``), never the raw path; a
request no route matched counts as ``route="(unmatched)"`` and an unknown method as
``OTHER``, so a hostile client cannot create series.

The HTTP metrics are counted from the request ledger's records
(:mod:`envoxy.daemon.ledger`), many requests at a time, added up in the process and
written to prometheus_client's values by a flusher thread every :data:`FLUSH_SECONDS`, at
each scrape the process answers and when it exits (the ledger's records are counted
first): a request costs an append and a fraction of a microsecond instead of five
memory-mapped writes. A worker killed with SIGKILL loses at most the last
:data:`FLUSH_SECONDS` of its counts.
"""

import atexit
import bisect
import contextlib
import os
import threading
import time
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from envoxy.daemon.metrics_dir import ENV_VAR, mark_dead_processes
from envoxy.utils.observe import add_call_observer, pool_stats

if TYPE_CHECKING:
    from envoxy.daemon.ledger import FinishedRequest, RequestLedger

__all__ = [
    "FLUSH_SECONDS",
    "HTTP_BUCKETS",
    "METHODS",
    "METRICS_PATH",
    "POOL_SAMPLE_SECONDS",
    "UNMATCHED_ROUTE",
    "Metrics",
    "get_metrics",
]

#: The route serving the metrics.
METRICS_PATH = "/_metrics"
#: The ``route`` label of a request no route matched.
UNMATCHED_ROUTE = "(unmatched)"
#: Methods counted by name; any other is ``OTHER``.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Latency buckets (seconds) of the HTTP, client and MQTT histograms.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: the same bounds in nanoseconds, the unit of the request ledger's records
_HTTP_BUCKETS_NS = tuple(round(bound * 1e9) for bound in HTTP_BUCKETS)
#: A pool's usage is sampled after a call at most this often (per client and key).
POOL_SAMPLE_SECONDS = 1.0
#: How often a process writes the HTTP counts it added up (seconds).
FLUSH_SECONDS = 1.0


class Metrics:
    """The metric objects of one process and the functions that feed them.

    :param directory: prometheus_client's multiprocess directory (``None``: one process,
        metrics in this object's own registry).
    """

    def __init__(self, directory: str | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.directory = directory
        registry = None if directory else CollectorRegistry(auto_describe=True)
        self.registry: CollectorRegistry | None = registry
        self.requests = Counter(
            "envoxy_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.request_duration = Histogram(
            "envoxy_http_request_duration_seconds",
            "Time from reading a request to its answer, by route template and method.",
            ["route", "method"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "envoxy_http_requests_in_flight",
            "HTTP requests being handled.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.client_calls = Counter(
            "envoxy_client_calls",
            "Client calls (redisc, pgsqlc, couchdbc, mqttc, zmqc, celeryc) by server key.",
            ["client", "key"],
            registry=registry,
        )
        self.client_errors = Counter(
            "envoxy_client_errors",
            "Client calls that raised, by server key and exception class.",
            ["client", "key", "error"],
            registry=registry,
        )
        self.client_duration = Histogram(
            "envoxy_client_call_duration_seconds",
            "Duration of client calls by server key (retries included).",
            ["client", "key"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.pool_connections = Gauge(
            "envoxy_client_pool_connections",
            "Pooled connections by state (in_use, open), summed over live processes.",
            ["client", "key", "state"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.pool_limit = Gauge(
            "envoxy_client_pool_limit",
            "Most connections the pools may open, summed over live processes.",
            ["client", "key"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.mqtt_messages = Counter(
            "envoxy_mqtt_messages",
            "MQTT messages handled by on_event, by subscription, server and outcome.",
            ["route", "server", "outcome"],
            registry=registry,
        )
        self.mqtt_duration = Histogram(
            "envoxy_mqtt_message_duration_seconds",
            "Duration of on_event calls by subscription and server.",
            ["route", "server"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._sampled: dict[tuple[str, str], float] = {}
        # the HTTP counts added up since the last flush: (route, method, status) ->
        # [count, sum of nanoseconds, per-bucket counts]; the requests in flight
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str, int], list[Any]] = {}
        #: the start times (:func:`time.perf_counter_ns`) of the requests in flight: the
        #: app appends one when a request starts and removes it when it ends (both
        #: atomic, no lock)
        self.active: list[int] = []
        #: the requests in flight the last flush wrote
        self.flushed_in_flight = 0
        self._flusher_started = False
        #: ledgers whose records are counted before each flush
        self._ledgers: weakref.WeakSet[RequestLedger] = weakref.WeakSet()
        os.register_at_fork(after_in_child=self._after_fork)
        atexit.register(self.flush)

    def start(self) -> None:
        """Start this process's flusher thread (multiprocess mode) if it is not running:
        the request ledger calls it when it queues a first record."""
        if not self._flusher_started and self.directory is not None:
            self._start_flusher()

    def add_ledger(self, ledger: "RequestLedger") -> None:
        """Count ``ledger``'s records before each flush (kept while ``ledger`` lives)."""
        self._ledgers.add(ledger)

    def count_requests(self, records: Iterable["FinishedRequest"]) -> None:
        """Count finished requests by route template, method (normalised to
        :data:`METHODS` or ``OTHER``) and status, with their durations."""
        buckets = _HTTP_BUCKETS_NS
        first_bucket = buckets[0]
        bucket_of = bisect.bisect_left
        # consecutive records mostly share their key: compared with the previous one's
        last_route = last_method = ""
        last_status = -1
        pending: list[Any] = []
        with self._lock:
            get = self._pending.get
            for started, ended, method, _path, status, route, _id in records:
                if route is not last_route or method != last_method or status != last_status:
                    pending = get((route, method, status)) or self._pending_for(
                        route, method, status
                    )
                    last_route, last_method, last_status = route, method, status
                took = ended - started
                pending[0] += 1
                pending[1] += took
                pending[2][0 if took <= first_bucket else bucket_of(buckets, took)] += 1

    def went_idle(self) -> None:
        """No request is in flight any more while the last flush counted some (a scrape
        counts itself): say so now, not a flush later. The app calls it when
        :attr:`active` becomes empty and :attr:`flushed_in_flight` is not 0."""
        with self._lock:
            if not self.active and self.flushed_in_flight:
                self.flushed_in_flight = 0
                # a broken metrics directory never fails a request (the flusher tries again)
                with contextlib.suppress(Exception):
                    self.in_flight.set(0)

    def _pending_for(self, route: str, method: str, status: int) -> list[Any]:
        """The counts of a key not counted since the last flush (the lock held)."""
        if method not in METHODS:  # made-up methods share one count (checked once per
            method = "OTHER"  # key, not per request)
        key = (route, method, status)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = [0, 0, [0] * (len(HTTP_BUCKETS) + 1)]
        return pending

    def flush(self) -> None:
        """Write the HTTP counts added up so far, the ledgers' records first, to the
        metric values (thread-safe)."""
        for ledger in list(self._ledgers):
            ledger.settle()
        with self._lock:
            pending, self._pending = self._pending, {}
            in_flight = len(self.active)
        for (route, method, status), (count, nanoseconds, buckets) in pending.items():
            counter, histogram = self._children_for(route, method, status)
            counter.inc(count)
            # a histogram child keeps its sum and one value per bucket (non-cumulative):
            # adding them directly is what ``observe`` does, once per batch
            histogram._sum.inc(nanoseconds / 1e9)
            for index, number in enumerate(buckets):
                if number:
                    histogram._buckets[index].inc(number)
        with self._lock:
            if in_flight != self.flushed_in_flight or pending:
                # the value now, not the one read above: a request may have ended since
                self.flushed_in_flight = len(self.active)
                self.in_flight.set(self.flushed_in_flight)

    def observe_call(
        self, client: str, key: str, seconds: float, error: BaseException | None
    ) -> None:
        """The :func:`envoxy.utils.observe.observe_call` listener: count, time, sample pool."""
        self.client_calls.labels(client, key).inc()
        self.client_duration.labels(client, key).observe(seconds)
        if error is not None:
            self.client_errors.labels(client, key, type(error).__name__).inc()
        now = time.monotonic()
        if now - self._sampled.get((client, key), -POOL_SAMPLE_SECONDS) >= POOL_SAMPLE_SECONDS:
            self._sampled[(client, key)] = now
            self.sample_pool(client, key)

    def sample_pool(self, client: str, key: str) -> None:
        """Record the usage of the pool of ``client`` for ``key`` (when it has one)."""
        stats = pool_stats(client, key)
        if stats is None:
            return
        self.pool_connections.labels(client, key, "in_use").set(stats.in_use)
        self.pool_connections.labels(client, key, "open").set(stats.open)
        self.pool_limit.labels(client, key).set(stats.limit)

    def message_handled(
        self, route: str, server: str, seconds: float, error: BaseException | None
    ) -> None:
        """Count one MQTT message handled by the view subscribed to ``route``."""
        outcome = "ok" if error is None else "error"
        self.mqtt_messages.labels(route, server, outcome).inc()
        self.mqtt_duration.labels(route, server).observe(seconds)

    def render(self) -> bytes:
        """Return every metric of the service in the Prometheus text format."""
        from prometheus_client import CollectorRegistry, generate_latest

        self.flush()
        if self.registry is not None:
            return generate_latest(self.registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        assert self.directory is not None
        mark_dead_processes(self.directory, _master_pid())
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.directory)
        return generate_latest(registry)

    def _children_for(self, route: str, method: str, status: int) -> tuple[Any, Any]:
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is not None:
            return children
        label = method if method in METHODS else "OTHER"
        children = (
            self.requests.labels(route, label, str(status)),
            self.request_duration.labels(route, label),
        )
        if len(self._request_children) < _MAX_CACHED_CHILDREN:
            self._request_children[key] = children
        return children

    def _start_flusher(self) -> None:
        with self._lock:
            if self._flusher_started:
                return
            self._flusher_started = True
        threading.Thread(target=self._flush_forever, name="envoxy-metrics", daemon=True).start()

    def _flush_forever(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            try:
                self.flush()
            except Exception:  # a full disk, a closed file at exit: try again later
                continue

    def _after_fork(self) -> None:
        # the parent's counts are its own; the child starts empty, with its own flusher
        self._lock = threading.Lock()
        self._pending = {}
        self.active = []
        self.flushed_in_flight = 0
        self._flusher_started = False


def get_metrics() -> Metrics:
    """Return this process's :class:`Metrics`, created on first use (and registered as a
    client-call observer). Multiprocess when ``PROMETHEUS_MULTIPROC_DIR`` is set."""
    metrics = _PROCESS[0]
    if metrics is None:
        with _LOCK:
            metrics = _PROCESS[0]
            if metrics is None:
                directory = os.environ.get(ENV_VAR) or None
                metrics = Metrics(directory)
                add_call_observer(metrics.observe_call)
                _PROCESS[0] = metrics
    return metrics


#: cached (route, method, status) label children, at most this many (a view may answer
#: with statuses of its own making)
_MAX_CACHED_CHILDREN = 4096
_PROCESS: list[Metrics | None] = [None]
_LOCK = threading.Lock()


def _master_pid() -> int | None:
    """The uWSGI master's pid (the parent of a worker or the mule), else ``None``."""
    from envoxy.daemon.runtime import current

    runtime = current()
    return runtime.master_pid if runtime is not None else None
