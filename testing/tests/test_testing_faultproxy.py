"""FaultProxy with plain sockets: every mode and action, many connections, large transfers."""

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from envoxy_testing.faultproxy import FaultProxy, FaultProxyError, Mode
from envoxy_testing.network import free_port

#: How long "nothing arrives" is watched for.
QUIET = 0.3


class Target:
    """A listening socket the test accepts from, so it holds the server end of each link."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(5)
        self.port = self.listener.getsockname()[1]

    def accept(self, timeout: float = 5) -> socket.socket:
        self.listener.settimeout(timeout)
        server_end, _ = self.listener.accept()
        server_end.settimeout(5)
        return server_end

    def nothing_pending(self) -> bool:
        """No connection reached the server within QUIET seconds."""
        self.listener.settimeout(QUIET)
        try:
            self.listener.accept()[0].close()
        except TimeoutError:
            return True
        return False

    def close(self) -> None:
        self.listener.close()


class EchoServer:
    """Echoes every connection on its own thread until the client closes."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._echo, args=(connection,), daemon=True)
            thread.start()
            self.threads.append(thread)

    @staticmethod
    def _echo(connection: socket.socket) -> None:
        with connection:
            try:
                while data := connection.recv(65536):
                    connection.sendall(data)
            except OSError:
                pass

    def close(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self._acceptor.join(5)


@pytest.fixture
def target() -> Iterator[Target]:
    server = Target()
    yield server
    server.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture
def proxy(target: Target) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", target.port) as instance:
        yield instance


def link(proxy: FaultProxy, target: Target) -> tuple[socket.socket, socket.socket]:
    """A client connected through the proxy and the server end of its connection."""
    client = socket.create_connection(proxy.address, timeout=5)
    return client, target.accept()


def receive_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        assert chunk, f"EOF after {len(chunks)} of {size} bytes"
        chunks += chunk
    return bytes(chunks)


def quiet(sock: socket.socket) -> bool:
    """Nothing arrives on ``sock`` within QUIET seconds, and it is still open."""
    sock.settimeout(QUIET)
    try:
        data = sock.recv(1)
    except TimeoutError:
        return True
    finally:
        sock.settimeout(5)
    raise AssertionError(f"expected silence, got {data!r}")


# ------------------------------------------------------------------ passthrough


def test_passthrough_forwards_both_ways(proxy: FaultProxy, target: Target) -> None:
    client, server_end = link(proxy, target)
    with client, server_end:
        client.sendall(b"ping")
        assert receive_exactly(server_end, 4) == b"ping"
        server_end.sendall(b"pong")
        assert receive_exactly(client, 4) == b"pong"
    assert proxy.mode is Mode.PASSTHROUGH
    assert proxy.host == "127.0.0.1"
    assert proxy.address == (proxy.host, proxy.port)


def test_large_transfer_in_both_directions_at_once_is_intact(echo: EchoServer) -> None:
    payload = os.urandom(8 * 1024 * 1024)
    with (
        FaultProxy("127.0.0.1", echo.port) as proxy,
        socket.create_connection(proxy.address, timeout=10) as client,
    ):
        sender = threading.Thread(target=client.sendall, args=(payload,))
        sender.start()
        echoed = receive_exactly(client, len(payload))
        sender.join(10)
    assert hashlib.sha256(echoed).digest() == hashlib.sha256(payload).digest()


def test_many_concurrent_connections_are_counted_and_kept_apart(echo: EchoServer) -> None:
    with FaultProxy("127.0.0.1", echo.port) as proxy:
        clients = [socket.create_connection(proxy.address, timeout=5) for _ in range(100)]
        try:
            for number, client in enumerate(clients):
                client.sendall(f"client {number:03}".encode())
            replies = [receive_exactly(client, 10) for client in clients]
            assert replies == [f"client {number:03}".encode() for number in range(100)]
            assert proxy.connections == 100
        finally:
            for client in clients:
                client.close()
        deadline = time.monotonic() + 5
        while proxy.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proxy.connections == 0


def test_half_close_is_forwarded_and_the_reply_still_arrives(
    proxy: FaultProxy, target: Target
) -> None:
    client, server_end = link(proxy, target)
    with client, server_end:
        client.sendall(b"request")
        client.shutdown(socket.SHUT_WR)
        assert receive_exactly(server_end, 7) == b"request"
        assert server_end.recv(1) == b""  # the client's FIN
        server_end.sendall(b"reply")
        server_end.close()
        assert receive_exactly(client, 5) == b"reply"
        assert client.recv(1) == b""


def test_a_refusing_server_resets_the_client() -> None:
    with (
        FaultProxy("127.0.0.1", free_port()) as proxy,
        socket.create_connection(proxy.address) as c,
    ):
        c.settimeout(5)
        with pytest.raises(ConnectionResetError):
            c.recv(1)
        assert proxy.connections == 0


# ------------------------------------------------------------------ freeze


def test_freeze_forwards_nothing_either_way_and_keeps_the_sockets_open(
    proxy: FaultProxy, target: Target
) -> None:
    client, server_end = link(proxy, target)
    with client, server_end:
        client.sendall(b"a")
        assert receive_exactly(server_end, 1) == b"a"
        proxy.freeze()
        assert proxy.mode is Mode.FROZEN
        client.sendall(b"to server")
        server_end.sendall(b"to client")
        assert quiet(server_end)
        assert quiet(client)
        assert proxy.connections == 1
        proxy.passthrough()  # everything held is delivered, in order
        assert receive_exactly(server_end, 9) == b"to server"
        assert receive_exactly(client, 9) == b"to client"


def test_freeze_accepts_new_connections_but_does_not_forward_them(
    proxy: FaultProxy, target: Target
) -> None:
    proxy.freeze()
    with socket.create_connection(proxy.address, timeout=5) as client:
        client.sendall(b"hello")
        assert target.nothing_pending()  # the server never saw a connection
        assert quiet(client)
        assert proxy.connections == 1
        proxy.passthrough()
        with target.accept() as server_end:
            assert receive_exactly(server_end, 5) == b"hello"
            server_end.sendall(b"hi")
            assert receive_exactly(client, 2) == b"hi"


def test_a_frozen_client_that_keeps_sending_only_fills_buffers(
    proxy: FaultProxy, target: Target
) -> None:
    client, server_end = link(proxy, target)
    with client, server_end:
        proxy.freeze()
        client.setblocking(False)
        sent = 0
        while sent < 64 * 1024 * 1024:  # the kernel buffers fill, then send would block
            try:
                sent += client.send(b"x" * 65536)
            except BlockingIOError:
                break
        assert 0 < sent < 64 * 1024 * 1024
        client.setblocking(True)
        assert quiet(server_end)
        proxy.passthrough()
        assert len(receive_exactly(server_end, sent)) == sent


# ------------------------------------------------------------------ drop and reset


def test_drop_closes_both_sides_with_a_fin_and_new_connections_pass(
    proxy: FaultProxy, target: Target
) -> None:
    client, server_end = link(proxy, target)
    with client, server_end:
        client.sendall(b"unread by the proxy?")
        assert receive_exactly(server_end, 20) == b"unread by the proxy?"
        server_end.sendall(b"unread by the client")
        time.sleep(0.05)  # let the proxy forward it first
        proxy.drop()
        assert receive_exactly(client, 20) == b"unread by the client"
        assert client.recv(1) == b""  # FIN, not RST
        assert server_end.recv(1) == b""
        assert proxy.connections == 0
    again, server_again = link(proxy, target)
    with again, server_again:
        again.sendall(b"back")
        assert receive_exactly(server_again, 4) == b"back"


def test_drop_closes_frozen_and_held_connections(proxy: FaultProxy, target: Target) -> None:
    client, server_end = link(proxy, target)
    proxy.freeze()
    held = socket.create_connection(proxy.address, timeout=5)
    with client, server_end, held:
        held.sendall(b"never forwarded")
        client.sendall(b"neither")
        proxy.drop()
        assert client.recv(1) == b""
        assert held.recv(1) == b""
        assert server_end.recv(1) == b""
        assert proxy.mode is Mode.FROZEN  # an action, not a mode
        assert target.nothing_pending()


def test_reset_aborts_both_sides(proxy: FaultProxy, target: Target) -> None:
    client, server_end = link(proxy, target)
    with client, server_end:
        client.sendall(b"x")
        assert receive_exactly(server_end, 1) == b"x"
        proxy.reset()
        with pytest.raises(ConnectionResetError):
            client.recv(1)
        with pytest.raises(ConnectionResetError):
            server_end.recv(1)
    assert proxy.connections == 0
    assert proxy.mode is Mode.PASSTHROUGH


# ------------------------------------------------------------------ refuse


def test_refuse_refuses_new_connections_until_passthrough_on_the_same_port(
    proxy: FaultProxy, target: Target
) -> None:
    client, server_end = link(proxy, target)
    port = proxy.port
    with client, server_end:
        proxy.refuse()
        assert proxy.mode is Mode.REFUSING
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(proxy.address, timeout=5)
        client.sendall(b"still")  # current connections keep being forwarded
        assert receive_exactly(server_end, 5) == b"still"
        proxy.passthrough()
        assert proxy.port == port
        again, server_again = link(proxy, target)
        with again, server_again:
            again.sendall(b"again")
            assert receive_exactly(server_again, 5) == b"again"


def test_refuse_then_freeze_listens_again_and_holds(proxy: FaultProxy, target: Target) -> None:
    proxy.refuse()
    proxy.freeze()
    with socket.create_connection(proxy.address, timeout=5) as client:
        assert quiet(client)
        assert target.nothing_pending()


# ------------------------------------------------------------------ switching and closing


def test_every_switch_is_idempotent(proxy: FaultProxy, target: Target) -> None:
    for switch in (proxy.freeze, proxy.refuse, proxy.passthrough, proxy.drop, proxy.reset):
        switch()
        switch()
    proxy.freeze()
    proxy.passthrough()
    client, server_end = link(proxy, target)
    with client, server_end:
        client.sendall(b"ok")
        assert receive_exactly(server_end, 2) == b"ok"


def test_switches_from_many_threads_leave_a_working_proxy(echo: EchoServer) -> None:
    with FaultProxy("127.0.0.1", echo.port) as proxy:

        def flip() -> None:
            for _ in range(50):
                proxy.freeze()
                proxy.passthrough()

        flippers = [threading.Thread(target=flip) for _ in range(4)]
        for thread in flippers:
            thread.start()
        for thread in flippers:
            thread.join(30)
        assert proxy.mode is Mode.PASSTHROUGH
        with socket.create_connection(proxy.address, timeout=5) as client:
            client.sendall(b"fine")
            assert receive_exactly(client, 4) == b"fine"


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_close_stops_the_thread_and_closes_every_socket(target: Target) -> None:
    threads, descriptors = threading.active_count(), _open_descriptors()
    proxy = FaultProxy("127.0.0.1", target.port)
    client, server_end = link(proxy, target)
    held_proxy_socket_count = _open_descriptors() - descriptors
    assert held_proxy_socket_count >= 6  # listener, wake-up pair, selector, both link ends
    proxy.close()
    proxy.close()
    with client, server_end:
        assert client.recv(1) == b""
        assert server_end.recv(1) == b""
    assert threading.active_count() == threads
    assert _open_descriptors() == descriptors
    with pytest.raises(FaultProxyError, match="closed"):
        proxy.freeze()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(proxy.address, timeout=5)


def test_context_manager_closes_a_frozen_proxy(target: Target) -> None:
    threads = threading.active_count()
    with FaultProxy("127.0.0.1", target.port) as proxy:
        proxy.freeze()
        socket.create_connection(proxy.address, timeout=5).close()
    assert threading.active_count() == threads
    assert "frozen" in repr(proxy)
