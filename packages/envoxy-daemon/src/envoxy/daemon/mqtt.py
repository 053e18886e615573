"""MQTT views: subscribing their topics and calling ``on_event`` for each message.

envoxyd runs one :class:`MqttSubscriber` in its service mule, so each message reaches
each view once whatever the number of workers. A handler error is logged with an
ELRC and delivery continues.
"""

import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from envoxy.utils.logs import log
from envoxy.views.error_responses import new_elrc

__all__ = ["MqttSubscriber"]


class MqttSubscriber:
    """Subscribe MQTT routes with ``mqttc`` and track the handlers in progress.

    :param routes: the app's :class:`~envoxy.daemon.app.MqttRoute` list.
    """

    def __init__(self, routes: Iterable[Any]) -> None:
        self.routes = list(routes)
        self._in_flight = 0
        self._idle = threading.Condition()
        self._closing = False
        self._callbacks: list[tuple[Any, Callable[..., None]]] = []

    def start(self) -> None:
        """Subscribe every route (``mqttc.subscribe``); a failure is logged, not raised."""
        if not self.routes:
            return
        from envoxy.mqtt import mqttc

        for route in self.routes:
            callback = self._callback_for(route)
            self._callbacks.append((route, callback))
            try:
                mqttc.subscribe(route.server, route.endpoint, callback)
            except Exception as exc:
                log.error(
                    f"[MQTT] cannot subscribe {route.endpoint!r} on {route.server!r}: "
                    f"{type(exc).__name__}: {exc}"
                )
            else:
                log.info(
                    f"[MQTT] {type(route.view).__qualname__} subscribed to {route.endpoint!r} "
                    f"on {route.server!r}"
                )

    def stop(self, grace: float) -> bool:
        """Stop taking messages and wait up to ``grace`` seconds for the handlers in progress.

        :returns: True when every handler finished in time.
        """
        self._closing = True
        if self._callbacks:
            from envoxy.mqtt import mqttc

            for route, callback in self._callbacks:
                try:
                    mqttc.unsubscribe(route.server, route.endpoint, callback)
                except Exception as exc:
                    log.warning(f"[MQTT] unsubscribe {route.endpoint!r} failed: {exc}")
        deadline = time.monotonic() + grace
        with self._idle:
            while self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.warning(f"[MQTT] {self._in_flight} handler(s) still running at shutdown")
                    return False
                self._idle.wait(remaining)
        return True

    @property
    def in_flight(self) -> int:
        """The number of ``on_event`` calls in progress."""
        return self._in_flight

    def _callback_for(self, route: Any) -> Callable[..., None]:
        def deliver(payload: Any, **meta: Any) -> None:
            if self._closing:
                return
            with self._idle:
                self._in_flight += 1
            try:
                route.view.on_event(payload, **meta, endpoint=route.endpoint)
            except Exception as exc:
                ref = new_elrc()
                trace = "".join(traceback.format_exception(exc))
                log.error(
                    f"ELRC({ref}) - on_event of {type(route.view).__qualname__} failed on "
                    f"{meta.get('topic')!r}: {exc}\n{trace}"
                )
            finally:
                with self._idle:
                    self._in_flight -= 1
                    self._idle.notify_all()

        return deliver
