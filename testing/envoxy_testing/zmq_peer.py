"""A real ZeroMQ REP peer on loopback for zmqc and envoxyd proxy tests.

Importing this module imports :mod:`zmq`; the plugin does not, so tests without
ZeroMQ pay nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import zmq

__all__ = ["Handler", "ReplyPeer"]

#: Turns a decoded request envelope into the reply envelope to send.
type Handler = Callable[[dict[str, Any]], Any]


class ReplyPeer:
    """A REP socket on a free loopback port answering each request with ``handler(request)``.

    It runs on a thread with its own context. The default handler echoes the request as
    the payload: ``{"status": 200, "payload": <request>}``. ``frames`` keeps the raw
    frames of every request, in order, appended before the handler runs (so a handler
    may use ``len(peer.frames)`` as the number of this request).

    Args:
        handler: Builds the reply; it may sleep to play a slow peer.
    """

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler: Handler = handler or (lambda request: {"status": 200, "payload": request})
        self.frames: list[list[bytes]] = []
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.REP)
        self._socket.linger = 0
        self.port: int = self._socket.bind_to_random_port("tcp://127.0.0.1")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="zmq-test-peer", daemon=True)
        self._thread.start()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received so far, decoded."""
        return [json.loads(frames[-1]) for frames in self.frames]

    @property
    def count(self) -> int:
        """How many requests arrived."""
        return len(self.frames)

    def close(self) -> None:
        """Stop answering and close the socket and its context. Idempotent."""
        self._stop.set()
        self._thread.join(5)
        if not self._socket.closed:
            self._socket.close()
            self._context.term()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not self._socket.poll(20):
                continue
            frames = self._socket.recv_multipart()
            self.frames.append(frames)
            reply = self.handler(json.loads(frames[-1]))
            self._socket.send_multipart([b"", json.dumps(reply).encode()])
