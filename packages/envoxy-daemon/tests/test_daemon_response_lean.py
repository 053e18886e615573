"""The lean Response: the same bytes as werkzeug's, and werkzeug the moment it is used.

Each case builds a Response twice: lean (as the app sends it) and with the lean path
turned off (werkzeug builds it in the constructor, the 1.0 behaviour), and compares what
both send for GET and HEAD.
"""

import copy
import datetime
import pickle
from typing import Any

import pytest
from werkzeug.wrappers import Response as WerkzeugResponse

from envoxy.views import containers
from envoxy.views.containers import Response, json_response

Sent = tuple[str, list[tuple[str, str]], bytes]

CASES: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    (({"a": 1},), {}),
    (([1, {"b": 2}],), {}),
    (("plain text",), {}),
    (('{"a": 1}',), {}),
    ((b"raw bytes",), {}),
    ((b"\x00\x01",), {"mimetype": "application/octet-stream"}),
    (("<p>",), {"mimetype": "text/html"}),
    (("x",), {"content_type": "application/problem+json"}),
    ((None,), {}),
    ((None,), {"status": 204}),
    (({"status": 201, "payload": {"id": 7}},), {}),
    (({"status": "202", "payload": None},), {}),
    (({"status": 204},), {}),
    (({"status": "ok", "data": 1},), {}),
    (({"status": True, "data": 1},), {}),
    (({"payload": "hello"},), {}),
    (({"payload": '{"x": 1}'},), {}),
    (({"payload": [1, 2]},), {}),
    (
        (
            {
                "payload": {"a": 1},
                "headers": {
                    "X-Trace": "t1",
                    "Connection": "close",
                    "content-length": "999",
                    "server": "mine",
                    "Content-Type": "text/html; charset=utf-8",
                    "X-Number": 5,
                },
            },
        ),
        {"headers": {"X-Trace": "old", "Content-Type": "application/xml"}},
    ),
    (({"error": "x", "code": 0},), {"status": 404, "headers": {"X-Error": "0"}}),
    (({"error": "x"},), {"status": 503, "headers": {"X-Error": "0", "Retry-After": "2"}}),
    (("error: x",), {"status": 500, "content_type": "text/plain; charset=utf-8"}),
    (({"a": 1},), {"headers": [("X-A", "1"), ("x-a", "2"), ("X-B", "3")]}),
    (({"a": 1},), {"headers": {"Content-Type": "application/vnd.api+json"}}),
    (({"a": 1},), {"status": 299}),
    (({"a": 1},), {"status": "201 Created"}),
    (({"a": 1},), {"status": 100}),
    (({"a": 1},), {"status": 304}),
    (({"payload": {}, "headers": {"Location": "/next"}},), {"status": 302}),
    (({"a": 1},), {"headers": {"X-Many": ["1", "2"]}}),
    (({"payload": {}, "cookies": [{"key": "sid", "value": "abc", "httponly": True}]},), {}),
    ((iter([b"a", b"b"]),), {}),
    (({"at": datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC)},), {}),
]


DATE = ("Date", "Tue, 02 Jan 2024 00:00:00 GMT")


