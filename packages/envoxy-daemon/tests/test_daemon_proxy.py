"""default_zmq_backend against a real ZeroMQ REP peer on loopback."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from envoxy.daemon.app import create_app
from envoxy.decorators import on
from envoxy.utils.config import Config
from envoxy.views import View
from envoxy_testing.zmq_peer import ReplyPeer

pytestmark = [pytest.mark.zmq, pytest.mark.integration]


@on(endpoint="/v3/special")
class SpecialView(View):
    def get(self, request, **kwargs):
        return {"view": True}


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[Client, ReplyPeer]]:
    from envoxy.zeromq import zmqc

    peer = ReplyPeer(lambda request: {"status": 200, "payload": {"resource": request["resource"]}})
    config = {
        "zmq_servers": {"backend": {"host": "127.0.0.1", "port": peer.port, "timeout": 2}},
        "default_zmq_backend": {"enabled": True, "path_prefix": "/v3"},
    }
    path = tmp_path / "envoxy.json"
    path.write_text(json.dumps(config))
    previous = Config.file_path
    Config.set_file_path(str(path))
    zmqc.close()
    try:
        yield Client(create_app(config, views=[SpecialView])), peer
    finally:
        zmqc.close()
        Config.set_file_path(previous)
        peer.close()


def test_unmatched_path_is_forwarded(proxied: tuple[Client, ReplyPeer]) -> None:
    client, peer = proxied
    answer = client.post(
        "/v3/things/7?x=1&x=2&y=3",
        json={"name": "thing"},
        headers={"X-Trace": "t1", "Connection": "keep-alive"},
    )
    assert answer.status_code == 200
    assert answer.json == {"resource": "/v3/things/7"}
    request = peer.requests[-1]
    assert request["resource"] == "/v3/things/7"
    assert request["params"] == {"x": "1", "y": "3"}
    assert request["payload"] == {"name": "thing"}
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert headers["x-trace"] == "t1"
    for dropped in ("host", "content-length", "connection"):
        assert dropped not in headers


def test_views_rank_above_the_proxy(proxied: tuple[Client, ReplyPeer]) -> None:
    client, peer = proxied
    assert client.get("/v3/special").json == {"view": True}
    assert peer.requests == []


def test_paths_outside_the_prefix_are_404(proxied: tuple[Client, ReplyPeer]) -> None:
    client, _ = proxied
    assert client.get("/v4/things").status_code == 404


def test_proxy_sends_the_validated_request_context(proxied: tuple[Client, ReplyPeer]) -> None:
    """The caller's raw X-Request-ID/X-Cid/traceparent are not forwarded: the backend
    gets the request's validated id (a hostile one replaced)."""
    client, peer = proxied
    answer = client.get("/v3/a", headers={"X-Request-ID": "good-1", "X-Cid": "other"})
    assert peer.requests[-1]["headers"]["X-Request-ID"] == "good-1"
    assert peer.requests[-1]["headers"]["X-Cid"] == "good-1"
    assert answer.headers["X-Request-ID"] == "good-1"
    answer = client.get(
        "/v3/b", headers={"X-Request-ID": 'x" y', "traceparent": "00-zz-not-valid-00"}
    )
    forwarded = peer.requests[-1]["headers"]
    assert forwarded["X-Request-ID"] == answer.headers["X-Request-ID"] != 'x" y'
    assert "traceparent" not in forwarded
