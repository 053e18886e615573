"""ZeroMQ request/reply client (``zmqc``), wire-compatible with "Zapata" peers.

Usage::

    from envoxy.zeromq import zmqc

    reply = zmqc.get("core", "/v3/users/me", params={"fields": "name"})
    zmqc.validate_response(reply)

Servers come from ``zmq_servers`` in ``envoxy.json``; nothing is read, imported
(pyzmq) or connected until the first request. See ``docs/ZEROMQ.md``.
"""

from envoxy.zeromq.client import ZmqClient
from envoxy.zeromq.dispatcher import Dispatcher
from envoxy.zeromq.exceptions import (
    PayloadEncodingError,
    ZmqAttemptError,
    ZmqConnectError,
    ZmqDeadlineError,
    ZmqTimeoutError,
    ZmqUnavailableError,
)

__all__ = [
    "Dispatcher",
    "PayloadEncodingError",
    "ZmqAttemptError",
    "ZmqClient",
    "ZmqConnectError",
    "ZmqDeadlineError",
    "ZmqTimeoutError",
    "ZmqUnavailableError",
    "zmqc",
]

#: The process-wide ZeroMQ client (the :class:`Dispatcher` class, as in the original).
zmqc = Dispatcher
