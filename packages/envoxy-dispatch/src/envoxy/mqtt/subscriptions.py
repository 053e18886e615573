"""Subscriptions of one MQTT connection: topic filters, their QoS and listeners.

The table is copy-on-write: readers (the network thread delivering a message)
take no lock, writers replace the whole snapshot under a lock. Matching follows
MQTT 3.1.1 §4.7: ``+`` matches one level, a final ``#`` the rest (parent level
included), wildcards at the start never match ``$``-topics, and a shared
subscription ``$share/<group>/<filter>`` matches as ``<filter>``.

A listener is a callback and how its messages are acknowledged: when it returns
(the default), or when it calls the ``ack`` it is given (``manual_ack``).
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Listener",
    "MessageCallback",
    "Subscription",
    "SubscriptionTable",
    "filter_problem",
    "filters_overlap",
    "shared_filter",
]

#: ``callback(payload, topic=..., qos=..., retain=..., [headers=...])``
type MessageCallback = Callable[..., Any]


def filter_problem(topic_filter: str) -> str | None:
    """Return why ``topic_filter`` is not a valid MQTT topic filter, or ``None``."""
    if not isinstance(topic_filter, str) or not topic_filter:
        return "a topic filter must be a non-empty string"
    if len(topic_filter.encode("utf-8")) > 65535:
        return "a topic filter is at most 65535 bytes"
    levels = _matched_levels(topic_filter)
    if levels is None:
        return "a shared subscription is '$share/<group>/<filter>', the group without '+' or '#'"
    for position, level in enumerate(levels):
        if level == "#" and position != len(levels) - 1:
            return "'#' must be the last level"
        if level not in ("+", "#") and ("+" in level or "#" in level):
            return "'+' and '#' must fill a whole level"
    return None


def shared_filter(group: str, topic_filter: str) -> str:
    """Return the shared subscription of ``group`` to ``topic_filter``:
    ``$share/<group>/<topic_filter>`` (each message goes to one member of the group).

    :raises ValueError: when ``group`` is empty or holds ``/``, ``+`` or ``#``.
    """
    if not isinstance(group, str) or not group or any(char in group for char in "/+#"):
        raise ValueError(
            f"a share group is a non-empty name without '/', '+' or '#', not {group!r}"
        )
    return f"$share/{group}/{topic_filter}"


def filters_overlap(first: str, second: str) -> bool:
    """Return whether one topic could match both filters (shared ones compared by their
    ``<filter>``); both must be valid (:func:`filter_problem`)."""
    left = _matched_levels(first) or [first]
    right = _matched_levels(second) or [second]
    for position in range(max(len(left), len(right))):
        a = left[position] if position < len(left) else None
        b = right[position] if position < len(right) else None
        if position == 0 and _wildcard_against_dollar(a, b):
            return False
        if a == "#" or b == "#":
            return True
        if a is None or b is None:
            return False
        if a != "+" and b != "+" and a != b:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Listener:
    """A callback of a filter; ``manual_ack``: the message is acknowledged when the
    callback calls the ``ack=`` it is given, not when it returns."""

    callback: MessageCallback
    manual_ack: bool = False


@dataclass(frozen=True, slots=True)
class Subscription:
    """One topic filter: its QoS and listeners, and the levels it matches with.

    ``left``: unsubscribed at the broker, but its listeners still get what was on its way.
    """

    topic_filter: str
    qos: int
    listeners: tuple[Listener, ...]
    levels: tuple[str, ...]
    left: bool = False

    def matches(self, topic: str) -> bool:
        """Return whether ``topic`` (no wildcards) matches this filter."""
        levels = self.levels
        if topic.startswith("$") and levels[0] in ("+", "#"):
            return False
        parts = topic.split("/")
        for position, level in enumerate(levels):
            if level == "#":
                return True
            if position >= len(parts):
                return False
            if level != "+" and level != parts[position]:
                return False
        return len(parts) == len(levels)


class SubscriptionTable:
    """The filters of one connection, read without locks by the network thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: tuple[Subscription, ...] = ()

    def add(
        self, topic_filter: str, qos: int, callback: MessageCallback, manual_ack: bool = False
    ) -> None:
        """Add ``callback`` to ``topic_filter`` (created with ``qos``, or raised to it)."""
        listener = Listener(callback, manual_ack)
        with self._lock:
            others = [entry for entry in self._snapshot if entry.topic_filter != topic_filter]
            current = next(
                (entry for entry in self._snapshot if entry.topic_filter == topic_filter), None
            )
            listeners = (*current.listeners, listener) if current else (listener,)
            granted = max(qos, current.qos) if current else qos
            levels = tuple(_matched_levels(topic_filter) or (topic_filter,))
            self._snapshot = (*others, Subscription(topic_filter, granted, listeners, levels))

    def remove(self, topic_filter: str, callback: MessageCallback | None = None) -> bool:
        """Remove ``callback`` (or every callback) of ``topic_filter``.

        :returns: True when the filter has no callback left (unsubscribe it).
        """
        with self._lock:
            kept: list[Subscription] = []
            emptied = False
            for entry in self._snapshot:
                if entry.topic_filter != topic_filter:
                    kept.append(entry)
                    continue
                listeners = tuple(
                    item
                    for item in entry.listeners
                    if callback is not None and item.callback != callback
                )
                if listeners:
                    kept.append(
                        Subscription(entry.topic_filter, entry.qos, listeners, entry.levels)
                    )
                else:
                    emptied = True
            self._snapshot = tuple(kept)
            return emptied

    def leave(self, topic_filter: str) -> bool:
        """Mark ``topic_filter`` as left: no longer subscribed (:meth:`filters`), its
        listeners kept. :returns: whether the filter is in the table."""
        with self._lock:
            found = False
            entries: list[Subscription] = []
            for entry in self._snapshot:
                if entry.topic_filter == topic_filter:
                    found = True
                    entry = Subscription(
                        entry.topic_filter, entry.qos, entry.listeners, entry.levels, left=True
                    )
                entries.append(entry)
            self._snapshot = tuple(entries)
            return found

    def filters(self) -> list[tuple[str, int]]:
        """Return ``(topic_filter, qos)`` of every subscription not left."""
        return [(entry.topic_filter, entry.qos) for entry in self._snapshot if not entry.left]

    def has_manual_ack(self) -> bool:
        """Return whether a listener acknowledges its messages itself."""
        return any(item.manual_ack for entry in self._snapshot for item in entry.listeners)

    def listeners_for(self, topic: str) -> list[Listener]:
        """Return the listeners of every filter matching ``topic``, in subscription order."""
        found: list[Listener] = []
        for entry in self._snapshot:
            if entry.matches(topic):
                found.extend(entry.listeners)
        return found

    def callbacks_for(self, topic: str) -> list[MessageCallback]:
        """Return the callbacks of every filter matching ``topic``, in subscription order."""
        return [listener.callback for listener in self.listeners_for(topic)]


def _matched_levels(topic_filter: str) -> list[str] | None:
    levels = topic_filter.split("/")
    if levels[0] == "$share":
        if len(levels) < 3 or not levels[1] or "+" in levels[1] or "#" in levels[1]:
            return None
        return levels[2:]
    return levels


def _wildcard_against_dollar(a: str | None, b: str | None) -> bool:
    """Whether one first level is a wildcard and the other a ``$`` level (never matched)."""
    return (a in ("+", "#") and b is not None and b.startswith("$")) or (
        b in ("+", "#") and a is not None and a.startswith("$")
    )
