"""Secrets never reach envoxyd's log, at any level: marker secrets sent to a real envoxyd.

Each marker is a secret a client sends (query values, credential headers, JSON fields at
any depth, card numbers) or one in the configuration; the whole log is scanned for it.
"""

import http.client
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SAMPLE = Path(__file__).with_name("views_sample.py")

pytestmark = pytest.mark.integration

#: query parameter -> marker; every name is on the shared list of sensitive names
QUERY_SECRETS = {
    "code": "MKQCODE",
    "sig": "MKQSIG",
    "signature": "MKQSIGNATURE",
    "key": "MKQKEY",
    "pwd": "MKQPWD",
    "session": "MKQSESSION",
    "auth": "MKQAUTH",
    "access_token": "MKQTOKEN",
    "api_key": "MKQAPIKEY",
    "pass%77ord": "MKQPASSWORD",  # "password", percent-encoded
}
#: header -> value holding a marker
HEADER_SECRETS = {
    "Authorization": "Bearer MKHBEARER",
    "Cookie": "sid=MKHCOOKIE; theme=dark",
    "X-Auth": "MKHXAUTH",
    "X-Api-Key": "MKHAPIKEY",
    "X-Auth-Token": "MKHTOKEN",
    "Proxy-Authorization": "Basic MKHBASIC",
    "Referer": "https://app.example/callback?code=MKHREFERER&state=1",
}
CARD_NUMBERS = ["4111111111111111", "4111 1111 1111 1111", "5555555555554444", "378282246310005"]
JSON_BODY: dict[str, Any] = {
    "user": {"name": "visible-name", "pass": "MKJPASS", "pwd": "MKJPWD", "pin": "MKJPIN"},
    "otp": "MKJOTP",
    "password_confirmation": "MKJCONFIRM",
    "client_secret": "MKJCLIENT",
    "items": [{"password": "MKJARRAY"}, {"apiKey": ["MKJLIST1", "MKJLIST2"]}],
    "auth": {"kind": "x", "value": "MKJNESTED"},
    "payment": {"number": 5555555555554444, "note": "card 4111 1111 1111 1111 on file"},
    "cards": ["4111111111111111", "378282246310005"],
}
MARKERS = [
    *QUERY_SECRETS.values(),
    "MKHBEARER",
    "MKHCOOKIE",
    "MKHXAUTH",
    "MKHAPIKEY",
    "MKHTOKEN",
    "MKHBASIC",
    "MKHREFERER",
    "MKJPASS",
    "MKJPWD",
    "MKJPIN",
    "MKJOTP",
    "MKJCONFIRM",
    "MKJCLIENT",
    "MKJARRAY",
    "MKJLIST1",
    "MKJLIST2",
    "MKJNESTED",
    "MKFORM",
    *CARD_NUMBERS,
]
LEVELS = {"info": 6, "debug": 7, "trace": 8, "verbose": 9}


def send_marked_requests(port: int) -> None:
    """Send every marker: a GET (query, headers), a JSON POST echoed back, a form POST."""
    query = "&".join(f"{name}={value}" for name, value in QUERY_SECRETS.items())
    query += f"&card={CARD_NUMBERS[0]}&q=visible-query"
    status, body = request(port, "GET", f"/v1/items/7?{query}", None, HEADER_SECRETS)
    assert status == 200
    assert json.loads(body)["q"] == "visible-query"
    headers = {**HEADER_SECRETS, "Content-Type": "application/json"}
    status, body = request(port, "POST", "/v1/list", json.dumps(JSON_BODY), headers)
    assert status == 200
    assert json.loads(body)["json"] == JSON_BODY  # echoed: the response body holds them too
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    request(port, "POST", "/v1/list", "password=MKFORM&user=visible", form_headers)


def request(
    port: int, method: str, path: str, body: str | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    """One request on its own connection; return the status and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def leaked(text: str) -> list[str]:
    return [marker for marker in MARKERS if marker in text]


@pytest.fixture
def envoxyd_at(
    write_config: Callable[..., Path], start_envoxyd: Callable[..., Any]
) -> Callable[..., Any]:
    def start(level: int, log_format: str = "json") -> Any:
        config = write_config(
            {"modules": [str(SAMPLE)], "log": {"level": level, "format": log_format}}
        )
        return start_envoxyd("--set", f"conf={config}")

    return start


@pytest.mark.parametrize("level_name", list(LEVELS))
def test_no_marker_secret_in_the_log_at_any_level(envoxyd_at: Any, level_name: str) -> None:
    daemon = envoxyd_at(LEVELS[level_name])
    send_marked_requests(daemon.port)
    assert daemon.stop() == 0
    text = daemon.log()

    assert leaked(text) == []
    assert "/v1/items/7" in text  # the requests were logged
    messages = [json.loads(line)["short_message"] for line in text.splitlines() if line[:1] == "{"]
    if LEVELS[level_name] >= LEVELS["debug"]:  # the request line with its query
        (request_line,) = [line for line in messages if "GET /v1/items/7?" in line]
        assert "code=***&sig=***" in request_line
        assert "pass%77ord=***" in request_line
        assert "card=***&q=visible-query" in request_line
    if LEVELS[level_name] == LEVELS["verbose"]:  # headers and JSON bodies, masked
        (posted,) = [
            line
            for line in messages
            if line.startswith("> Request [HTTP] POST /v1/list") and "application/json" in line
        ]
        for header in HEADER_SECRETS:
            if header != "Referer":
                assert f'"{header}":"***"' in posted
        payload = json.loads(posted.partition(" | Payload ")[2])
        assert payload["user"] == {
            "name": "visible-name",
            "pass": "***",
            "pwd": "***",
            "pin": "***",
        }
        assert payload["items"] == [{"password": "***"}, {"apiKey": "***"}]
        assert payload["payment"] == {"number": "***", "note": "card *** on file"}
        assert payload["cards"] == ["***", "***"]
        echoed = [line for line in messages if line.startswith("< Response [HTTP] POST /v1/list")]
        assert any('"pass":"***"' in line for line in echoed)
        assert any(line.endswith(" | Payload <28 bytes>") for line in messages)  # the form


def test_no_marker_secret_in_the_pretty_log(envoxyd_at: Any) -> None:
    daemon = envoxyd_at(LEVELS["verbose"], "pretty")
    send_marked_requests(daemon.port)
    assert daemon.stop() == 0
    text = daemon.log()

    assert leaked(text) == []
    assert '"X-Auth":"***"' in text


@pytest.mark.parametrize(
    ("section", "entry"),
    [
        ("psql_servers", {"host": "127.0.0.1", "password": "MKCONF-pa${ss-MKCONF2"}),
        ("redis_servers", {"bind": "127.0.0.1:6379", "passwd": "${MKCONF"}),
        ("psql_servers", {"url": "postgresql://app:MKCONF@db/app${"}),
    ],
)
def test_a_stray_reference_in_a_secret_is_not_printed_at_startup(
    write_config: Callable[..., Path],
    start_envoxyd: Callable[..., Any],
    section: str,
    entry: dict[str, Any],
) -> None:
    config = write_config({"modules": [str(SAMPLE)], section: {"default": entry}})
    daemon = start_envoxyd("--set", f"conf={config}", wait=False)

    assert daemon.process.wait(timeout=30) != 0
    text = daemon.log()
    assert "MKCONF" not in text
    assert f"{section}.default." in text
    assert "not a valid variable reference" in text or "does not start a valid" in text
