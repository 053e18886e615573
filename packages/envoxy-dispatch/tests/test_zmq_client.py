"""zmqc against real ZeroMQ REP peers (envoxy_testing.zmq_peer: a thread with its own context)."""

import asyncio
import json
import os
import pathlib
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
import zmq

import envoxy_testing
from envoxy import exceptions
from envoxy.constants import Performative
from envoxy.exceptions import ConfigError, ValidationException
from envoxy.utils.config import Config
from envoxy.zeromq import PayloadEncodingError, ZmqClient, ZmqDeadlineError, zmqc
from envoxy_testing.forking import c_fork, in_child
from envoxy_testing.plugin import FaultProxyFactory
from envoxy_testing.threads import all_at_once
from envoxy_testing.zmq_peer import ReplyPeer

pytestmark = pytest.mark.zmq


@pytest.fixture
def peer() -> Iterator[ReplyPeer]:
    server = ReplyPeer()
    yield server
    server.close()


def client_for(port: int, **settings: Any) -> ZmqClient:
    conf = {"host": "127.0.0.1", "port": port, "timeout": 2, "retries": 0, **settings}
    return ZmqClient({"core": conf}, workers={}, retry_delay=settings.get("retry_delay", 0.05))


def test_get_sends_the_zapata_envelope_in_req_framing(peer: ReplyPeer) -> None:
    client = client_for(peer.port)
    try:
        client.request(
            "core", Performative.GET, "/v3/users/me", {"page": 2}, None, {"X-Custom": "1"}
        )
    finally:
        client.close()
    (frames,) = peer.frames
    assert len(frames) == 2
    assert frames[0] == b""
    request = json.loads(frames[1])
    assert list(request) == ["resource", "headers", "params", "payload", "performative"]
    assert request["resource"] == "/v3/users/me"
    assert request["params"] == {"page": 2}
    assert request["payload"] is None
    assert request["performative"] == 0
    headers = request["headers"]
    assert headers["Accept"] == "application/json"
    assert headers["Accept-Charset"] == "utf-8"
    assert headers["User-Agent"] == "Envoxy Server"
    assert headers["X-Custom"] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", headers["Date"])
    assert uuid.UUID(headers["X-Cid"]).version == 4


def test_caller_headers_win_over_generated_ones(peer: ReplyPeer) -> None:
    client = client_for(peer.port)
    try:
        client.request("core", Performative.GET, "/a", headers={"X-Cid": "mine", "Accept": "x"})
    finally:
        client.close()
    assert peer.requests[0]["headers"]["X-Cid"] == "mine"
    assert peer.requests[0]["headers"]["Accept"] == "x"


def test_each_verb_sends_its_performative(peer: ReplyPeer, tmp_path: pathlib.Path) -> None:
    config = tmp_path / "envoxy.json"
    config.write_text(
        json.dumps({"zmq_servers": {"core": {"host": "127.0.0.1", "port": peer.port}}})
    )
    previous = Config.file_path
    Config.set_file_path(config)
    try:
        for verb in ("get", "put", "post", "delete", "head", "patch"):
            getattr(zmqc, verb)("core", f"/verbs/{verb}", payload={"verb": verb})
    finally:
        zmqc.close()
        Config.set_file_path(previous)
    sent = {request["resource"]: request["performative"] for request in peer.requests}
    assert sent == {
        "/verbs/get": 0,
        "/verbs/put": 1,
        "/verbs/post": 2,
        "/verbs/delete": 3,
        "/verbs/head": 4,
        "/verbs/patch": 6,
    }


def test_reply_loses_cid_protocol_and_performative() -> None:
    server = ReplyPeer(
        lambda request: {
            "status": 200,
            "resource": request["resource"],
            "protocol": "zapata",
            "performative": 7,
            "headers": {"X-Cid": request["headers"]["X-Cid"], "X-Status": "ok"},
            "payload": {"id": 1},
        }
    )
    client = client_for(server.port)
    try:
        reply = client.request("core", Performative.GET, "/things/1")
    finally:
        client.close()
        server.close()
    assert reply == {
        "status": 200,
        "resource": "/things/1",
        "headers": {"X-Status": "ok"},
        "payload": {"id": 1},
    }


