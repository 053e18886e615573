"""SocketDeadlines on real sockets: a blocked read is woken at its deadline, never earlier,
and a cancelled alarm never touches its socket again."""

import socket
import threading
import time

from envoxy.utils.deadlines import SocketDeadlines, socket_closed_by_peer, socket_deadlines
from envoxy_testing.forking import in_child


def blocked_recv(sock: socket.socket, outcome: list[object]) -> threading.Thread:
    """Start a thread blocked in ``recv`` (no timeout); it appends what recv returned."""

    def run() -> None:
        try:
            outcome.append(sock.recv(10))
        except OSError as exc:
            outcome.append(exc)
        outcome.append(time.monotonic())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_blocked_read_returns_at_its_deadline() -> None:
    watch = SocketDeadlines()
    client, server = socket.socketpair()
    with client, server:
        outcome: list[object] = []
        started = time.monotonic()
        alarm = watch.arm(client.fileno(), started + 0.3)
        reader = blocked_recv(client, outcome)
        reader.join(3)
        assert not reader.is_alive()
        assert outcome[0] == b""  # end of file: the socket was shut down
        woke = float(outcome[1]) - started  # type: ignore[arg-type]
        assert 0.3 <= woke < 0.5
        assert alarm.cancel() is True
        assert watch.fired == 1
        assert watch.armed == 0


def test_a_cancelled_alarm_leaves_the_socket_alone() -> None:
    watch = SocketDeadlines()
    client, server = socket.socketpair()
    with client, server:
        alarm = watch.arm(client.fileno(), time.monotonic() + 0.1)
        assert alarm.cancel() is False
        time.sleep(0.25)
        server.sendall(b"ok")
        assert client.recv(10) == b"ok"
        assert watch.fired == 0
        assert alarm.cancel() is False  # idempotent


def test_a_descriptor_reused_after_cancel_is_never_shut_down() -> None:
    watch = SocketDeadlines()
    first, peer = socket.socketpair()
    number = first.fileno()
    alarm = watch.arm(number, time.monotonic() + 0.1)
    alarm.cancel()
    first.close()
    peer.close()
    reused, other = socket.socketpair()  # most likely gets the same descriptor number
    with reused, other:
        time.sleep(0.25)
        other.sendall(b"still here")
        assert reused.recv(20) == b"still here"


def test_earlier_deadlines_armed_later_wake_the_watcher() -> None:
    watch = SocketDeadlines()
    pairs = [socket.socketpair() for _ in range(3)]
    try:
        started = time.monotonic()
        late = watch.arm(pairs[0][0].fileno(), started + 5)
        outcomes: list[list[object]] = [[], []]
        watch.arm(pairs[1][0].fileno(), started + 0.4)
        watch.arm(pairs[2][0].fileno(), started + 0.2)
        readers = [blocked_recv(pairs[i + 1][0], outcomes[i]) for i in range(2)]
        for reader in readers:
            reader.join(3)
        woke = [float(outcome[1]) - started for outcome in outcomes]  # type: ignore[arg-type]
        assert 0.4 <= woke[0] < 0.6
        assert 0.2 <= woke[1] < 0.4
        assert late.cancel() is False
    finally:
        for left, right in pairs:
            left.close()
            right.close()


def test_many_short_calls_keep_the_heap_small_and_the_watcher_asleep() -> None:
    watch = SocketDeadlines()
    client, server = socket.socketpair()
    with client, server:
        for _ in range(5000):
            watch.arm(client.fileno(), time.monotonic() + 30).cancel()
        assert watch.armed == 0
        assert len(watch._heap) <= 260  # rebuilt once dead entries pile up
        assert watch.fired == 0


def test_closed_by_peer_tells_an_idle_socket_from_a_hung_up_one() -> None:
    client, server = socket.socketpair()
    with client:
        assert socket_closed_by_peer(client.fileno()) is False
        server.close()
        assert socket_closed_by_peer(client.fileno()) is True


def test_a_forked_child_gets_its_own_watcher() -> None:
    parent = socket_deadlines()
    held = socket.socket()
    pending = parent.arm(held.fileno(), time.monotonic() + 60)  # starts the thread

    def in_the_child() -> bool:  # its own instance, whose alarms fire
        child = socket_deadlines()
        client, _peer = socket.socketpair()
        outcome: list[object] = []
        child.arm(client.fileno(), time.monotonic() + 0.1)
        blocked_recv(client, outcome).join(2)
        return child is not parent and bool(outcome) and outcome[0] == b""

    try:
        assert in_child(in_the_child) is True
    finally:
        pending.cancel()
        held.close()


def test_the_watcher_ends_when_idle_and_starts_again() -> None:
    watch = SocketDeadlines()
    client, server = socket.socketpair()
    with client, server:
        watch.arm(client.fileno(), time.monotonic() + 0.1).cancel()
        thread = watch._thread
        assert thread is not None
        thread.join(2)
        assert not thread.is_alive()
        assert watch._thread is None
        outcome: list[object] = []
        watch.arm(client.fileno(), time.monotonic() + 0.1)
        blocked_recv(client, outcome).join(2)
        assert outcome[0] == b""
