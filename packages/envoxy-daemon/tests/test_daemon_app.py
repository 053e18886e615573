"""In-process tests of create_app through werkzeug's test Client."""

import json
import re
import uuid
from pathlib import Path

import pytest
from werkzeug.test import Client

from envoxy.daemon.app import TEST_MODE_BODY, create_app
from envoxy.decorators import on
from envoxy.views import View
from envoxy.views.exceptions import DuplicateRouteError, InvalidViewError, UnknownURLTypeError
from envoxy_testing.interpreter import run_python

SAMPLE = Path(__file__).with_name("views_sample.py")
ELRC = re.compile(r" :: ELRC\([0-9a-f-]{36}\)$")


@pytest.fixture
def client() -> Client:
    return Client(create_app({"modules": [str(SAMPLE)]}))


def test_get_converts_int_variable_and_passes_endpoint(client: Client) -> None:
    answer = client.get("/v1/items/7?q=x")
    assert answer.status_code == 200
    assert answer.json == {"id": 7, "endpoint": "/v1/items/{item_id:int}", "q": "x"}
    assert answer.headers["Server"] == "Envoxy Server"
    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT", answer.headers["Date"])


def test_url_types_are_converted(client: Client) -> None:
    ref = uuid.uuid4()
    answer = client.get(f"/v1/types/abc/1.5/{ref}/x/y/z")
    assert answer.json == {"a": "abc", "b": 1.5, "c": str(ref), "c_type": "UUID", "d": "x/y/z"}