@pytest.fixture
def frozen_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same Date for every response of the test (no second boundary in between)."""
    monkeypatch.setattr(containers, "_date_header", lambda: DATE)


def send(response: Any, method: str = "GET") -> Sent:
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen.append((status, list(headers)))

    body = b"".join(response({"REQUEST_METHOD": method}, start_response))
    return seen[0][0], seen[0][1], body


def eager(monkeypatch: pytest.MonkeyPatch, *args: Any, **kwargs: Any) -> Response:
    with monkeypatch.context() as patch:
        patch.setattr(containers, "_LEAN", False)
        return Response(*args, **kwargs)


@pytest.mark.parametrize(("args", "kwargs"), CASES)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_lean_and_werkzeug_send_the_same(
    monkeypatch: pytest.MonkeyPatch,
    frozen_date: None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    method: str,
) -> None:
    """A Response sends what werkzeug sends; a lean one's answer also goes out the way
    envoxyd sends it (``send_answer``: X-Request-ID last, the answer left unchanged)."""
    reference = eager(monkeypatch, *copy.deepcopy(args), **kwargs)
    assert reference._lean is None
    status, headers, body = send(reference, method)
    response = Response(*copy.deepcopy(args), **kwargs)
    lean = copy.deepcopy(response._lean)
    assert send(response, method) == (status, headers, body)
    if lean is None:  # only werkzeug knows how to send it (built in the constructor)
        return
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    sent = containers.send_answer(
        lean,
        {"REQUEST_METHOD": method},
        lambda line, sent_headers, exc_info=None: seen.append((line, list(sent_headers))),
        ("X-Request-ID", "r-1"),
    )
    assert seen == [(status, [*headers, ("X-Request-ID", "r-1")])]
    assert b"".join(sent) == body
    assert response._lean == lean


def test_common_answers_stay_lean() -> None:
    assert Response({"a": 1})._lean is not None
    assert Response([1])._lean is not None
    assert Response(None, status=204)._lean is not None
    assert Response({"error": "e"}, status=404, headers={"X-Error": "0"})._lean is not None
    assert json_response({"a": 1})._lean is not None


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (({"a": 1},), {"status": "201 Created"}),
        (({"payload": {}, "cookies": [{"key": "a", "value": "b"}]},), {}),
        ((iter([b"x"]),), {}),
        (({"payload": {}, "headers": {"Location": "/x"}},), {}),
        ((b"x",), {"direct_passthrough": True}),
    ],
)
def test_what_only_werkzeug_knows_is_built_at_once(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    assert Response(*args, **kwargs)._lean is None


def test_a_header_value_with_a_newline_is_refused_as_werkzeug_does() -> None:
    with pytest.raises(ValueError, match="newline"):
        Response({"a": 1}, headers={"X-A": "a\r\nSet-Cookie: evil=1"})
    with pytest.raises(ValueError, match="newline"):
        Response({"payload": {}, "headers": {"X-A": "a\nb"}})


def test_it_is_a_werkzeug_response() -> None:
    response = Response({"a": 1})
    assert isinstance(response, WerkzeugResponse)
    assert response.status_code == 200
    assert response._lean is not None  # reading the status keeps it lean
    assert response.get_json() == {"a": 1}
    assert response.mimetype == "application/json"
    assert response._lean is None


def test_setting_a_header_after_construction_is_sent(frozen_date: None) -> None:
    response = Response({"a": 1})
    response.headers["X-Added"] = "yes"
    response.set_cookie("sid", "abc")
    status, headers, body = send(response)
    assert ("X-Added", "yes") in headers
    assert any(name == "Set-Cookie" and value.startswith("sid=abc") for name, value in headers)
    assert (status, body) == ("200 OK", b'{"a":1}')


@pytest.mark.parametrize("field", ["status_code", "status"])
def test_setting_the_status_after_construction_is_sent(field: str) -> None:
    response = Response({"a": 1})
    setattr(response, field, 201)
    assert send(response)[0] == "201 CREATED"
    assert response.status_code == 201


def test_setting_the_body_after_construction_is_sent() -> None:
    response = Response({"a": 1})
    response.data = b"replaced"
    _, headers, body = send(response)
    assert body == b"replaced"
    assert dict(headers)["Content-Length"] == "8"


def test_an_attribute_set_on_a_lean_response_is_a_werkzeug_one() -> None:
    response = Response({"a": 1})
    response.direct_passthrough = False
    assert response._lean is None
    assert send(response)[2] == b'{"a":1}'


def test_call_on_close_runs_when_the_answer_is_closed() -> None:
    closed: list[bool] = []
    response = Response({"a": 1})
    response.call_on_close(lambda: closed.append(True))
    iterable = response({"REQUEST_METHOD": "GET"}, lambda *a: None)
    assert b"".join(iterable) == b'{"a":1}'
    iterable.close()  # type: ignore[attr-defined]
    assert closed == [True]


def test_a_lean_response_sent_twice_sends_the_same(frozen_date: None) -> None:
    response = Response({"a": 1}, headers={"X-A": "1"})
    first = send(response)
    assert send(response) == first


def test_a_missing_attribute_is_an_attribute_error() -> None:
    response = Response({"a": 1})
    with pytest.raises(AttributeError, match="no_such_thing"):
        response.no_such_thing  # type: ignore[attr-defined]  # noqa: B018


def test_copy_and_pickle_keep_the_answer(frozen_date: None) -> None:
    response = Response({"a": 1}, status=201)
    expected = send(Response({"a": 1}, status=201))
    assert send(copy.copy(response)) == expected
    assert send(pickle.loads(pickle.dumps(response))) == expected


def test_a_subclass_may_set_headers_in_its_constructor(frozen_date: None) -> None:
    class Tagged(Response):
        def __init__(self, value: Any) -> None:
            super().__init__(value)
            self.headers["X-Tag"] = "t"

    _, headers, body = send(Tagged({"a": 1}))
    assert ("X-Tag", "t") in headers
    assert body == b'{"a":1}'


@pytest.mark.parametrize("value", [{"a": 1, "b": [1, 2]}, [1, {"b": 2}], {}, []])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_plain_dict_or_list_is_sent_as_response_of_it_is(method: str, value: Any) -> None:
    """A view returning a plain dict or list (sent from its lean answer, no response
    object) and one returning ``Response(value)`` send the same status, headers and body."""
    from werkzeug.test import Client

    from envoxy.daemon.app import create_app
    from envoxy.decorators import on
    from envoxy.views import View

    @on(endpoint="/plain", protocols=["http"])
    class Plain(View):
        def get(self, request: Any, **kwargs: Any) -> Any:
            return copy.deepcopy(value)

    @on(endpoint="/wrapped", protocols=["http"])
    class Wrapped(View):
        def get(self, request: Any, **kwargs: Any) -> Any:
            return Response(copy.deepcopy(value))

    client = Client(create_app({}, views=[Plain, Wrapped]))
    plain = client.open("/plain", method=method, headers={"X-Request-ID": "same"})
    wrapped = client.open("/wrapped", method=method, headers={"X-Request-ID": "same"})
    assert plain.status == wrapped.status == "200 OK"
    assert [name for name, _ in plain.headers] == [
        "Content-Type",
        "Content-Length",
        "Server",
        "Date",
        "X-Request-ID",
    ]
    assert [item for item in plain.headers if item[0] != "Date"] == [
        item for item in wrapped.headers if item[0] != "Date"
    ]
    assert plain.data == wrapped.data == (b"" if method == "HEAD" else plain.data)
    if method == "GET":
        assert plain.json == (
            value if type(value) is dict else {"elements": value, "size": len(value)}
        )
