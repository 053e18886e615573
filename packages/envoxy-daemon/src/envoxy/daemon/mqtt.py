"""MQTT views: subscribing their topics and calling ``on_event`` for each message.

envoxyd runs one :class:`MqttSubscriber` in its service mule, so each message reaches
each view once per replica whatever the number of workers, and once per group of
replicas with ``shared`` (:mod:`envoxy.daemon.mqtt_route`). Each view's handlers run on
its own threads (:class:`~envoxy.daemon.lanes.HandlerLanes`, ``max_workers``), never on
the network thread. A QoS 1 message is acknowledged once ``on_event`` returned, so a
message whose replica died before is delivered again: at least once. A handler error is
logged with an ELRC and the message acknowledged (it would fail again).

Stopping (:meth:`MqttSubscriber.stop`, on SIGTERM): shared subscriptions are left at once
(the broker sends the group's next messages to the other replicas) and the messages
already on their way are handled; plain subscriptions stop taking messages (a persistent
session keeps them for the restart). What is queued or running is given
``shutdown_grace`` seconds; what is left then is not acknowledged.

Each message is handled under a request context (:mod:`envoxy.utils.context`) taken
from its envelope (``X-Request-ID``, else ``X-Cid``, else the ``traceparent`` trace
id, else a new id): the handler's log lines and what it sends carry that id, and
``on_event`` receives it as ``request_id=`` when it accepts that keyword (or
``**meta``). With metrics on, each message is counted and timed; with tracing on, it
runs in a ``CONSUMER`` span.
"""

import contextlib
import inspect
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from envoxy.daemon.lanes import HandlerLanes
from envoxy.daemon.mqtt_route import MqttRoute
from envoxy.utils.context import bind, context_from_headers, reset
from envoxy.utils.logs import log
from envoxy.views.error_responses import new_elrc

__all__ = ["QUIET", "MqttSubscriber"]

#: Seconds without a message after which a leaving shared member is drained.
QUIET = 0.3