def test_twenty_threads_each_get_their_own_reply(peer: ReplyPeer) -> None:
    client = client_for(peer.port)

    def call(number: int) -> None:
        for round_number in range(5):
            params = {"thread": number, "round": round_number}
            reply = client.request("core", Performative.GET, f"/echo/{number}", params)
            assert reply["payload"]["params"] == params

    try:
        all_at_once(call, 20, timeout=30)
        assert len(peer.frames) == 100
        assert client.open_sockets("core") <= 20
    finally:
        client.close()


def test_dead_peer_raises_503_within_the_configured_timeout(free_port: int) -> None:
    client = client_for(free_port, timeout=0.3, retries=2, retry_delay=0.05)
    started = time.monotonic()
    try:
        with pytest.raises(ValidationException) as caught:
            client.request("core", Performative.GET, "/nobody/home")
    finally:
        client.close()
    elapsed = time.monotonic() - started
    assert str(caught.value) == "Service Unavailable"
    assert (caught.value.code, caught.value.status) == (0, 503)
    assert isinstance(caught.value, ZmqDeadlineError)
    assert isinstance(caught.value, exceptions.TimeoutError)
    # three attempts of 0.3 s and two pauses of at most 0.05 s and 0.1 s
    assert 0.9 <= elapsed < 2.0


class SilentPeer:
    """A ROUTER socket that takes every request and never answers (a frozen peer)."""

    def __init__(self) -> None:
        self.received = 0
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.ROUTER)
        self._socket.linger = 0
        self.port = self._socket.bind_to_random_port("tcp://127.0.0.1")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._swallow, name="zmq-silent", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._socket.close()
        self._context.term()

    def _swallow(self) -> None:
        while not self._stop.is_set():
            if self._socket.poll(20):
                self._socket.recv_multipart()
                self.received += 1


@pytest.mark.parametrize(
    ("settings", "budget"),
    [
        # attempts would take 10 x 0.4 s: the 1 s deadline ends the call after ~3 of them
        ({"timeout": 0.4, "retries": 9, "deadline": 1.0}, 1.0),
        # the deadline cuts the first attempt short of its 5 s timeout
        ({"timeout": 5, "retries": 3, "deadline": 0.6}, 0.6),
    ],
)
def test_silent_peer_fails_within_the_call_deadline(
    settings: dict[str, Any], budget: float
) -> None:
    silent = SilentPeer()
    client = client_for(silent.port, retry_delay=0.05, **settings)
    started = time.monotonic()
    try:
        with pytest.raises(ZmqDeadlineError) as caught:
            client.request("core", Performative.GET, "/frozen")
    finally:
        client.close()
        silent.close()
    elapsed = time.monotonic() - started
    assert budget - 0.1 <= elapsed <= budget + 0.25
    assert silent.received >= 1
    assert isinstance(caught.value, ValidationException)
    assert caught.value.status == 503


def test_calls_work_again_once_a_frozen_path_passes(
    peer: ReplyPeer, fault_proxy: FaultProxyFactory
) -> None:
    proxy = fault_proxy("127.0.0.1", peer.port)
    client = client_for(proxy.port, timeout=0.3, retries=0, deadline=0.3)
    try:
        assert client.request("core", Performative.GET, "/warm")["status"] == 200
        proxy.freeze()
        with pytest.raises(ZmqDeadlineError):
            client.request("core", Performative.GET, "/frozen")
        proxy.passthrough()
        started = time.monotonic()
        replies = client.bulk_requests(
            [{"server_key": "core", "performative": 0, "url": f"/n/{n}"} for n in range(20)]
        )
        assert [reply["payload"]["resource"] for reply in replies] == [f"/n/{n}" for n in range(20)]
        assert time.monotonic() - started < 5
    finally:
        client.close()


def test_slow_peer_within_the_timeout_answers() -> None:
    def slow(request: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.3)  # the peer's own work, not synchronisation
        return {"status": 200, "payload": "late but fine"}

    server = ReplyPeer(slow)
    client = client_for(server.port, timeout=2)
    try:
        assert client.request("core", Performative.GET, "/slow")["payload"] == "late but fine"
    finally:
        client.close()
        server.close()
    assert len(server.frames) == 1


