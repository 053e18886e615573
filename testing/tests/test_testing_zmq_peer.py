"""ReplyPeer: a real REP socket that answers with its handler and records the frames."""

import json

import pytest
import zmq

from envoxy_testing.zmq_peer import ReplyPeer

pytestmark = pytest.mark.zmq


def ask(port: int, request: dict[str, object]) -> object:
    """Send one request the way zmqc does: a DEALER with an empty delimiter frame."""
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.linger = 0
    socket.rcvtimeo = 5000
    try:
        socket.connect(f"tcp://127.0.0.1:{port}")
        socket.send_multipart([b"", json.dumps(request).encode()])
        return json.loads(socket.recv_multipart()[-1])
    finally:
        socket.close()
        context.term()


def test_default_handler_echoes_and_the_frames_are_kept() -> None:
    with ReplyPeer() as peer:
        assert ask(peer.port, {"resource": "/a"}) == {"status": 200, "payload": {"resource": "/a"}}
        assert peer.requests == [{"resource": "/a"}]
        assert peer.count == 1
        assert peer.frames[0][-1] == b'{"resource": "/a"}'


def test_handler_sees_the_number_of_its_request() -> None:
    with ReplyPeer(lambda request: {"status": 201, "payload": len(peer.frames)}) as peer:
        assert ask(peer.port, {}) == {"status": 201, "payload": 1}
        assert ask(peer.port, {}) == {"status": 201, "payload": 2}
    peer.close()  # idempotent