class MqttSubscriber:
    """Subscribe MQTT routes with ``mqttc`` and run their handlers.

    :param routes: the app's :class:`~envoxy.daemon.mqtt_route.MqttRoute` list.
    :param client: the :class:`~envoxy.mqtt.MqttClient` to subscribe with; default the
        process's (``mqttc.instance()``).
    :param app: the :class:`~envoxy.daemon.app.EnvoxyApp` whose ``metrics`` and
        ``tracing`` observe the handlers (read at each message), or ``None``.
    """

    def __init__(self, routes: Iterable[MqttRoute], client: Any = None, *, app: Any = None) -> None:
        self.routes = list(routes)
        self.client = client
        self.app = app
        self._in_flight = 0
        self._idle = threading.Condition()
        self._draining = False
        self._closing = False
        self._last_message = 0.0
        self._lanes: list[tuple[MqttRoute, HandlerLanes, Any]] = []

    def start(self) -> None:
        """Register every route on its server key's connection, then connect: a
        persistent session's kept messages find every view. A failure is logged, not
        raised."""
        if not self.routes:
            return
        client = self.client
        if client is None:
            from envoxy.mqtt import mqttc

            client = self.client = mqttc.instance()
        connections: dict[str, Any] = {}
        for route in self.routes:
            lanes = HandlerLanes(route.name, route.max_workers, route.ordered)
            try:
                connection = connections.get(route.server) or client.connection(route.server)
                connection.register(
                    route.topic_filter, self._receiver(route, lanes), route.qos, manual_ack=True
                )
            except Exception as exc:
                log.error(
                    f"[MQTT] cannot subscribe {route.topic_filter!r} on {route.server!r}: "
                    f"{type(exc).__name__}: {exc}"
                )
                continue
            connections[route.server] = connection
            lanes.start()
            self._lanes.append((route, lanes, connection))
            log.info(
                f"[MQTT] {route.name} subscribes to {route.topic_filter!r} on {route.server!r} "
                f"(qos {route.qos}, {route.max_workers} handler thread(s)"
                f"{', ordered per topic' if route.ordered else ''})"
            )
            if route.qos and not connection.settings.persistent_session:
                log.warning(
                    f"[MQTT] {route.name} subscribes at QoS 1 but mqtt_servers.{route.server} "
                    "has no persistent_session: what is published while this replica is "
                    "down, and what it had not acknowledged, is not kept for it"
                )
        for connection in connections.values():
            connection.start()

    def stop(self, grace: float) -> bool:
        """Leave shared subscriptions, stop taking other messages, and wait up to
        ``grace`` seconds for what was taken.

        :returns: True when every handler finished in time.
        """
        deadline = time.monotonic() + grace
        self._draining = True
        shared = False
        for route, _, connection in self._lanes:
            if route.is_shared:
                shared = True
                try:
                    connection.leave(route.topic_filter)
                except Exception as exc:
                    log.warning(f"[MQTT] leaving {route.topic_filter!r} failed: {exc}")
        finished = True
        while True:
            busy = sum(lanes.pending for _, lanes, _ in self._lanes)
            quiet = not shared or time.monotonic() - self._last_message >= QUIET
            if not busy and quiet:
                break
            if time.monotonic() >= deadline:
                log.warning(f"[MQTT] {busy} message(s) still queued or running at shutdown")
                finished = False
                break
            time.sleep(0.02)
        self._closing = True
        for _, lanes, _ in self._lanes:
            lanes.stop()
        return finished

    @property
    def in_flight(self) -> int:
        """The number of ``on_event`` calls in progress."""
        return self._in_flight

    def _receiver(self, route: MqttRoute, lanes: HandlerLanes) -> Callable[..., None]:
        """The connection's listener: hand the message to the view's threads, and
        acknowledge it once handled."""
        deliver = self._callback_for(route)

        def receive(payload: Any, *, ack: Callable[[], None], **meta: Any) -> None:
            self._last_message = time.monotonic()
            if self._closing or (self._draining and not route.is_shared):
                return  # not acknowledged: a persistent session keeps it for the restart

            def job() -> None:
                if self._closing:
                    return  # the grace is over: not acknowledged
                deliver(payload, **meta)
                ack()

            lanes.submit(str(meta.get("topic", "")), job)

        return receive

    def _callback_for(self, route: MqttRoute) -> Callable[..., None]:
        passes_request_id = _accepts_request_id(route.view.on_event)
        name = f"{route.endpoint} process"

        def deliver(payload: Any, **meta: Any) -> None:
            with self._idle:
                self._in_flight += 1
            context = context_from_headers(meta.get("headers"))
            token = bind(context)
            if passes_request_id:
                meta["request_id"] = context.request_id
            app = self.app
            metrics = getattr(app, "metrics", None)
            tracing = getattr(app, "tracing", None)
            error: BaseException | None = None
            started = time.perf_counter()
            try:
                span = (
                    tracing.handler_span(
                        name,
                        meta.get("headers"),
                        **{
                            "messaging.system": "mqtt",
                            "messaging.destination.name": str(meta.get("topic", "")),
                        },
                    )
                    if tracing is not None
                    else contextlib.nullcontext()
                )
                with span:
                    route.view.on_event(payload, **meta, endpoint=route.endpoint)
            except Exception as exc:
                error = exc
                ref = new_elrc()
                trace = "".join(traceback.format_exception(exc))
                log.error(
                    f"ELRC({ref}) - on_event of {type(route.view).__qualname__} failed on "
                    f"{meta.get('topic')!r}: {exc}\n{trace}"
                )
            finally:
                if metrics is not None:
                    # a broken metrics directory never fails (nor leaves unacknowledged)
                    with contextlib.suppress(Exception):
                        metrics.message_handled(
                            route.endpoint, route.server, time.perf_counter() - started, error
                        )
                reset(token)
                with self._idle:
                    self._in_flight -= 1
                    self._idle.notify_all()

        return deliver


def _accepts_request_id(handler: Callable[..., Any]) -> bool:
    """Whether ``handler`` takes a ``request_id`` keyword (by name or ``**meta``)."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        parameter.kind is inspect.Parameter.VAR_KEYWORD
        or (
            parameter.name == "request_id"
            and parameter.kind
            in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        )
        for parameter in parameters
    )