def test_peer_slower_than_the_timeout_is_retried_on_a_fresh_socket() -> None:
    def first_call_slow(request: dict[str, Any]) -> dict[str, Any]:
        if len(server.frames) == 1:
            time.sleep(1.0)  # the peer's own work, not synchronisation
        return {"status": 200, "payload": len(server.frames)}

    server = ReplyPeer(first_call_slow)
    client = client_for(server.port, timeout=0.3, retries=3, retry_delay=0.1)
    try:
        reply = client.request("core", Performative.GET, "/sometimes-slow")
    finally:
        client.close()
        server.close()
    # The late reply to attempt 1 went to a closed socket: the reply we got answers a
    # later attempt, and every attempt carried the same request.
    assert reply["payload"] >= 2
    assert len({request["headers"]["X-Cid"] for request in server.requests}) == 1


def test_unserialisable_payload_raises_at_once(peer: ReplyPeer) -> None:
    client = client_for(peer.port, retries=3, retry_delay=1)
    started = time.monotonic()
    try:
        with pytest.raises(PayloadEncodingError, match="/things"):
            client.request("core", Performative.POST, "/things", payload={"bad": object()})
    finally:
        client.close()
    assert time.monotonic() - started < 0.5
    assert isinstance(PayloadEncodingError("x"), TypeError)
    assert peer.frames == []


def test_unknown_server_key_names_the_section_and_key(peer: ReplyPeer) -> None:
    client = client_for(peer.port)
    with pytest.raises(ConfigError, match=r"zmq_servers.*'nope'"):
        client.request("nope", Performative.GET, "/x")
    client.close()


def test_unknown_key_from_envoxy_json_names_the_section_and_key(tmp_path: pathlib.Path) -> None:
    config = tmp_path / "envoxy.json"
    config.write_text(json.dumps({"zmq_servers": {"core": {"host": "127.0.0.1", "port": 1}}}))
    previous = Config.file_path
    Config.set_file_path(config)
    try:
        with pytest.raises(ConfigError, match=r"zmq_servers.*'missing'"):
            zmqc.get("missing", "/x")
    finally:
        zmqc.close()
        Config.set_file_path(previous)


def test_send_generates_missing_headers_and_keeps_the_callers_dict(peer: ReplyPeer) -> None:
    client = client_for(peer.port)
    message = {"resource": "/prepared", "performative": Performative.PUT, "payload": {"a": 1}}
    original = json.loads(json.dumps(message))
    try:
        reply = client.send("core", message)
    finally:
        client.close()
    assert message == original
    sent = peer.requests[0]
    assert sent["performative"] == 1
    assert sent["headers"]["User-Agent"] == "Envoxy Server"
    assert reply["payload"]["payload"] == {"a": 1}


def test_send_without_resource_is_rejected(peer: ReplyPeer) -> None:
    client = client_for(peer.port)
    with pytest.raises(ValidationException, match="'resource'") as caught:
        client.send("core", {"performative": 0})
    client.close()
    assert caught.value.status == 412
    assert peer.frames == []


def test_future_returns_a_future_of_the_reply(peer: ReplyPeer) -> None:
    client = client_for(peer.port)
    try:
        pending = client.request("core", Performative.GET, "/later", future=True)
        assert isinstance(pending, Future)
        assert pending.result(5)["payload"]["resource"] == "/later"
    finally:
        client.close()


def test_bulk_requests_returns_replies_in_input_order() -> None:
    def slower_for_lower_numbers(request: dict[str, Any]) -> dict[str, Any]:
        return {"status": 200, "payload": request["params"]["n"]}

    servers = [ReplyPeer(slower_for_lower_numbers) for _ in range(3)]
    conf = {
        f"s{index}": {"host": "127.0.0.1", "port": server.port, "timeout": 2, "retries": 0}
        for index, server in enumerate(servers)
    }
    client = ZmqClient(conf, workers={})
    items = [
        {"server_key": f"s{n % 3}", "performative": 0, "url": f"/n/{n}", "params": {"n": n}}
        for n in range(12)
    ]
    try:
        replies = client.bulk_requests(items)
    finally:
        client.close()
        for server in servers:
            server.close()
    assert [reply["payload"] for reply in replies] == list(range(12))


