"""envoxy 0.7's ``ZMQ`` singleton, kept so that old code runs.

Reached through its old path ``envoxy.zeromq.dispatcher.ZMQ``, which warns once.
``ZMQ.instance().send_and_recv(server_key, message)`` sends a prepared request over
the process-wide client behind ``zmqc`` (:meth:`ZmqClient.send`).
"""

from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from envoxy.utils.singleton import Singleton
from envoxy.zeromq.dispatcher import Dispatcher

__all__ = ["ZMQ"]


class ZMQ(Singleton):
    """0.7's ``ZMQ``: ``send_and_recv`` and ``send_and_recv_future``.

    .. deprecated:: 1.0
       Use ``zmqc.send`` and ``zmqc.instance().submit`` (or the verbs ``zmqc.get``...).
    """

    def send_and_recv(self, server_key: str, message: Mapping[str, Any]) -> Any:
        """Send a prepared request and return the cleaned reply (``zmqc.send``)."""
        return Dispatcher.instance().send(server_key, message)

    def send_and_recv_future(self, server_key: str, message: Mapping[str, Any]) -> "Future[Any]":
        """Like :meth:`send_and_recv`, on the client's executor; returns a ``Future``."""
        return Dispatcher.instance().submit(server_key, message)
