"""One paho-mqtt (v2 callback API) connection to one broker, with its subscriptions.

paho's network thread connects, reconnects with a 1-30 s exponential backoff and
calls our callbacks. Those callbacks never wait for a lock that is held while
calling paho, and no paho call is made while holding one of our locks, so user
threads and the network thread cannot deadlock. After each (re)connection every
subscription is sent again.

A connection whose listeners include one with ``manual_ack`` when it starts
acknowledges QoS 1/2 messages itself (paho's ``manual_ack``), once every listener of
the message is done (:mod:`envoxy.mqtt.acks`); otherwise paho acknowledges each message
when the callbacks returned, as before.
"""

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from envoxy.exceptions import ValidationException
from envoxy.mqtt.acks import Delivery, call_listeners
from envoxy.mqtt.settings import RECONNECT_MAX_DELAY, RECONNECT_MIN_DELAY, MqttServerSettings
from envoxy.mqtt.subscriptions import MessageCallback, SubscriptionTable, filter_problem
from envoxy.mqtt.tls import tls_context
from envoxy.utils.identity import qualified_id
from envoxy.utils.logs import log

__all__ = ["MqttConnection"]


class MqttConnection:
    """A started paho client for one server key.

    :param paho_client_module: the imported ``paho.mqtt.client`` module.
    :param settings: the server's settings.
    :param credentials: returns the credentials provider's dict (called before
        each connection attempt when ``bind`` holds no user).
    :raises ConfigError: when ``cert_path``, ``client_cert`` or ``client_key`` cannot be
        loaded.
    """

    def __init__(
        self,
        paho_client_module: Any,
        settings: MqttServerSettings,
        credentials: Callable[[], Mapping[str, Any]],
    ) -> None:
        self.settings = settings
        self._paho = paho_client_module
        self._credentials = credentials
        self._connected = threading.Event()
        self._closing = False
        self._loop_thread_id: int | None = None
        self._last_info: Any = None
        self._subscriptions = SubscriptionTable()
        self._subacks = threading.Condition()
        self._suback_results: dict[int, list[Any]] = {}
        self._unawaited_mids: set[int] = set()
        self.client_id = (
            qualified_id(settings.client_id)
            if settings.client_id
            else f"envoxy-{settings.key}-{uuid.uuid4().hex[:12]}"
        )
        self._client = self._build_client()
        self._start_lock = threading.Lock()
        self._started = False
        #: whether this connection acknowledges QoS 1/2 messages itself (set at start)
        self.manual_ack = False
        #: bumped at each accepted connection; acknowledgements never cross it
        self._generation = 0

    @property
    def connected(self) -> bool:
        """Whether the broker accepted the connection and it is still up."""
        return self._connected.is_set()

    def start(self) -> None:
        """Start connecting on paho's network thread (once; a no-op after ``close``).

        ``publish`` and ``subscribe`` call it: a connection starts on first use, after
        the first subscription is registered, so messages a persistent session
        delivers right after connecting find their callback.
        """
        with self._start_lock:
            if self._started or self._closing:
                return
            self._started = True
            if self._subscriptions.has_manual_ack():
                self.manual_ack = True
                self._client.manual_ack_set(True)
            self._client.connect_async(
                self.settings.host, self.settings.port, self.settings.keepalive
            )
            self._client.loop_start()

    def wait_connected(self, timeout: float | None = None) -> bool:
        """Start the connection if needed and wait up to ``timeout`` (default
        ``connect_timeout``) seconds for it.

        From paho's network thread (inside a callback) it does not wait: the
        thread that would connect is the caller.
        """
        if self._connected.is_set():
            return True
        if not self._started:
            self.start()
        if threading.get_ident() == self._loop_thread_id:
            return False
        return self._connected.wait(self.settings.connect_timeout if timeout is None else timeout)

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> bool:
        """Hand one message to paho.

        :returns: True once queued for sending; False (logged) when there is no
            connection within ``connect_timeout`` (or it dropped and ``qos`` is 0).
        :raises ValidationException: when paho rejects the topic, QoS or payload.
        """
        if not self._connected.is_set() and not self.wait_connected():
            log.error(
                f"mqttc {self.settings.key}: not connected to {self._where()} within "
                f"{self.settings.connect_timeout:g} s; message to {topic!r} not sent"
            )
            return False
        try:
            info = self._client.publish(topic, payload, qos, retain)
        except (ValueError, TypeError) as exc:
            raise ValidationException(
                f"mqttc {self.settings.key}: cannot publish to {topic!r}: {exc}", code=0, status=400
            ) from exc
        rc = info.rc
        if rc == 0:
            self._last_info = info
            return True
        if rc == self._paho.MQTT_ERR_NO_CONN:
            if qos > 0:
                self._last_info = info
                log.warning(
                    f"mqttc {self.settings.key}: connection lost; QoS {qos} message to "
                    f"{topic!r} is queued until the reconnection"
                )
                return True
            log.error(
                f"mqttc {self.settings.key}: connection lost; QoS 0 message to {topic!r} dropped"
            )
            return False
        raise ValidationException(
            f"mqttc {self.settings.key}: paho refused the message to {topic!r}: "
            f"{self._paho.error_string(rc)}",
            code=0,
            status=400,
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every message published so far was written (QoS 0) or acknowledged.

        :param timeout: seconds; default ``connect_timeout``.
        :returns: whether it finished in time.
        """
        info = self._last_info
        if info is None:
            return True
        limit = self.settings.connect_timeout if timeout is None else timeout
        if info.rc == 0:
            info.wait_for_publish(limit)
            return bool(info.is_published())
        deadline = time.monotonic() + limit
        while not info.is_published():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def subscribe(
        self, topic_filter: str, callback: MessageCallback, qos: int, manual_ack: bool = False
    ) -> bool:
        """Register ``callback`` for ``topic_filter`` and subscribe at the broker.

        :returns: True when the broker granted the subscription; False (logged) when
            it refused it, or there was no connection or SUBACK within
            ``connect_timeout``. The filter stays registered and is sent again on
            every reconnection.
        :raises ValidationException: as :meth:`register`.
        """
        self._add(topic_filter, callback, qos, manual_ack)
        if not self.wait_connected():
            log.warning(
                f"mqttc {self.settings.key}: not connected to {self._where()} yet; "
                f"{topic_filter!r} will be subscribed on connection"
            )
            return False
        return self._await_suback(topic_filter, self._client.subscribe(topic_filter, qos))

    def register(
        self, topic_filter: str, callback: MessageCallback, qos: int, manual_ack: bool = False
    ) -> None:
        """Add ``callback`` to ``topic_filter`` without starting the connection or waiting.

        The filter is subscribed when the connection (re)connects, and at once (without
        waiting for the SUBACK; a refusal is logged) when it is connected. Register every
        filter of a persistent session before :meth:`start`, so the messages the broker
        kept find their listener.

        :param manual_ack: the callback receives ``ack=``, a function to call once it is
            done with the message; QoS 1/2 messages are acknowledged only then.
        :raises ValidationException: for an invalid filter or QoS, or a ``manual_ack``
            listener on a connection started without one.
        """
        if self._add(topic_filter, callback, qos, manual_ack):
            rc, mid = self._client.subscribe(topic_filter, qos)
            if rc == 0 and mid is not None:
                with self._subacks:
                    self._unawaited_mids.add(mid)

    def acknowledge(self, mid: int, qos: int, generation: int) -> None:
        """Acknowledge message ``mid`` (``manual_ack``), unless the connection it came on
        is gone (the broker then sends it again, or forgot it)."""
        if generation != self._generation or not self._connected.is_set():
            log.debug(
                f"mqttc {self.settings.key}: message {mid} not acknowledged: its connection "
                "is gone (a persistent session gets it again)"
            )
            return
        self._client.ack(mid, qos)

    def unsubscribe(self, topic_filter: str, callback: MessageCallback | None = None) -> None:
        """Remove ``callback`` (or all callbacks) of ``topic_filter``; unsubscribe at the
        broker when none is left."""
        if self._subscriptions.remove(topic_filter, callback) and self._connected.is_set():
            self._client.unsubscribe(topic_filter)

    def leave(self, topic_filter: str) -> None:
        """Unsubscribe ``topic_filter`` at the broker but keep its listeners, which still
        get the messages already on their way to this client (a member leaving its shared
        subscription's group while it drains; with a persistent session the broker may
        have queued many). It is not subscribed again on reconnection."""
        if self._subscriptions.leave(topic_filter) and self._connected.is_set():
            self._client.unsubscribe(topic_filter)

    def close(self) -> None:
        """Disconnect and stop the network thread. Idempotent."""
        with self._start_lock:
            if self._closing:
                return
            self._closing = True
            started = self._started
        if started:
            self._client.disconnect()
            self._client.loop_stop()
        self._connected.clear()

    def _build_client(self) -> Any:
        paho = self._paho
        settings = self.settings
        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=not settings.persistent_session,
            protocol=paho.MQTTv311,
            reconnect_on_failure=True,
        )
        client.connect_timeout = settings.connect_timeout
        client.reconnect_delay_set(RECONNECT_MIN_DELAY, RECONNECT_MAX_DELAY)
        client.username_pw_set(*settings.credentials(self._credentials()))
        if settings.tls:
            client.tls_set_context(tls_context(settings))
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _add(
        self, topic_filter: str, callback: MessageCallback, qos: int, manual_ack: bool
    ) -> bool:
        """Check and add a listener; return whether the connection is up (subscribe now)."""
        problem = filter_problem(topic_filter)
        if problem is None and qos not in (0, 1, 2):
            problem = "QoS must be 0, 1 or 2"
        if problem is not None:
            raise ValidationException(
                f"mqttc {self.settings.key}: cannot subscribe to {topic_filter!r}: {problem}",
                code=0,
                status=400,
            )
        with self._start_lock:
            if manual_ack and self._started and not self.manual_ack:
                raise ValidationException(
                    f"mqttc {self.settings.key}: cannot subscribe to {topic_filter!r} with "
                    "manual_ack: the connection started without manual acknowledgements; "
                    "make the first subscription of the key a manual_ack one",
                    code=0,
                    status=400,
                )
            self._subscriptions.add(topic_filter, qos, callback, manual_ack)
            return self._connected.is_set()

    def _await_suback(self, topic_filter: str, sent: tuple[int, int | None]) -> bool:
        rc, mid = sent
        if rc != 0 or mid is None:
            log.warning(
                f"mqttc {self.settings.key}: subscription to {topic_filter!r} not sent "
                f"({self._paho.error_string(rc)}); it is sent again on reconnection"
            )
            return False
        with self._subacks:
            granted = self._subacks.wait_for(
                lambda: mid in self._suback_results, self.settings.connect_timeout
            )
            if not granted:
                self._unawaited_mids.add(mid)
                log.warning(
                    f"mqttc {self.settings.key}: no SUBACK for {topic_filter!r} within "
                    f"{self.settings.connect_timeout:g} s"
                )
                return False
            reason_codes = self._suback_results.pop(mid)
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            log.error(
                f"mqttc {self.settings.key}: the broker refused the subscription to "
                f"{topic_filter!r} ({refused[0]})"
            )
            return False
        return True

    def _where(self) -> str:
        scheme = "mqtts" if self.settings.tls else "mqtt"
        return f"{scheme}://{self.settings.host}:{self.settings.port}"

    # paho callbacks: they run on the network thread.

    def _on_connect(
        self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        if reason_code.is_failure:
            log.error(
                f"mqttc {self.settings.key}: {self._where()} refused the connection "
                f"({reason_code}); retrying with backoff"
            )
            return
        self._loop_thread_id = threading.get_ident()
        self._generation += 1
        # Subscribe again before anything else goes out: paho re-sends unacknowledged
        # messages after this callback, and publish() waits for the event set below, so
        # messages to our own subscriptions reach the broker after the SUBSCRIBE.
        # subscribe() registers its filter before waiting for that event, then sends it
        # itself, so a filter missing from this snapshot is still subscribed.
        filters = self._subscriptions.filters()
        if filters:
            rc, mid = client.subscribe(filters)
            if rc == 0 and mid is not None:
                with self._subacks:
                    self._unawaited_mids.add(mid)
        self._connected.set()
        log.info(f"mqttc {self.settings.key}: connected to {self._where()} as {self.client_id}")

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        log.warning(
            f"mqttc {self.settings.key}: cannot connect to {self._where()}; retrying with "
            f"{RECONNECT_MIN_DELAY}-{RECONNECT_MAX_DELAY} s backoff"
        )

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        self._connected.clear()
        if self._closing:
            return
        log.warning(
            f"mqttc {self.settings.key}: connection to {self._where()} lost ({reason_code}); "
            f"reconnecting with {RECONNECT_MIN_DELAY}-{RECONNECT_MAX_DELAY} s backoff"
        )
        if self.settings.username is None:
            try:
                client.username_pw_set(*self.settings.credentials(self._credentials()))
            except Exception as exc:
                log.error(f"mqttc {self.settings.key}: credentials provider failed: {exc}")

    def _on_subscribe(
        self, client: Any, userdata: Any, mid: int, reason_codes: list[Any], properties: Any
    ) -> None:
        with self._subacks:
            if mid in self._unawaited_mids:
                self._unawaited_mids.discard(mid)
                refused = [code for code in reason_codes if code.is_failure]
                if refused:
                    log.error(f"mqttc {self.settings.key}: re-subscription refused ({refused})")
                return
            self._suback_results[mid] = reason_codes
            self._subacks.notify_all()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        delivery = (
            Delivery(self, message.mid, message.qos, self._generation)
            if self.manual_ack and message.qos
            else None
        )
        listeners = self._subscriptions.listeners_for(message.topic)
        if not listeners:
            log.debug(
                f"mqttc {self.settings.key}: no callback for {message.topic!r}; message dropped"
            )
        call_listeners(listeners, message, delivery, f"mqttc {self.settings.key}")
