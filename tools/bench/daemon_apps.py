"""The apps of the daemon benchmark: one JSON greeting (and friends) in every framework.

Each source is written to a file and served by the workspace's ``pyuwsgi`` (or ``envoxyd``)
for ``wrk``, and imported in-process by :mod:`daemon_profile`. The envoxyd views cover both
view styles (a plain dict or list, and ``Response(...)``), a URL variable, a JSON body and
the error paths; Falcon and Flask answer the same greeting, route and JSON body.
"""

__all__ = [
    "BARE_APP",
    "CASES",
    "ENVOXY_VIEWS",
    "FALCON_APP",
    "FLASK_APP",
    "GREETING",
    "POST_BODY",
    "Case",
]

from typing import NamedTuple

#: the greeting every framework answers on ``GET /hello``
GREETING = {"message": "Hello, World!"}
#: the JSON body POSTed to ``/items``
POST_BODY = b'{"name": "widget", "tags": ["a", "b", "c"], "price": 12.5, "stock": 40}'

ENVOXY_VIEWS = """\
from envoxy.decorators import on
from envoxy.exceptions import ValidationException
from envoxy.views import View
from envoxy.views.containers import Response

GREETING = {"message": "Hello, World!"}
NAMES = ["ada", "grace", "linus"]


@on(endpoint="/hello", protocols=["http"])
class Hello(View):
    def get(self, request, **kwargs):
        return {"message": "Hello, World!"}


@on(endpoint="/hello/response", protocols=["http"])
class HelloResponse(View):
    def get(self, request, **kwargs):
        return Response({"message": "Hello, World!"})


@on(endpoint="/hello/list", protocols=["http"])
class HelloList(View):
    def get(self, request, **kwargs):
        return list(NAMES)


@on(endpoint="/hello/response-list", protocols=["http"])
class HelloResponseList(View):
    def get(self, request, **kwargs):
        return Response(list(NAMES))


@on(endpoint="/items/{item_id:int}", protocols=["http"])
class Item(View):
    def get(self, request, item_id, **kwargs):
        return {"id": item_id}


@on(endpoint="/items", protocols=["http"])
class Items(View):
    def post(self, request, **kwargs):
        body = request.get_json()
        return {"name": body["name"], "tags": len(body["tags"])}


@on(endpoint="/precondition", protocols=["http"])
class Precondition(View):
    def get(self, request, **kwargs):
        raise ValidationException("stale version", code=4120, status=412)


__loader__ = [Hello, HelloResponse, HelloList, HelloResponseList, Item, Items, Precondition]
"""

FALCON_APP = """\
import falcon


class Hello:
    def on_get(self, req, resp):
        resp.media = {"message": "Hello, World!"}


class Item:
    def on_get(self, req, resp, item_id):
        resp.media = {"id": item_id}


class Items:
    def on_post(self, req, resp):
        body = req.get_media()
        resp.media = {"name": body["name"], "tags": len(body["tags"])}


application = falcon.App()
application.add_route("/hello", Hello())
application.add_route("/items/{item_id:int}", Item())
application.add_route("/items", Items())
"""

FLASK_APP = """\
from flask import Flask, request

application = Flask(__name__)


@application.get("/hello")
def hello():
    return {"message": "Hello, World!"}


@application.get("/items/<int:item_id>")
def item(item_id):
    return {"id": item_id}


@application.post("/items")
def items():
    body = request.get_json()
    return {"name": body["name"], "tags": len(body["tags"])}
"""

BARE_APP = """\
import time
from email.utils import formatdate

BODY = b'{"message":"Hello, World!"}'
DATE = [0, ""]


def application(environ, start_response):
    # the same bytes as envoxyd's answer: its four headers, the Date computed once a second
    now = int(time.time())
    if DATE[0] != now:
        DATE[:] = [now, formatdate(now, usegmt=True)]
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(BODY))),
            ("Server", "Envoxy Server"),
            ("Date", DATE[1]),
        ],
    )
    return [BODY]
"""


class Case(NamedTuple):
    """One request of the in-process profile: what it calls and what it must answer."""

    label: str
    method: str
    path: str
    status: int
    body: bytes = b""


#: the requests profiled in-process on envoxyd (the first two are the issue's two styles)
CASES = (
    Case("dict", "GET", "/hello", 200),
    Case("Response(dict)", "GET", "/hello/response", 200),
    Case("list", "GET", "/hello/list", 200),
    Case("Response(list)", "GET", "/hello/response-list", 200),
    Case("{item_id:int}", "GET", "/items/3", 200),
    Case("POST JSON", "POST", "/items", 200, POST_BODY),
    Case("HEAD dict", "HEAD", "/hello", 200),
    Case("404", "GET", "/missing", 404),
    Case("405", "DELETE", "/hello", 405),
    Case("412", "GET", "/precondition", 412),
)
