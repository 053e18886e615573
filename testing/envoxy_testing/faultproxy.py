"""A TCP proxy that breaks the network path between a client and its server on demand.

Put a :class:`FaultProxy` between a client and a real server, point the client at the
proxy's :attr:`~FaultProxy.address`, and switch it while the client works::

    with FaultProxy(server.host, server.port) as proxy:
        client = connect(proxy.host, proxy.port)
        proxy.freeze()       # no byte moves either way; every socket stays open
        ...                  # the client's call must give up within its timeout
        proxy.passthrough()  # bytes flow again, held connections are forwarded

Modes (what happens to traffic from now on) and actions (what happens to the
connections open right now):

==================  ======================================================================
``passthrough()``   mode: forward both ways (the default); resumes frozen connections.
``freeze()``        mode: forward nothing, keep every socket open; new connections are
                    accepted and held, not forwarded (a path that stops forwarding).
``refuse()``        mode: close the listening socket, so new connections are refused;
                    current connections keep being forwarded.
``drop()``          action: close every current connection on both sides with a FIN.
``reset()``         action: abort every current connection on both sides with a RST.
==================  ======================================================================

A crashed server is ``refuse()`` then ``reset()``; a server that restarted is ``drop()``.
Every switch returns once the proxy thread applied it, so no byte is forwarded after
``freeze()`` returns. One thread and one :mod:`selectors` loop serve every connection; no
busy loop. ``close()`` stops the thread and closes every socket.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self, cast

__all__ = ["FaultProxy", "FaultProxyError", "Mode"]

#: Bytes buffered per direction and connection before the proxy stops reading that side.
BUFFER_LIMIT = 256 * 1024
#: How long a switch waits for the proxy thread to apply it.
SWITCH_TIMEOUT = 5.0


class Mode(enum.Enum):
    """What the proxy does with traffic."""

    PASSTHROUGH = "passthrough"
    FROZEN = "frozen"
    REFUSING = "refusing"


class FaultProxyError(RuntimeError):
    """The proxy could not do what was asked (closed, port taken, thread stuck)."""


class FaultProxy:
    """A threaded TCP proxy on a free loopback port in front of ``target_host:target_port``.

    Args:
        target_host: Host of the real server.
        target_port: Port of the real server.
        listen_host: Loopback address to listen on.

    Raises:
        FaultProxyError: From every switch once the proxy is closed.
    """

    def __init__(self, target_host: str, target_port: int, listen_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._selector = selectors.DefaultSelector()
        self._links: set[_Link] = set()
        self._mode = Mode.PASSTHROUGH
        self._closed = False
        self._commands: list[tuple[Callable[[], object], _Reply]] = []
        self._commands_lock = threading.Lock()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
        self._listener: socket.socket | None = None
        self._stopping = False
        self._listen(listen_host, 0)
        assert self._listener is not None
        host, port = self._listener.getsockname()[:2]
        self.host: str = host
        self.port: int = port
        self._thread: threading.Thread = threading.Thread(
            target=self._run, name=f"fault-proxy-{self.port}", daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------------ public API

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the client should connect to."""
        return (self.host, self.port)

    @property
    def mode(self) -> Mode:
        """The current :class:`Mode`."""
        return self._mode

    @property
    def connections(self) -> int:
        """How many client connections the proxy holds open right now."""
        return self._call(lambda: len(self._links))

    def passthrough(self) -> None:
        """Forward bytes both ways; resume frozen connections and connect held ones."""
        self._call(lambda: self._set_mode(Mode.PASSTHROUGH))

    def freeze(self) -> None:
        """Stop forwarding in both directions, keep every socket open, hold new connections."""
        self._call(lambda: self._set_mode(Mode.FROZEN))

    def refuse(self) -> None:
        """Stop listening: new connections are refused until ``passthrough()``/``freeze()``."""
        self._call(lambda: self._set_mode(Mode.REFUSING))

    def drop(self) -> None:
        """Close every current connection, client and server side, with a FIN."""
        self._call(lambda: self._close_links(abort=False))

    def reset(self) -> None:
        """Abort every current connection, client and server side, with a RST."""
        self._call(lambda: self._close_links(abort=True))

    def close(self) -> None:
        """Stop the proxy thread and close every socket (connections get a FIN). Idempotent."""
        if self._closed:
            return
        if self._thread.is_alive():
            self._call(self._shutdown)
            self._thread.join(SWITCH_TIMEOUT)
        self._closed = True
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        target = f"{self.target[0]}:{self.target[1]}"
        return f"<FaultProxy {self.host}:{self.port} -> {target} {self._mode.value}>"

    # ------------------------------------------------------------------ control

    def _call[T](self, command: Callable[[], T]) -> T:
        """Run ``command`` on the proxy thread and return its result."""
        if self._closed or not self._thread.is_alive():
            raise FaultProxyError(f"{self!r} is closed")
        if threading.current_thread() is self._thread:
            return command()
        reply = _Reply()
        with self._commands_lock:
            self._commands.append((command, reply))
        with contextlib.suppress(BlockingIOError):  # a full wake-up buffer wakes it anyway
            self._wake_writer.send(b"\0")
        if not reply.done.wait(SWITCH_TIMEOUT):
            raise FaultProxyError(f"{self!r} did not apply the switch within {SWITCH_TIMEOUT}s")
        if reply.error is not None:
            raise reply.error
        return cast(T, reply.value)

    def _set_mode(self, mode: Mode) -> None:
        if mode is not Mode.REFUSING and self._listener is None:
            self._listen(self.host, self.port)
        if mode is Mode.REFUSING and self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None
        self._mode = mode
        for link in list(self._links):
            if self._forwarding and link.upstream is None:
                self._connect_upstream(link)
            self._update(link)

    def _listen(self, host: str, port: int) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, port))
        except OSError as exc:
            listener.close()
            raise FaultProxyError(f"cannot listen on {host}:{port} again: {exc}") from exc
        listener.listen(128)
        listener.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ, None)
        self._listener = listener

    def _shutdown(self) -> None:
        self._close_links(abort=False)
        if self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None
        self._stopping = True

    @property
    def _forwarding(self) -> bool:
        return self._mode is not Mode.FROZEN

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        while not self._stopping:
            for key, events in self._selector.select():
                if key.fileobj is self._wake_reader:
                    self._run_commands()
                elif key.fileobj is self._listener:
                    self._accept()
                else:
                    link = key.data
                    if link in self._links:
                        link_socket = key.fileobj
                        assert isinstance(link_socket, socket.socket)
                        try:
                            self._serve(link, link_socket, events)
                        except OSError:  # anything unexpected ends this link, not the proxy
                            self._finish(link, abort=True)
                if self._stopping:
                    break

    def _run_commands(self) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._commands_lock:
            commands, self._commands = self._commands, []
        if commands and self._listener is not None:
            # A client whose connect() returned before the switch was asked for is a
            # current connection: take it from the backlog before switching.
            self._accept()
        for command, reply in commands:
            try:
                reply.value = command()
            except BaseException as exc:  # handed to the caller
                reply.error = exc
            reply.done.set()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # ECONNABORTED, EMFILE: leave the rest in the backlog
                return
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client)
            self._links.add(link)
            if self._forwarding:
                self._connect_upstream(link)
            self._update(link)

    def _connect_upstream(self, link: _Link) -> None:
        upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        upstream.setblocking(False)
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link.upstream = upstream
        link.connecting = True
        code = upstream.connect_ex(self.target)
        if code not in (0, errno.EINPROGRESS):
            self._finish(link, abort=True)

    def _serve(self, link: _Link, sock: socket.socket, events: int) -> None:
        upstream = sock is link.upstream
        if upstream and link.connecting:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:  # the server refused: the client sees a reset, as without the proxy
                self._finish(link, abort=True)
                return
            link.connecting = False
        elif events & selectors.EVENT_READ and not self._receive(link, sock, upstream):
            return
        if events & selectors.EVENT_WRITE and not self._send(link, upstream):
            return
        if link.client_eof and link.upstream_eof and not link.to_client and not link.to_upstream:
            self._finish(link, abort=False)
            return
        self._update(link)

    def _receive(self, link: _Link, sock: socket.socket, upstream: bool) -> bool:
        """Read what ``sock`` has into the other side's buffer; False if the link ended."""
        buffer = link.to_client if upstream else link.to_upstream
        try:
            data = sock.recv(BUFFER_LIMIT - len(buffer))
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:  # reset by the peer: pass the reset on
            self._finish(link, abort=True)
            return False
        if data:
            buffer += data
        elif upstream:
            link.upstream_eof = True
        else:
            link.client_eof = True
        self._pass_eof(link)
        return True

    def _send(self, link: _Link, upstream: bool) -> bool:
        """Write what is buffered for the writable side; False if the link ended."""
        sock, buffer = (
            (link.upstream, link.to_upstream) if upstream else (link.client, link.to_client)
        )
        assert sock is not None
        try:
            sent = sock.send(buffer)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            self._finish(link, abort=True)
            return False
        del buffer[:sent]
        self._pass_eof(link)
        return True

    def _pass_eof(self, link: _Link) -> None:
        """Forward a half-close once everything before it was delivered."""
        upstream = link.upstream
        client_done = link.client_eof and not link.to_upstream and not link.upstream_shut
        if client_done and upstream is not None and not link.connecting:
            _shut_write(upstream)
            link.upstream_shut = True
        if link.upstream_eof and not link.to_client and not link.client_shut:
            _shut_write(link.client)
            link.client_shut = True

    def _update(self, link: _Link) -> None:
        """Register each socket of ``link`` for the events it needs now."""
        client_events = upstream_events = 0
        if self._forwarding:
            if not link.client_eof and len(link.to_upstream) < BUFFER_LIMIT:
                client_events |= selectors.EVENT_READ
            if link.to_client:
                client_events |= selectors.EVENT_WRITE
            if link.connecting:
                upstream_events = selectors.EVENT_WRITE
            elif link.upstream is not None:
                if not link.upstream_eof and len(link.to_client) < BUFFER_LIMIT:
                    upstream_events |= selectors.EVENT_READ
                if link.to_upstream:
                    upstream_events |= selectors.EVENT_WRITE
        self._register(link, link.client, client_events, 0)
        if link.upstream is not None:
            self._register(link, link.upstream, upstream_events, 1)

    def _register(self, link: _Link, sock: socket.socket, events: int, index: int) -> None:
        current = link.registered[index]
        if events == current:
            return
        if current == 0:
            self._selector.register(sock, events, link)
        elif events == 0:
            self._selector.unregister(sock)
        else:
            self._selector.modify(sock, events, link)
        link.registered[index] = events

    def _close_links(self, *, abort: bool) -> int:
        links = list(self._links)
        for link in links:
            self._finish(link, abort=abort)
        return len(links)

    def _finish(self, link: _Link, *, abort: bool) -> None:
        """Close both sides of ``link``: with a RST when ``abort``, else with a FIN."""
        self._links.discard(link)
        for index, sock in enumerate((link.client, link.upstream)):
            if sock is None:
                continue
            if link.registered[index]:
                self._selector.unregister(sock)
                link.registered[index] = 0
            _close(sock, abort=abort)


@dataclass(eq=False)
class _Link:
    """One client connection and its connection to the server."""

    client: socket.socket
    upstream: socket.socket | None = None
    connecting: bool = False
    to_upstream: bytearray = field(default_factory=bytearray)
    to_client: bytearray = field(default_factory=bytearray)
    client_eof: bool = False
    upstream_eof: bool = False
    client_shut: bool = False
    upstream_shut: bool = False
    registered: list[int] = field(default_factory=lambda: [0, 0])


class _Reply:
    """Where the proxy thread leaves the result of a command."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: object = None
        self.error: BaseException | None = None


def _shut_write(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


def _close(sock: socket.socket, *, abort: bool) -> None:
    """Close ``sock`` with a RST (``abort``) or a FIN (unread input is drained first)."""
    try:
        if abort:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            # Linux answers a close() with unread input by a RST: read it away first.
            try:
                while sock.recv(65536):
                    pass
            except OSError:
                pass
            sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    sock.close()
