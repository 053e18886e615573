"""Decorators: on, auth_required / auth_anonymous_allowed with a real plugin, log_event."""

import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from envoxy.auth import AuthPluginError, set_auth_class
from envoxy.daemon.app import create_app
from envoxy.decorators import auth_anonymous_allowed, auth_required, log_event, on
from envoxy.views import View

PLUGIN = textwrap.dedent(
    """
    class Denied(Exception):
        def __init__(self, message, status=401):
            super().__init__(message)
            self.status = status

    class Auth:
        exception = Denied
        calls = []

        def authenticate(self, request, topic=None, **kwargs):
            Auth.calls.append((topic, dict(kwargs)))
            token = request.headers.get("Authorization", "")
            if token == "Bearer admin":
                return {"user": "admin"}
            if token == "Bearer teapot":
                raise Denied("I am a teapot", status=418)
            if token == "Bearer boom":
                raise RuntimeError("plugin bug")
            raise Denied("forbidden for you", status=403 if token else 401)

        def anonymous(self, request, topic=None, **kwargs):
            return {"user": "anonymous"}
    """
)


@on(endpoint="/v1/secure/{item_id:int}", protocols=["http"])
class SecureView(View):
    @auth_required(roles=["admin"])
    def get(self, request, item_id, **kwargs):
        return {"id": item_id, "user": kwargs["user"], "roles": kwargs["roles"]}

    @auth_anonymous_allowed
    def post(self, request, item_id, **kwargs):
        return {"user": kwargs["user"]}


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "plugins"
    directory.mkdir()
    (directory / "auth.py").write_text(PLUGIN)
    yield directory
    sys.modules.pop("auth", None)
    if str(directory) in sys.path:
        sys.path.remove(str(directory))
    set_auth_class(None)


def test_on_stores_values_and_defaults_protocols() -> None:
    @on(route="/r", server="main")
    class Routed(View):
        pass

    assert Routed.__metaclass__.endpoint == "/r"
    assert Routed.__metaclass__.protocols == ["http"]
    assert Routed.__metaclass__.server == "main"


def test_get_methods_lists_defined_handlers() -> None:
    class Mixed(View):
        def get(self, request, **kwargs):
            return {}

        def on_event(self, data, **meta):
            pass

    assert Mixed().get_methods() == ["get", "on_event"]
    assert Mixed.http_methods == frozenset({"GET"})


def test_auth_required_passes_topic_kwargs_and_merges_result(plugin_dir: Path) -> None:
    client = Client(create_app({"plugins": {"auth": str(plugin_dir)}}, views=[SecureView]))
    answer = client.get("/v1/secure/5", headers={"Authorization": "Bearer admin"})
    assert answer.status_code == 200
    assert answer.json == {"id": 5, "user": "admin", "roles": ["admin"]}
    topic, kwargs = sys.modules["auth"].Auth.calls[-1]
    assert topic == "/v1/secure/{item_id}"
    assert kwargs == {"item_id": 5, "endpoint": "/v1/secure/{item_id:int}", "roles": ["admin"]}


@pytest.mark.parametrize(
    ("token", "status"), [("", 401), ("Bearer nobody", 403), ("Bearer teapot", 401)]
)
def test_auth_exception_answers_401_or_403_as_json(
    plugin_dir: Path, token: str, status: int
) -> None:
    client = Client(create_app({"plugins": {"auth": str(plugin_dir)}}, views=[SecureView]))
    answer = client.get("/v1/secure/5", headers={"Authorization": token} if token else {})
    assert answer.status_code == status
    assert answer.mimetype == "application/json"
    assert " :: ELRC(" in answer.json["error"]


def test_other_plugin_error_is_500(plugin_dir: Path) -> None:
    client = Client(create_app({"plugins": {"auth": str(plugin_dir)}}, views=[SecureView]))
    assert client.get("/v1/secure/5", headers={"Authorization": "Bearer boom"}).status_code == 500


def test_auth_anonymous_allowed_calls_anonymous(plugin_dir: Path) -> None:
    client = Client(create_app({"plugins": {"auth": str(plugin_dir)}}, views=[SecureView]))
    assert client.post("/v1/secure/1").json == {"user": "anonymous"}


def test_auth_decorators_without_plugin_are_a_startup_error() -> None:
    with pytest.raises(AuthPluginError, match=r"SecureView\.get.*plugins\.auth"):
        create_app({}, views=[SecureView])


def test_broken_plugin_is_a_startup_error(tmp_path: Path) -> None:
    (tmp_path / "auth.py").write_text("raise ImportError('nope')\n")
    try:
        with pytest.raises(AuthPluginError, match="cannot be imported"):
            create_app({"plugins": {"auth": str(tmp_path)}}, views=[SecureView])
    finally:
        sys.modules.pop("auth", None)
        sys.path.remove(str(tmp_path))


def test_log_event_logs_topic_and_passes_data() -> None:
    received = []

    class Events(View):
        @log_event
        def on_event(self, data, **meta):
            received.append((self, data, meta))

    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=1)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("envoxy")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(1)
    try:
        view = Events()
        view.on_event({"v": 1}, topic="devices/1/state", qos=0, retain=False)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    assert received == [(view, {"v": 1}, {"topic": "devices/1/state", "qos": 0, "retain": False})]
    messages = [(record.levelno, record.getMessage()) for record in records]
    assert any("< ON_EVENT [MQTT] devices/1/state" in text for _, text in messages)
    assert any(level < logging.DEBUG and "{'v': 1}" in text for level, text in messages)
