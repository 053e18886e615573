"""Subscriptions of one MQTT connection: topic filters, their QoS and callbacks.

The table is copy-on-write: readers (the network thread delivering a message)
take no lock, writers replace the whole snapshot under a lock. Matching follows
MQTT 3.1.1 §4.7: ``+`` matches one level, a final ``#`` the rest (parent level
included), wildcards at the start never match ``$``-topics, and a shared
subscription ``$share/<group>/<filter>`` matches as ``<filter>``.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MessageCallback", "Subscription", "SubscriptionTable", "filter_problem"]

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
        return "a shared subscription is '$share/<group>/<filter>'"
    for position, level in enumerate(levels):
        if level == "#" and position != len(levels) - 1:
            return "'#' must be the last level"
        if level not in ("+", "#") and ("+" in level or "#" in level):
            return "'+' and '#' must fill a whole level"
    return None


@dataclass(frozen=True, slots=True)
class Subscription:
    """One topic filter: its QoS and callbacks, and the levels it matches with."""

    topic_filter: str
    qos: int
    callbacks: tuple[MessageCallback, ...]
    levels: tuple[str, ...]

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

    def add(self, topic_filter: str, qos: int, callback: MessageCallback) -> None:
        """Add ``callback`` to ``topic_filter`` (created with ``qos``, or raised to it)."""
        with self._lock:
            others = [entry for entry in self._snapshot if entry.topic_filter != topic_filter]
            current = next(
                (entry for entry in self._snapshot if entry.topic_filter == topic_filter), None
            )
            callbacks = (*current.callbacks, callback) if current else (callback,)
            granted = max(qos, current.qos) if current else qos
            levels = tuple(_matched_levels(topic_filter) or (topic_filter,))
            self._snapshot = (*others, Subscription(topic_filter, granted, callbacks, levels))

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
                callbacks = tuple(
                    item for item in entry.callbacks if callback is not None and item != callback
                )
                if callbacks:
                    kept.append(
                        Subscription(entry.topic_filter, entry.qos, callbacks, entry.levels)
                    )
                else:
                    emptied = True
            self._snapshot = tuple(kept)
            return emptied

    def filters(self) -> list[tuple[str, int]]:
        """Return ``(topic_filter, qos)`` of every subscription."""
        return [(entry.topic_filter, entry.qos) for entry in self._snapshot]

    def callbacks_for(self, topic: str) -> list[MessageCallback]:
        """Return the callbacks of every filter matching ``topic``, in subscription order."""
        found: list[MessageCallback] = []
        for entry in self._snapshot:
            if entry.matches(topic):
                found.extend(entry.callbacks)
        return found


def _matched_levels(topic_filter: str) -> list[str] | None:
    levels = topic_filter.split("/")
    if levels[0] == "$share":
        if len(levels) < 3 or not levels[1]:
            return None
        return levels[2:]
    return levels
