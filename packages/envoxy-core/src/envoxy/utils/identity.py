"""Which process of its replica this one is: a tag that keeps per-process ids apart.

A replica of a service (one ``envoxyd``) runs several processes that each open their
own broker connections: uWSGI workers and the service mule. A client id that must be
unique per connection (an MQTT ``client_id`` with a persistent session) is written once
in ``envoxy.json`` for the replica (``"orders-${HOSTNAME}"``); each process then
qualifies it with its tag, so two processes of one replica never take over each other's
session, and a restarted worker finds its own again::

    qualified_id("orders-pod-0")   # "orders-pod-0" in the service mule or a plain
                                    # process, "orders-pod-0-w2" in uWSGI worker 2

envoxyd sets the tag after each fork (``w<N>`` in worker N, none in the service mule,
whose connection carries the views' subscriptions). Outside envoxyd it is empty unless
the program sets one.
"""

__all__ = ["process_tag", "qualified_id", "set_process_tag"]

_tag: list[str] = [""]


def set_process_tag(tag: str) -> None:
    """Set this process's tag (``""`` for none); call it right after the fork.

    :raises ValueError: when ``tag`` holds a character other than letters, digits, ``-``
        and ``_`` (it becomes part of client ids).
    """
    if tag and not (tag.isascii() and tag.replace("-", "").replace("_", "").isalnum()):
        raise ValueError(f"a process tag is letters, digits, '-' and '_', not {tag!r}")
    _tag[0] = tag


def process_tag() -> str:
    """Return this process's tag (``""`` when none was set)."""
    return _tag[0]


def qualified_id(base: str) -> str:
    """Return ``base`` qualified for this process: ``base-<tag>``, or ``base`` without a tag."""
    tag = _tag[0]
    return f"{base}-{tag}" if tag else base
