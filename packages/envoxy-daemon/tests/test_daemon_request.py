"""The handler's Request: werkzeug's attributes, the rarely used ones computed on first use."""

from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

from envoxy.views import Request

ATTRIBUTES = (
    "method",
    "scheme",
    "server",
    "root_path",
    "path",
    "query_string",
    "remote_addr",
    "url",
    "base_url",
    "host",
    "full_path",
    "mimetype",
    "is_json",
    "access_route",
)


def environs() -> list[dict[str, Any]]:
    built = [
        EnvironBuilder(path="/v1/items/7", query_string="q=a&b=%C3%A9").get_environ(),
        EnvironBuilder(path="/caf\u00e9/x y", method="post", data=b"{}").get_environ(),
        EnvironBuilder(
            path="/a", base_url="https://api.example:8443/mount/", headers={"X-A": "1"}
        ).get_environ(),
        EnvironBuilder(path="/a", content_type="application/json").get_environ(),
    ]
    unix = EnvironBuilder(path="/u").get_environ()
    unix.update({"SERVER_NAME": "/run/app.sock", "SERVER_PORT": ""})
    bare: dict[str, Any] = {"wsgi.input": None, "PATH_INFO": "//double//slash/"}
    broken = EnvironBuilder(path="/x").get_environ()
    broken["PATH_INFO"] = "/\xff\xfe"  # bytes that are not UTF-8, as a WSGI string
    broken["QUERY_STRING"] = "a=\xff"
    del broken["SERVER_NAME"]
    return [*built, unix, bare, broken]


@pytest.mark.parametrize("environ", environs())
def test_attributes_are_werkzeugs(environ: dict[str, Any]) -> None:
    ours = Request(dict(environ))
    theirs = WerkzeugRequest(dict(environ))
    for name in ATTRIBUTES:
        try:
            expected = getattr(theirs, name)
        except Exception as exc:  # the same failure on our side
            with pytest.raises(type(exc)):
                getattr(ours, name)
            continue
        assert getattr(ours, name) == expected, name
    assert list(ours.headers.items()) == list(theirs.headers.items())


def test_the_request_registers_itself_in_the_environ() -> None:
    environ = EnvironBuilder(path="/a").get_environ()
    request = Request(environ)
    assert environ["werkzeug.request"] is request
    shallow = EnvironBuilder(path="/a").get_environ()
    Request(shallow, shallow=True)
    assert "werkzeug.request" not in shallow


def test_only_method_and_path_are_read_at_construction() -> None:
    request = Request(EnvironBuilder(path="/a", query_string="x=1").get_environ())
    assert {"method", "path", "environ", "shallow"} <= set(vars(request))
    assert not {"headers", "query_string", "server", "scheme"} & set(vars(request))
    assert request.args["x"] == "1"
    assert "query_string" in vars(request)
