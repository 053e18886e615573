"""Auth decorators fail closed and enforce roles; the body is parsed only after auth.

The plugin is a real ``plugins.auth`` module whose answer is chosen by the
``X-Answer`` header, so each test drives one plausible (or careless) plugin answer.
"""

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from envoxy.auth import set_auth_class
from envoxy.daemon.app import create_app
from envoxy.decorators import auth_anonymous_allowed, auth_required, on
from envoxy.views import View

PLUGIN = textwrap.dedent(
    """
    ANSWERS = {
        "none": None, "false": False, "empty-str": "", "zero": 0, "one": 1, "list": [],
        "full-list": ["alice"], "string": "alice", "empty-dict": {}, "true": True,
        "alice": {"user": "alice"},
        "reader": {"user": "rita", "roles": ["reader"]},
        "admin": {"user": "ada", "roles": ["reader", "admin"]},
        "admin-str": {"user": "ada", "roles": "admin"},
        "roles-none": {"user": "nemo", "roles": None},
        "roles-odd": {"user": "odd", "roles": [["admin"]]},
    }


    class Auth:
        seen_json = []

        def authenticate(self, request, topic=None, **kwargs):
            Auth.seen_json.append(request._envoxy_json is not type(request)._envoxy_json)
            return ANSWERS[request.headers.get("X-Answer", "none")]

        def anonymous(self, request, topic=None, **kwargs):
            return ANSWERS[request.headers.get("X-Answer", "none")]
    """
)
RAN: list[str] = []


@on(endpoint="/v1/guarded")
class Guarded(View):
    @auth_required
    def get(self, request, **kwargs):
        RAN.append("get")
        return {"user": kwargs.get("user")}

    @auth_required
    def post(self, request, **kwargs):
        RAN.append("post")
        return {"user": kwargs.get("user"), "body": request.get_json()}

    @auth_anonymous_allowed
    def put(self, request, **kwargs):
        RAN.append("put")
        return {"user": kwargs.get("user", "anonymous")}


@on(endpoint="/v1/roles")
class Roles(View):
    @auth_anonymous_allowed(roles=["admin"])
    def put(self, request, **kwargs):
        return {"user": kwargs.get("user")}

    @auth_required(roles=["admin"])
    def get(self, request, **kwargs):
        return {"user": kwargs.get("user")}

    @auth_required(roles="admin")
    def post(self, request, **kwargs):
        return {"user": kwargs.get("user")}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    (tmp_path / "auth.py").write_text(PLUGIN)
    RAN.clear()
    yield Client(create_app({"plugins": {"auth": str(tmp_path)}}, views=[Guarded, Roles]))
    sys.modules.pop("auth", None)
    sys.path.remove(str(tmp_path))
    set_auth_class(None)


@pytest.mark.parametrize(
    "answer",
    ["none", "false", "empty-str", "zero", "one", "list", "full-list", "string", "empty-dict"],
)
def test_authenticate_without_an_identity_is_401_and_the_handler_never_runs(
    client: Client, answer: str
) -> None:
    response = client.get("/v1/guarded", headers={"X-Answer": answer})
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.json["error"].startswith("Unauthorized :: ELRC(")
    assert response.json["code"] == 0
    assert RAN == []


def test_an_identity_dict_or_true_accepts(client: Client) -> None:
    assert client.get("/v1/guarded", headers={"X-Answer": "alice"}).json == {"user": "alice"}
    assert client.get("/v1/guarded", headers={"X-Answer": "true"}).json == {"user": None}
    assert RAN == ["get", "get"]


@pytest.mark.parametrize(("answer", "user"), [("none", "anonymous"), ("empty-dict", "anonymous")])
def test_anonymous_may_accept_an_anonymous_caller(client: Client, answer: str, user: str) -> None:
    response = client.put("/v1/guarded", headers={"X-Answer": answer})
    assert response.status_code == 200
    assert response.json == {"user": user}


@pytest.mark.parametrize("answer", ["false", "string", "zero", "list"])
def test_anonymous_refusing_or_answering_oddly_is_401(client: Client, answer: str) -> None:
    assert client.put("/v1/guarded", headers={"X-Answer": answer}).status_code == 401
    assert RAN == []


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("reader", 403),
        ("roles-none", 403),
        ("roles-odd", 403),
        ("admin", 200),
        ("admin-str", 200),
        # no roles in the identity: the plugin had the roles in kwargs and accepted
        ("alice", 200),
        ("true", 200),
        ("none", 401),
    ],
)
def test_required_roles_are_checked_against_the_identity(
    client: Client, answer: str, status: int
) -> None:
    for method in (client.get, client.post):
        response = method("/v1/roles", headers={"X-Answer": answer})
        assert response.status_code == status, (method, response.json)
        if status == 403:
            assert response.json["error"].startswith("Forbidden :: ELRC(")


@pytest.mark.parametrize(("answer", "status"), [("none", 401), ("empty-dict", 401), ("admin", 200)])
def test_an_anonymous_caller_holds_no_role(client: Client, answer: str, status: int) -> None:
    assert client.put("/v1/roles", headers={"X-Answer": answer}).status_code == status


def test_roles_must_be_names() -> None:
    with pytest.raises(TypeError, match="roles="):
        auth_required(roles=5)
    with pytest.raises(TypeError, match="roles="):
        auth_required(roles=["admin", 1])


def test_the_body_is_parsed_only_after_auth_accepted(client: Client) -> None:
    auth = sys.modules["auth"].Auth
    malformed = {"data": b'{"a": ', "content_type": "application/json"}
    # an anonymous caller learns nothing about the body: 401, not 400
    assert client.post("/v1/guarded", **malformed).status_code == 401
    accepted = client.post("/v1/guarded", headers={"X-Answer": "alice"}, **malformed)
    assert accepted.status_code == 400
    assert accepted.json["error"].startswith("Malformed JSON body :: ELRC(")
    assert RAN == []
    body = client.post("/v1/guarded", headers={"X-Answer": "alice"}, json={"n": 1})
    assert body.json == {"user": "alice", "body": {"n": 1}}
    assert auth.seen_json == [False, False, False]


def test_a_handler_without_auth_still_gets_400_before_it_runs() -> None:
    ran = []

    @on(endpoint="/v1/open")
    class Open(View):
        def post(self, request, **kwargs):
            ran.append(True)
            return {}

    client = Client(create_app({}, views=[Open]))
    response = client.post("/v1/open", data=b"[1,", content_type="application/json")
    assert response.status_code == 400
    assert ran == []
