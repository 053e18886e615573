"""An MQTT view's route: its topic and how its messages are taken.

``@on(endpoint=..., protocols=["mqtt"], server=..., qos=1, shared="group",
max_workers=N, ordered=True)``:

- ``qos`` (0 or 1, default 0): the subscription's QoS. With 1 a message is
  acknowledged once its handler returned, so a replica that dies sends nothing back
  and the broker delivers the message again: at least once.
- ``shared`` (a group name): subscribe ``$share/<group>/<endpoint>``, so each message
  goes to one replica of the group instead of every replica (an endpoint written
  ``$share/<group>/<topic>`` does the same).
- ``max_workers`` (1 to 256, default 1): handler threads of the view in each replica.
- ``ordered`` (default false): with several threads, the messages of one topic are
  handled one after another in arrival order.

Two views of one server key whose topics overlap cannot mix a shared subscription with
another one (plain, or another group): the broker sends a message once per connection,
so the copy meant for one subscription would reach the other's view too.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from envoxy.daemon.lanes import MAX_WORKERS
from envoxy.views.exceptions import InvalidViewError

# envoxy.mqtt is imported by the functions that need it: a service without MQTT views
# never loads it.

__all__ = ["MqttRoute", "check_mqtt_routes", "mqtt_options"]

#: ``@on`` options of MQTT views, with their defaults.
OPTIONS: dict[str, Any] = {"qos": 0, "shared": None, "max_workers": 1, "ordered": False}


@dataclass(frozen=True, slots=True)
class MqttRoute:
    """An MQTT view bound to its topic.

    :param view: the view instance (its ``on_event`` handles the messages).
    :param endpoint: the topic (``+``/``#`` wildcards allowed).
    :param server: the ``mqtt_servers`` key.
    :param qos: the subscription's QoS (0 or 1).
    :param shared: the share group, or ``None`` for a subscription of every replica.
    :param max_workers: handler threads. :param ordered: one topic's messages in order.
    """

    view: Any
    endpoint: str
    server: str
    qos: int = 0
    shared: str | None = None
    max_workers: int = 1
    ordered: bool = False

    @property
    def topic_filter(self) -> str:
        """What is subscribed: ``$share/<shared>/<endpoint>``, or the endpoint."""
        return f"$share/{self.shared}/{self.endpoint}" if self.shared else self.endpoint

    @property
    def is_shared(self) -> bool:
        """Whether each message goes to one member of a group (``shared``, or an endpoint
        written ``$share/<group>/...``)."""
        return self.topic_filter.startswith("$share/")

    @property
    def name(self) -> str:
        """The view's class name, for thread names and log lines."""
        return type(self.view).__qualname__


def mqtt_options(meta: Any, name: str) -> dict[str, Any]:
    """Return the MQTT options of a view's ``@on`` (defaults filled in).

    :param meta: the view's route (its ``RouteSpec``; an original ``__metaclass__`` works
        too). :param name: the view, for messages.
    :raises InvalidViewError: for an option of the wrong type or out of range, or an
        endpoint that is not a valid topic filter.
    """
    from envoxy.mqtt.subscriptions import filter_problem, shared_filter

    options = {key: getattr(meta, key, default) for key, default in OPTIONS.items()}
    qos, shared = options["qos"], options["shared"]
    if type(qos) is not int or qos not in (0, 1):
        hint = "; use qos=1 and an idempotent handler" if qos == 2 else ""
        raise InvalidViewError(f"MQTT view {name}: qos must be 0 or 1, not {qos!r}{hint}")
    if shared is not None:
        try:
            shared_filter(shared, "t")
        except ValueError as exc:
            raise InvalidViewError(f"MQTT view {name}: shared: {exc}") from None
    workers = options["max_workers"]
    if type(workers) is not int or not 1 <= workers <= MAX_WORKERS:
        raise InvalidViewError(
            f"MQTT view {name}: max_workers must be an integer from 1 to {MAX_WORKERS}, "
            f"not {workers!r}"
        )
    if type(options["ordered"]) is not bool:
        raise InvalidViewError(
            f"MQTT view {name}: ordered must be True or False, not {options['ordered']!r}"
        )
    endpoint = str(getattr(meta, "endpoint", ""))
    problem = filter_problem(endpoint)
    if problem is None and shared is not None and endpoint.startswith("$share/"):
        problem = "it is shared already: remove shared= or write the plain topic"
    if problem is not None:
        raise InvalidViewError(f"MQTT view {name}: endpoint {endpoint!r}: {problem}")
    return options


def check_mqtt_routes(routes: Sequence[MqttRoute]) -> None:
    """Refuse views of one server key whose overlapping topics mix a shared subscription
    with another subscription.

    :raises InvalidViewError: naming both views and the fix.
    """
    seen: list[MqttRoute] = []
    if not routes:
        return
    from envoxy.mqtt.subscriptions import filters_overlap

    for route in routes:
        for other in seen:
            if (
                route.server == other.server
                and route.topic_filter != other.topic_filter
                and (route.is_shared or other.is_shared)
                and filters_overlap(route.topic_filter, other.topic_filter)
            ):
                raise InvalidViewError(
                    f"MQTT views {other.name} ({other.topic_filter!r}) and {route.name} "
                    f"({route.topic_filter!r}) overlap on mqtt_servers.{route.server}: a "
                    "message reaching one subscription would be handled by both; give one "
                    "of them another mqtt_servers key (its own connection) or the same "
                    "shared group and endpoint"
                )
        seen.append(route)
