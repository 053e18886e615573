"""Response rules (SPEC §6.3)."""

import datetime
import json

import pytest

from envoxy.views.containers import Response


def test_list_is_wrapped_with_elements_and_size() -> None:
    response = Response([{"a": 1}, {"a": 2}])
    assert json.loads(response.get_data()) == {"elements": [{"a": 1}, {"a": 2}], "size": 2}
    assert response.mimetype == "application/json"


def test_dict_status_int_and_numeric_string_set_the_status() -> None:
    assert Response({"status": 201, "payload": {"ok": 1}}).status_code == 201
    assert Response({"status": "202", "payload": None}).status_code == 202


def test_non_numeric_status_stays_in_the_body() -> None:
    response = Response({"status": "ok", "data": 1})
    assert response.status_code == 200
    assert json.loads(response.get_data()) == {"status": "ok", "data": 1}


def test_payload_none_gives_an_empty_body() -> None:
    response = Response({"status": 200, "payload": None})
    assert response.get_data() == b""


def test_payload_str_follows_the_str_rule() -> None:
    text = Response({"payload": "hello"})
    assert text.get_data() == b"hello"
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    data = Response({"payload": '{"a": 1}'})
    assert data.headers["Content-Type"] == "application/json"


def test_payload_list_is_wrapped() -> None:
    response = Response({"status": 200, "payload": [1]})
    assert json.loads(response.get_data()) == {"elements": [1], "size": 1}


def test_headers_replace_but_hop_by_hop_and_content_length_are_ignored() -> None:
    response = Response(
        {
            "payload": {"a": 1},
            "headers": {"X-Trace": "t1", "Connection": "close", "Content-Length": "999"},
        },
        headers={"X-Trace": "old"},
    )
    assert response.headers.getlist("X-Trace") == ["t1"]
    assert "Connection" not in response.headers
    assert response.headers["Content-Length"] == str(len(response.get_data()))


def test_cookies_are_set() -> None:
    response = Response(
        {"payload": {}, "cookies": [{"key": "sid", "value": "abc", "httponly": True}]}
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("sid=abc")
    assert "HttpOnly" in cookie


def test_bytes_are_sent_unchanged_with_the_given_mimetype() -> None:
    response = Response(b"\x00\x01", mimetype="application/octet-stream")
    assert response.get_data() == b"\x00\x01"
    assert response.mimetype == "application/octet-stream"


def test_json_encoder_handles_datetimes() -> None:
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)
    assert json.loads(Response({"at": when}).get_data()) == {"at": "2024-01-02T03:04:05.678+0000"}


@pytest.mark.parametrize("value", [{"x": 1}, [1], "text", None])
def test_every_response_has_server_and_rfc7231_date(value: object) -> None:
    response = Response(value)
    assert response.headers["Server"] == "Envoxy Server"
    assert response.headers["Date"].endswith(" GMT")