@pytest.mark.parametrize("path", ["/v1/items/abc", "/v1/items/-1", "/v1/types/a/1/x/y", "/nope"])
def test_wrong_url_type_or_unknown_path_is_404_json(client: Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.mimetype == "application/json"
    assert ELRC.search(answer.json["error"])
    assert answer.json["code"] == 0


def test_wrong_method_is_405_json_with_allow(client: Client) -> None:
    answer = client.post("/v1/items/1")
    assert answer.status_code == 405
    assert answer.json["error"].startswith("Method Not Allowed")
    assert answer.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, PUT"


def test_unknown_method_is_405(client: Client) -> None:
    answer = client.open("/v1/list", method="BREW")
    assert answer.status_code == 405
    assert "POST" in answer.headers["Allow"]


def test_head_runs_get_without_body(client: Client) -> None:
    answer = client.head("/v1/items/3")
    assert answer.status_code == 200
    assert answer.data == b""
    assert int(answer.headers["Content-Length"]) > 0


def test_options_lists_allowed_methods(client: Client) -> None:
    answer = client.options("/v1/list")
    assert answer.status_code == 200
    assert answer.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_list_result_is_wrapped(client: Client) -> None:
    assert client.get("/v1/list").json == {"elements": [1, 2, 3], "size": 3}


def test_none_result_is_204(client: Client) -> None:
    answer = client.get("/v1/empty")
    assert answer.status_code == 204
    assert answer.data == b""


def test_malformed_json_is_400_before_handler(client: Client) -> None:
    answer = client.put("/v1/items/1", data=b'{"a": ', content_type="application/json")
    assert answer.status_code == 400
    assert answer.json["error"].startswith("Malformed JSON body :: ELRC(")
    assert answer.json["code"] == 0
    assert answer.headers["X-Error"] == "0"


def test_invalid_utf8_json_is_400(client: Client) -> None:
    answer = client.put("/v1/items/1", data=b'{"a": "\xff"}', content_type="application/json")
    assert answer.status_code == 400


def test_json_body_reaches_handler(client: Client) -> None:
    answer = client.put("/v1/items/1", json={"big": 2**70})
    assert answer.json == {"id": 1, "body": {"big": str(2**70)}}


def test_get_json_is_none_for_non_json_content(client: Client) -> None:
    answer = client.post("/v1/list", data=b"a=1", content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200
    assert answer.json == {"json": None, "is_json": False}


def test_validation_exception_gives_status_and_code_as_text(client: Client) -> None:
    answer = client.delete("/v1/items/1")
    assert answer.status_code == 409
    assert answer.mimetype == "text/plain"
    assert ELRC.search(answer.get_data(as_text=True))
    assert answer.get_data(as_text=True).startswith("error: item is locked :: ELRC(")
    assert answer.headers["X-Error"] == "42"


def test_validation_exception_is_json_when_json_is_accepted(client: Client) -> None:
    answer = client.delete("/v1/items/1", headers={"Accept": "application/json"})
    assert answer.status_code == 409
    assert answer.json["code"] == 42
    assert answer.json["error"].startswith("item is locked :: ELRC(")


def test_unexpected_error_is_500_without_traceback(client: Client) -> None:
    answer = client.get("/v1/boom", headers={"Accept": "application/json"})
    assert answer.status_code == 500
    assert answer.json["code"] == 0
    assert "Traceback" not in answer.get_data(as_text=True)
    assert "secret internals" not in answer.get_data(as_text=True)
    assert answer.json["error"].startswith("Internal Server Error :: ELRC(")


def test_error_with_204_sends_sanitised_message_header(client: Client) -> None:
    answer = client.post("/v1/empty")
    assert answer.status_code == 204
    assert answer.data == b""
    assert answer.headers["X-Error"] == "3"
    message = answer.headers["X-Error-Msg"]
    assert "\r" not in message
    assert "\n" not in message
    assert message.startswith("gone  X-Evil: 1 ")
    message.encode("latin-1")


def test_text_response_is_text_plain(client: Client) -> None:
    answer = client.get("/v1/text")
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert answer.data == b"plain words"


def test_health_and_ready(client: Client) -> None:
    assert client.get("/_health").json == {"status": "healthy", "service": "envoxy"}
    assert client.get("/_ready").json == {"status": "ready", "checks": {}}


def test_ready_reports_a_down_server_as_503() -> None:
    config = {"zmq_servers": {"backend": {"host": "127.0.0.1", "port": _closed_port()}}}
    answer = Client(create_app(config, views=[])).get("/_ready")
    assert answer.status_code == 503
    assert answer.json["status"] == "not ready"
    check = answer.json["checks"]["zmq:backend"]
    assert (check["status"], check["reason"], check["critical"]) == ("error", "unreachable", True)


@pytest.mark.parametrize(
    ("folder", "status", "check"), [("db", 200, "ok"), ("missing/dir", 503, "error")]
)
def test_ready_checks_a_sqlite_psql_server_through_the_orm(
    tmp_path: Path, folder: str, status: int, check: str
) -> None:
    # the dict given to create_app is checked; the global Config has no psql_servers
    (tmp_path / "db").mkdir()
    config = {"psql_servers": {"default": {"url": f"sqlite:///{tmp_path / folder / 'x.db'}"}}}
    answer = Client(create_app(config, views=[])).get("/_ready")
    assert answer.status_code == status
    assert answer.json["checks"]["postgresql:default"]["status"] == check


def test_test_mode_serves_only_health_and_index() -> None:
    client = Client(create_app({"modules": [str(SAMPLE)]}, mode="test"))
    index = client.get("/")
    assert index.data == TEST_MODE_BODY.encode()
    assert index.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert client.get("/_health").status_code == 200
    assert client.get("/v1/list").status_code == 404


def test_cors_echoes_listed_origin_only() -> None:
    config = {"enable_cors": True, "cors_origins": ["https://app.example"]}
    client = Client(create_app({**config, "modules": [str(SAMPLE)]}))
    allowed = client.get("/v1/list", headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    refused = client.get("/v1/list", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers
    preflight = client.options(
        "/v1/list",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-Token",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"].lower() == "x-token"


@pytest.mark.parametrize("kind", ["lean", "materialized", "werkzeug"])
def test_cors_headers_of_one_caller_never_stay_on_a_shared_response(kind: str) -> None:
    """A view may hand every caller the same response object: the origin echoed to Alice
    must not reach Bob (or a caller without Origin) through it."""
    from werkzeug.wrappers import Response as WerkzeugResponse

    from envoxy.views.containers import Response

    shared: object
    if kind == "lean":
        shared = Response({"shared": True})
    elif kind == "materialized":
        shared = Response({"shared": True})
        shared.headers["X-Shared"] = "yes"  # type: ignore[attr-defined]
    else:
        shared = WerkzeugResponse('{"shared": true}', content_type="application/json")

    @on(endpoint="/shared")
    class Shared(View):
        def get(self, request, **kwargs):
            return shared

    origins = ["https://alice.example", "https://bob.example"]
    client = Client(create_app({"enable_cors": True, "cors_origins": origins}, views=[Shared]))
    for origin in origins * 2:
        answer = client.get("/shared", headers={"Origin": origin})
        assert answer.headers.getlist("Access-Control-Allow-Origin") == [origin]
        assert answer.headers.getlist("Vary") == ["Origin"]
    plain = client.get("/shared")
    assert "Access-Control-Allow-Origin" not in plain.headers
    assert "Vary" not in plain.headers
    assert json.loads(plain.data) == {"shared": True}


def test_cors_star_allows_any_origin_without_credentials() -> None:
    client = Client(create_app({"enable_cors": True, "cors_origins": ["*"]}, views=[]))
    answer = client.get("/_health", headers={"Origin": "https://any.example"})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_unknown_url_type_is_a_startup_error() -> None:
    @on(endpoint="/x/{a:bogus}")
    class Bad(View):
        def get(self, request, **kwargs):
            return {}

    with pytest.raises(UnknownURLTypeError, match=r"'bogus'.*float, int, path, str, string, uuid"):
        create_app({}, views=[Bad])


def test_duplicate_route_and_method_is_a_startup_error() -> None:
    @on(endpoint="/dup/{a:int}")
    class First(View):
        def get(self, request, **kwargs):
            return {}

    @on(endpoint="/dup/{b:int}")
    class Second(View):
        def get(self, request, **kwargs):
            return {}

    with pytest.raises(DuplicateRouteError, match="GET '/dup/<int>'"):
        create_app({}, views=[First, Second])


def test_same_path_different_methods_in_two_views_is_allowed() -> None:
    @on(endpoint="/both")
    class Reader(View):
        def get(self, request, **kwargs):
            return {"read": True}

    @on(endpoint="/both")
    class Writer(View):
        def post(self, request, **kwargs):
            return {"written": True}

    client = Client(create_app({}, views=[Reader, Writer]))
    assert client.get("/both").json == {"read": True}
    assert client.post("/both").json == {"written": True}


def test_mqtt_view_without_server_is_a_startup_error() -> None:
    @on(endpoint="devices/+/state", protocols=["mqtt"])
    class Events(View):
        def on_event(self, data, **meta):
            pass

    with pytest.raises(InvalidViewError, match="no server"):
        create_app({}, views=[Events])


def test_non_view_in_loader_is_a_startup_error() -> None:
    with pytest.raises(InvalidViewError, match="not a subclass"):
        create_app({}, views=[dict])  # type: ignore[list-item]


def test_static_route_wins_over_variable_route() -> None:
    @on(endpoint="/things/{name}")
    class Named(View):
        def get(self, request, name, **kwargs):
            return {"named": name}

    @on(endpoint="/things/special")
    class Special(View):
        def get(self, request, **kwargs):
            return {"special": True}

    client = Client(create_app({}, views=[Named, Special]))
    assert client.get("/things/special").json == {"special": True}
    assert client.get("/things/other").json == {"named": "other"}


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_ready_without_sqlalchemy_fails_the_orm_check_naming_envoxy_orm(tmp_path: Path) -> None:
    # envoxy-daemon does not require SQLAlchemy: an ORM URL without it fails its check
    # (503) and the log names what to install; the daemon itself still serves
    done = run_python(
        f"""
        import json, logging, sys
        sys.modules["sqlalchemy"] = None  # as in a venv without envoxy-orm
        records = []
        handler = logging.Handler()
        handler.emit = lambda record: records.append(record.getMessage())
        logging.getLogger("envoxy").addHandler(handler)
        from werkzeug.test import Client
        from envoxy.daemon.app import create_app
        config = {{"psql_servers": {{"default": {{"url": "sqlite:///{tmp_path}/x.db"}}}}}}
        client = Client(create_app(config, views=[]))
        answer = client.get("/_ready")
        print(json.dumps([answer.status_code, client.get("/_health").status_code,
                          answer.json["checks"]["postgresql:default"]["status"], records]))
        """
    )

    assert done.returncode == 0, done.stderr
    ready, health, check, records = json.loads(done.stdout)
    assert (ready, health, check) == (503, 200, "error")
    assert any("pip install 'envoxy-orm'" in record for record in records), records
