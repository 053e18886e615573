"""The typed view surface: ``@on`` stores a frozen RouteSpec, modules export ``VIEWS``."""

import dataclasses
import textwrap
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from envoxy.daemon.app import create_app
from envoxy.daemon.exceptions import ViewLoadError
from envoxy.decorators import on
from envoxy.views import Request, ResponseValue, RouteSpec, View
from envoxy.views.exceptions import InvalidViewError
from envoxy.views.route_spec import route_spec_of


def test_on_takes_the_endpoint_positionally_and_stores_a_frozen_spec() -> None:
    @on("/v1/items/{item_id:int}")
    class Items(View):
        def get(self, request: Request, item_id: int, **kwargs: Any) -> ResponseValue:
            return {"id": item_id}

    spec = Items.route_spec
    assert spec == RouteSpec("/v1/items/{item_id:int}", ("http",), None)
    assert (spec.http, spec.mqtt) == (True, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.endpoint = "/other"  # type: ignore[misc]
    assert Items.__metaclass__.endpoint == "/v1/items/{item_id:int}"
    assert Items.__metaclass__.protocols == ["http"]
    assert Items.__metaclass__.server is None


def test_the_original_keywords_and_extra_options_are_kept() -> None:
    @on(endpoint="devices/+/state", protocols=["mqtt", "http"], server="main", qos=1, shared=True)
    class Devices(View):
        def get(self, request: Request, **kwargs: Any) -> ResponseValue:
            return {}

        def on_event(self, data: Any, **meta: Any) -> None:
            pass

    spec = Devices.route_spec
    assert spec is not None
    assert spec.protocols == ("mqtt", "http")
    assert (spec.server, spec.option("qos"), spec.option("missing", 7)) == ("main", 1, 7)
    assert spec.shared is True  # extras read as attributes, as on __metaclass__
    meta = Devices.__metaclass__
    assert (meta.endpoint, meta.protocols, meta.server, meta.qos) == (
        "devices/+/state",
        ["mqtt", "http"],
        "main",
        1,
    )
    with pytest.raises(AttributeError, match="no option 'priority'"):
        spec.priority  # noqa: B018


def test_route_is_an_alias_still_readable_on_metaclass() -> None:
    @on(route="/r", protocols="http")
    class Routed(View):
        def get(self, request: Request, **kwargs: Any) -> ResponseValue:
            return None

    assert Routed.route_spec is not None
    assert Routed.route_spec.endpoint == "/r"
    assert Routed.__metaclass__.route == "/r"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "needs an endpoint"),
        (("",), {}, "needs an endpoint"),
        (("/a",), {"route": "/b"}, "give one"),
        (("/a",), {"protocols": [1]}, "names"),
    ],
)
def test_a_wrong_declaration_fails_at_decoration(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        on(*args, **kwargs)


def test_an_unknown_protocol_is_a_startup_error_naming_the_view() -> None:
    @on("/a", protocols=["http", "amqp"])
    class Odd(View):
        def get(self, request: Request, **kwargs: Any) -> ResponseValue:
            return {}

    with pytest.raises(InvalidViewError, match=r"Odd declares unknown protocols \['amqp'\]"):
        create_app({}, views=[Odd])


def test_a_hand_written_metaclass_still_routes() -> None:
    class Legacy(View):
        class __metaclass__:  # noqa: N801 - what 0.7 code may hold
            endpoint = "/legacy"
            protocols = ["http"]
            note = "kept"

        def get(self, request: Any, **kwargs: Any) -> Any:
            return {"legacy": True}

    spec = route_spec_of(Legacy)
    assert spec is not None
    assert (spec.endpoint, spec.protocols, spec.note) == ("/legacy", ("http",), "kept")
    assert Client(create_app({}, views=[Legacy])).get("/legacy").json == {"legacy": True}


def test_a_subclass_inherits_the_route_and_handlers_get_a_typed_request() -> None:
    seen: list[Any] = []

    @on("/base")
    class Base(View):
        def get(self, request: Request, **kwargs: Any) -> ResponseValue:
            seen.append(request)
            return {"class": type(self).__name__}

    class Child(Base):
        pass

    assert Child.route_spec is Base.route_spec
    assert Client(create_app({}, views=[Child])).get("/base").json == {"class": "Child"}
    assert isinstance(seen[0], Request)


def write_module(folder: Path, name: str, tail: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(
        textwrap.dedent(
            """\
            from envoxy.decorators import on
            from envoxy.views import View


            @on("/a")
            class A(View):
                def get(self, request, **kwargs):
                    return {"view": "a"}


            @on("/b")
            class B(View):
                def get(self, request, **kwargs):
                    return {"view": "b"}


            """
        )
        + textwrap.dedent(tail)
    )
    return path


@pytest.mark.parametrize(
    "tail",
    [
        "VIEWS = [A, B]\n",
        "VIEWS = (A, B)\n__loader__ = VIEWS\n",
        "VIEWS = [A, B]\n__loader__ = [A, B]\n",
        "__loader__ = [A, B]\n",
    ],
)
def test_a_module_exports_views_or_the_original_loader_list(tmp_path: Path, tail: str) -> None:
    client = Client(create_app({"modules": [str(write_module(tmp_path, "views_ok", tail))]}))
    assert (client.get("/a").json, client.get("/b").json) == ({"view": "a"}, {"view": "b"})


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("VIEWS = [A]\n__loader__ = [A, B]\n", "different views in VIEWS and __loader__"),
        ("VIEWS = A\n", "VIEWS must be a list of view classes"),
    ],
)
def test_conflicting_or_malformed_views_are_startup_errors(
    tmp_path: Path, tail: str, message: str
) -> None:
    path = write_module(tmp_path, "views_bad", tail)
    with pytest.raises(ViewLoadError, match=message):
        create_app({"modules": [str(path)]})


def test_an_empty_views_list_serves_nothing(tmp_path: Path) -> None:
    path = write_module(tmp_path, "views_empty", "VIEWS = []\n")
    assert len(create_app({"modules": [str(path)]}).routes) == 0


def test_mqtt_options_come_from_the_spec() -> None:
    @on("devices/+/state", protocols="mqtt", server="main", qos=1, shared="g", max_workers=2)
    class Devices(View):
        def on_event(self, data: Any, **meta: Any) -> None:
            pass

    (route,) = create_app({}, views=[Devices]).mqtt_routes
    assert (route.endpoint, route.server, route.qos, route.shared, route.max_workers) == (
        "devices/+/state",
        "main",
        1,
        "g",
        2,
    )

    @on("devices/+/state", protocols="mqtt", server="main", qos=2)
    class Wrong(View):
        def on_event(self, data: Any, **meta: Any) -> None:
            pass

    with pytest.raises(InvalidViewError, match="qos must be 0 or 1"):
        create_app({}, views=[Wrong])
