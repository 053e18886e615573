"""Adversarial log scan: marker secrets sent to a real envoxyd never appear in its log.

Several users send secrets over raw sockets the way hostile or careless clients do:
query strings (plain, percent-encoded and ``+``-encoded names, repeated parameters),
credential headers (``Authorization``, ``Cookie``, ``X-Auth``, ``X-Api-Key``, a custom
``X-Auth-Token``, odd case, duplicated), JSON bodies (nested fields, arrays, a key
written with a ``\\u`` escape, card numbers as strings and numbers) and a view that
fails with a 5xx. The whole log of envoxyd (2 processes, 2 threads each) is scanned at
the levels ``info``, ``debug``, ``trace`` and ``verbose``, in both formats. A stray
``${`` in a configured password must not print it when envoxyd refuses to start.
"""

import json
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envoxy_testing.envoxyd import Envoxyd, write_config

pytestmark = pytest.mark.integration


VIEWS = """
from envoxy.decorators import on
from envoxy.views import View


@on(endpoint="/v1/echo")
class Echo(View):
    def get(self, request, **kwargs):
        return {"q": request.args.get("q")}

    def post(self, request, **kwargs):
        return {"json": request.get_json()}


@on(endpoint="/v1/fail")
class Fail(View):
    def get(self, request, **kwargs):
        raise RuntimeError("the view failed on purpose")


__loader__ = [Echo, Fail]
"""

#: card numbers that pass the Luhn check (Visa, Mastercard, Amex, Discover)
CARDS = ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117"]


def user_requests(user: str) -> list[bytes]:
    """The raw requests one user sends; every ``MK<user>…`` string is a secret."""
    mark = f"MK{user}"
    query = (
        f"code={mark}Q1&sig={mark}Q2&signature={mark}Q3&key={mark}Q4&pwd={mark}Q5"
        f"&session={mark}Q6&auth={mark}Q7&access_token={mark}Q8&api_key={mark}Q9"
        f"&pass%77ord={mark}Q10&client+secret={mark}Q11&key={mark}Q12"
        f"&card={CARDS[0]}&q=visible-{user}"
    )
    headers = (
        f"Host: t\r\nAuthorization: Bearer {mark}H1\r\nCookie: session={mark}H2; theme=x\r\n"
        f"Cookie: second={mark}H3\r\nX-Auth: {mark}H4\r\nX-Api-Key: {mark}H5\r\n"
        f"x-AUTH-token: {mark}H6\r\nAuthorization: Basic {mark}H7\r\n"
        f"Referer: https://app.example/cb?code={mark}H8&state=1\r\n"
    )
    body = json.dumps(
        {
            "user": {"name": f"visible-{user}", "pass": f"{mark}J1", "pin": f"{mark}J2"},
            "otp": f"{mark}J3",
            "login": [{"password": f"{mark}J4"}, {"tokens": [f"{mark}J5", f"{mark}J6"]}],
            "deep": [[[{"level": {"secret": f"{mark}J7"}}]]],
            "payment": {"number": int(CARDS[1]), "text": f"card {CARDS[2]} expires"},
            "cards": [CARDS[3], "4111 1111 1111 1111"],
        }
    ).replace('"pin"', '"p\\u0069n"')  # the key "pin", escaped
    encoded = body.encode()
    return [
        f"GET /v1/echo?{query} HTTP/1.1\r\n{headers}\r\n".encode(),
        f"POST /v1/echo?{query} HTTP/1.1\r\n{headers}Content-Type: application/json\r\n"
        f"Content-Length: {len(encoded)}\r\n\r\n".encode()
        + encoded,
        f"GET /v1/fail?{query} HTTP/1.1\r\n{headers}\r\n".encode(),
    ]


def secrets_of(user: str) -> list[str]:
    mark = f"MK{user}"
    return [
        *(f"{mark}Q{n}" for n in range(1, 13)),
        *(f"{mark}H{n}" for n in range(1, 9)),
        *(f"{mark}J{n}" for n in range(1, 8)),
        *CARDS,
        "4111 1111 1111 1111",
    ]


USERS = ["alice", "bob", "carol"]


@pytest.fixture
def start(start_envoxyd: Callable[..., Envoxyd], tmp_path: Path) -> Callable[..., Envoxyd]:
    """envoxyd (2 processes x 2 threads) with a config, no ENVOXY_* from our environment."""

    def run(config: dict[str, Any], *, wait: bool = True) -> Envoxyd:
        path = write_config(tmp_path, config, f"envoxy-{uuid.uuid4().hex[:8]}.json")
        return start_envoxyd(
            *("--processes", "2", "--threads", "2", "--set", f"conf={path}"),
            clean_env=True,
            wait=wait,
        )

    return run


@pytest.fixture
def views(tmp_path: Path) -> Path:
    path = tmp_path / "adversarial_views.py"
    path.write_text(VIEWS)
    return path


@pytest.mark.parametrize(
    ("level", "log_format"),
    [
        ("info", "json"),
        ("debug", "json"),
        ("trace", "pretty"),
        ("verbose", "json"),
        ("verbose", "pretty"),
    ],
)
def test_marker_secrets_never_reach_the_log(
    start: Callable[..., Envoxyd], views: Path, level: str, log_format: str
) -> None:
    daemon = start({"modules": [str(views)], "log": {"level": level, "format": log_format}})
    statuses: dict[str, list[int]] = {}

    def user(name: str) -> None:
        statuses[name] = [daemon.send(request).status for request in user_requests(name)]

    threads = [threading.Thread(target=user, args=(name,)) for name in USERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert daemon.stop() == 0
    text = daemon.log()

    assert statuses == {name: [200, 200, 500] for name in USERS}, text
    leaks = {name: [s for s in secrets_of(name) if s in text] for name in USERS}
    assert leaks == {name: [] for name in USERS}
    assert "/v1/echo" in text  # the requests were logged
    if level != "info":  # with their queries (visible parts kept)
        assert all(f"q=visible-{name}" in text for name in USERS)
    assert "the view failed on purpose" in text  # the 5xx was logged with its traceback
    if level == "verbose":
        assert '"X-Auth":"***"' in text.replace('\\"', '"')
        assert '"pin":"***"' in text.replace('\\"', '"')


def test_stray_reference_in_a_password_is_not_printed(
    start: Callable[..., Envoxyd], views: Path
) -> None:
    secret = "MKCONFIG-hunter2-${-tail"
    config = {
        "modules": [str(views)],
        "psql_servers": {"default": {"host": "127.0.0.1", "user": "app", "password": secret}},
        "credentials": {"client_secret": "MKCONFIG2${oops}"},
    }
    daemon = start(config, wait=False)
    assert daemon.process.wait(30) != 0
    text = daemon.log()
    assert "MKCONFIG" not in text
    assert "hunter2" not in text
    assert "psql_servers.default.password" in text or "credentials.client_secret" in text
    assert "does not start a valid variable reference" in text
