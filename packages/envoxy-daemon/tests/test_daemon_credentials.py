"""authenticate_container against a real local HTTP server, and readiness gating."""

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from werkzeug.test import Client

from envoxy.auth import AuthenticationError, authenticate
from envoxy.daemon.app import create_app


class CredentialsServer:
    """A loopback credentials server recording what it receives."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.delay = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                owner.requests.append({"path": self.path, "form": form})
                body = json.dumps({"access_token": "tok", "client_id": "svc"}).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def credentials_server() -> Iterator[CredentialsServer]:
    server = CredentialsServer()
    yield server
    server.close()


def section(url: str, **overrides: Any) -> dict[str, Any]:
    values = {
        "server": url,
        "client_id": "svc",
        "client_secret": "s3cret",
        "response_type": "token",
        "scope": "all",
        "timeout": 2,
    }
    values.update(overrides)
    return values


def test_posts_form_and_keeps_secret_out_of_url(credentials_server: CredentialsServer) -> None:
    assert authenticate(section(credentials_server.url)) == {
        "access_token": "tok",
        "client_id": "svc",
    }
    received = credentials_server.requests[-1]
    assert "s3cret" not in received["path"]
    assert received["form"] == {
        "client_id": ["svc"],
        "client_secret": ["s3cret"],
        "response_type": ["token"],
        "scope": ["all"],
        "state": ["active"],
    }


def test_non_200_raises(credentials_server: CredentialsServer) -> None:
    credentials_server.status = 403
    with pytest.raises(AuthenticationError, match="answered 403"):
        authenticate(section(credentials_server.url))


def test_empty_field_raises_naming_it() -> None:
    with pytest.raises(AuthenticationError, match=r"credentials\.scope is empty"):
        authenticate(section("http://127.0.0.1:9/", scope=""))


def test_unreachable_server_raises() -> None:
    with pytest.raises(AuthenticationError, match="could not be reached"):
        authenticate(section("http://127.0.0.1:9/token", timeout=1))


def test_service_is_not_ready_until_credentials_arrive(
    credentials_server: CredentialsServer,
) -> None:
    credentials_server.status = 500
    config = {"credentials": section(credentials_server.url), "readiness": {"cache_seconds": 0}}
    app = create_app(config, views=[])
    assert app.credentials is not None
    app.credentials.retry_interval = 0.2
    app.start_background()
    try:
        client = Client(app)
        first = client.get("/_ready")
        assert first.status_code == 503
        assert first.json["checks"]["credentials"]["status"] == "error"
        assert first.json["checks"]["credentials"]["reason"] in ("pending", "error")
        credentials_server.status = 200
        assert app.credentials.wait(10)
        ready = client.get("/_ready")
        assert ready.status_code == 200
        assert ready.json["checks"]["credentials"]["status"] == "ok"
        from envoxy.utils.config import Config

        assert Config.get_credentials() == {"access_token": "tok", "client_id": "svc"}
    finally:
        app.credentials.stop()
        from envoxy.utils.config import Config

        Config.set_credentials_provider(None)


def test_a_frozen_credentials_server_fails_the_fetch_within_its_timeout() -> None:
    import socket
    import time

    from envoxy.daemon.credentials import CredentialsKeeper

    frozen = socket.socket()  # accepts connections (the kernel does), never answers
    frozen.bind(("127.0.0.1", 0))
    frozen.listen(8)
    url = f"http://127.0.0.1:{frozen.getsockname()[1]}/token"
    try:
        started = time.monotonic()
        with pytest.raises(AuthenticationError, match="could not be reached") as caught:
            authenticate(section(url, timeout=0.5))
        assert time.monotonic() - started < 0.5 + 1
        keeper = CredentialsKeeper(section(url, timeout=0.5), retry_interval=60)
        assert keeper.check() == "pending"
        keeper.start()
        deadline = time.monotonic() + 3
        while keeper.check() == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        keeper.stop()
        assert keeper.check() == "timeout"  # a short reason for /_ready, details in the log
        assert "127.0.0.1" not in str(keeper.check())
        assert caught.value.__cause__ is not None
    finally:
        frozen.close()