def test_bulk_requests_works_inside_a_running_event_loop(peer: ReplyPeer) -> None:
    client = client_for(peer.port)
    items = [{"server_key": "core", "performative": 2, "url": f"/loop/{n}"} for n in range(4)]

    async def inside_loop() -> list[Any]:
        return client.bulk_requests(items)

    try:
        replies = asyncio.run(inside_loop())
    finally:
        client.close()
    assert [reply["payload"]["resource"] for reply in replies] == [f"/loop/{n}" for n in range(4)]


def test_bulk_requests_validates_every_item_before_sending(peer: ReplyPeer) -> None:
    client = client_for(peer.port)
    items: list[dict[str, Any]] = [
        {"server_key": "core", "performative": 0, "url": "/fine"},
        {"server_key": "core", "performative": "GET", "url": "/bad"},
    ]
    with pytest.raises(ValidationException, match=r"item 1.*performative"):
        client.bulk_requests(items)
    with pytest.raises(ConfigError, match="'other'"):
        client.bulk_requests([*items[:1], {"server_key": "other", "performative": 0, "url": "/"}])
    client.close()
    assert peer.frames == []


def test_close_is_idempotent_and_the_client_reopens(peer: ReplyPeer) -> None:
    client = client_for(peer.port)
    client.request("core", Performative.GET, "/one")
    client.close()
    client.close()
    assert client.request("core", Performative.GET, "/two")["payload"]["resource"] == "/two"
    client.close()


def test_forked_child_talks_over_its_own_sockets(peer: ReplyPeer) -> None:
    client = client_for(peer.port)
    client.request("core", Performative.GET, "/parent/before")

    def in_the_child() -> str:
        return str(client.request("core", Performative.GET, "/child")["payload"]["resource"])

    try:
        assert in_child(in_the_child) == "/child"
        assert client.request("core", Performative.GET, "/parent/after")["status"] == 200
    finally:
        client.close()
    assert [request["resource"] for request in peer.requests] == [
        "/parent/before",
        "/child",
        "/parent/after",
    ]


def test_a_worker_forked_from_c_talks_over_its_own_context() -> None:
    # uWSGI forks its workers from C, without Python's at-fork hooks: a client that
    # relied on os.register_at_fork gave the worker the master's context, whose I/O
    # thread does not exist there, and every request of the worker timed out. The peer
    # runs in another process: a C fork while a Python thread runs can hang the child
    # in CPython itself, whatever the client does.
    testing = str(pathlib.Path(envoxy_testing.__file__).resolve().parents[1])
    script = (
        "import sys\n"
        "from envoxy_testing.zmq_peer import ReplyPeer\n"
        "peer = ReplyPeer()\n"
        "print(peer.port, flush=True)\n"
        "sys.stdin.read()\n"
        "peer.close()\n"
    )
    peer = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": testing},
    )
    assert peer.stdout is not None
    assert peer.stdin is not None
    client = client_for(int(peer.stdout.readline()))
    try:
        assert client.request("core", Performative.GET, "/master")["status"] == 200

        def request_in_the_worker() -> Any:
            return client.request("core", Performative.GET, "/worker")["payload"]["resource"]

        assert in_child(request_in_the_worker, c_fork) == "/worker"
        assert client.request("core", Performative.GET, "/master/after")["status"] == 200
    finally:
        client.close()
        peer.stdin.close()
        peer.wait(10)


def test_waiting_for_a_free_socket_counts_against_the_attempt_timeout() -> None:
    def slow(request: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.2)  # the peer's own work, not synchronisation
        return {"status": 200, "payload": request["resource"]}

    server = ReplyPeer(slow)
    conf = {"host": "127.0.0.1", "port": server.port, "timeout": 0.3, "retries": 0}
    client = ZmqClient({"core": conf}, workers={"context_max_workers": 1})
    outcomes: dict[str, Any] = {}

    def call(name: str) -> None:
        try:
            outcomes[name] = client.request("core", Performative.GET, f"/{name}")["payload"]
        except ValidationException as exc:
            outcomes[name] = exc.status

    first = threading.Thread(target=call, args=("first",))
    first.start()
    deadline = time.monotonic() + 5
    while client.open_sockets("core") == 0 or not server.frames:  # poll: first is in
        assert time.monotonic() < deadline
        time.sleep(0.005)
    call("second")  # waits ~0.2 s for the only socket, then has ~0.1 s left: too little
    first.join(5)
    client.close()
    server.close()
    assert outcomes == {"first": "/first", "second": 503}
