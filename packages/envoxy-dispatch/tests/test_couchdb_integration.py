"""envoxy.couchdb against the real CouchDB-API server of tools/services.

Each run works in databases of its own (``envoxy_dispatch_<random>``), deleted at the end.
A small real HTTP server on loopback stands in where the test needs to see the
request headers or a server that never answers.
"""

import copy
import http.server
import pathlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from envoxy.couchdb import CouchDBClient, CouchDBConnectionError, CouchDBError, couchdbc
from envoxy.exceptions import ConfigError
from envoxy_testing.forking import in_child
from envoxy_testing.network import free_port
from envoxy_testing.threads import all_at_once

pytestmark = pytest.mark.couchdb

DATABASE = f"envoxy_dispatch_{uuid.uuid4().hex[:8]}"
PEOPLE = [
    {"_id": "ada", "name": "Ada", "age": 36, "team": "math"},
    {"_id": "alan", "name": "Alan", "age": 41, "team": "math"},
    {"_id": "grace", "name": "Grace", "age": 85, "team": "navy"},
    {"_id": "linus", "name": "Linus", "age": 28, "team": "kernel"},
]


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with ``{"docs": []}`` and records its headers."""

    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        RecordingHandler.seen.append(dict(self.headers))
        body = b'{"docs": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def recording_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def silent_url() -> Iterator[str]:
    """A real listening socket that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture(scope="module")
def admin(couchdb_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=couchdb_url, timeout=10) as client:
        client.put(f"/{DATABASE}").raise_for_status()
        for person in PEOPLE:
            client.post(f"/{DATABASE}", json=person).raise_for_status()
        client.post(
            f"/{DATABASE}/_index", json={"index": {"fields": ["age"]}, "name": "by-age"}
        ).raise_for_status()
        yield client
        client.delete(f"/{DATABASE}")


@pytest.fixture(scope="module", autouse=True)
def config_file(
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path_factory: pytest.TempPathFactory,
    couchdb_url: str,
    recording_server: str,
    silent_url: str,
    admin: httpx.Client,
) -> Iterator[pathlib.Path]:
    parts = urlsplit(recording_server)
    with_credentials = urlunsplit((parts.scheme, f"bind%40user:p%3Ass@{parts.netloc}", "", "", ""))
    servers = {
        "disp_couch": {"bind": couchdb_url},
        "disp_couch_auth_bind": {"bind": with_credentials},
        "disp_couch_auth_keys": {"bind": recording_server, "user": "key-user", "passwd": "pw"},
        "disp_couch_silent": {"bind": silent_url, "timeout": 0.3},
        "disp_couch_refused": {"bind": f"http://127.0.0.1:{free_port()}", "connect_timeout": 1},
        "disp_couch_no_bind": {"user": "x"},
    }
    with load_config({"couchdb_servers": servers}, tmp_path_factory.mktemp("couch-config")) as path:
        yield path
    couchdbc.close()


@pytest.fixture
def client() -> Iterator[CouchDBClient]:
    instance = CouchDBClient()
    yield instance
    instance.close()


DB = f"disp_couch.{DATABASE}"


def test_post_then_get_round_trip(client: CouchDBClient) -> None:
    answer = client.post(DB, {"_id": "post-1", "kind": "test", "n": 1})
    assert answer["ok"] is True
    assert answer["id"] == "post-1"
    document = client.get("post-1", DB)
    assert document is not None
    assert (document["kind"], document["n"]) == ("test", 1)


def test_get_of_a_missing_document_is_none(client: CouchDBClient) -> None:
    assert client.get("no-such-document", DB) is None


def test_ids_with_slashes_and_spaces_are_quoted(client: CouchDBClient) -> None:
    client.post(DB, {"_id": "a b/c?d", "v": 1})
    document = client.get("a b/c?d", DB)
    assert document is not None
    assert document["v"] == 1


def test_conflict_raises_couchdb_error_with_status_and_reason(client: CouchDBClient) -> None:
    client.post(DB, {"_id": "twice"})
    with pytest.raises(CouchDBError) as caught:
        client.post(DB, {"_id": "twice"})
    assert caught.value.status == 409
    assert "conflict" in caught.value.reason.lower()


def test_find_on_a_missing_database_raises(client: CouchDBClient) -> None:
    with pytest.raises(CouchDBError) as caught:
        client.find("disp_couch.envoxy_dispatch_missing_db", params={"a": 1})
    assert caught.value.status == 404


def test_find_with_equality(client: CouchDBClient) -> None:
    docs = client.find(DB, params={"team": "math"})
    assert sorted(doc["_id"] for doc in docs) == ["ada", "alan"]


def test_find_with_operators_fields_and_paging(client: CouchDBClient) -> None:
    params = {"age__gte": 30, "age__lt": 90, "team__ne": "kernel", "order_by": "-age"}
    before = copy.deepcopy(params)
    docs = client.find(DB, fields=["_id", "age"], params=params)
    assert docs == [
        {"_id": "grace", "age": 85},
        {"_id": "alan", "age": 41},
        {"_id": "ada", "age": 36},
    ]
    assert params == before
    page = client.find(
        DB,
        fields=["_id"],
        params={"age__gt": 0, "order_by": ["+age"], "page_size": 2, "page_start_index": 1},
    )
    assert page == [{"_id": "ada"}, {"_id": "alan"}]


def test_find_with_in_and_nin(client: CouchDBClient) -> None:
    docs = client.find(
        DB, fields=["_id"], params={"team__in": ["navy", "kernel"], "_id__nin": ["linus"]}
    )
    assert docs == [{"_id": "grace"}]


def test_unserialisable_payload_sends_nothing(client: CouchDBClient) -> None:
    with pytest.raises(TypeError):
        client.post(DB, {"_id": "never", "bad": object()})
    assert client.get("never", DB) is None


def test_unknown_server_key_names_section_and_key(client: CouchDBClient) -> None:
    with pytest.raises(ConfigError, match="couchdb_servers") as caught:
        client.get("x", "disp_couch_nope.db")
    assert "disp_couch_nope" in str(caught.value)


def test_missing_bind_is_a_config_error(client: CouchDBClient) -> None:
    with pytest.raises(ConfigError, match=r"couchdb_servers\.disp_couch_no_bind\.bind"):
        client.get("x", "disp_couch_no_bind.db")


def test_invalid_bind_error_hides_its_credentials() -> None:
    from envoxy.couchdb.settings import CouchDBSettings

    with pytest.raises(ConfigError, match=r"x\.bind must start with http:// or https://") as caught:
        CouchDBSettings.from_config("k", {"bind": "admin:hunter2@db:5984"}, where="x")
    assert "hunter2" not in str(caught.value)
    assert "'***@db:5984'" in str(caught.value)


def test_basic_auth_from_bind(client: CouchDBClient) -> None:
    RecordingHandler.seen.clear()
    client.find("disp_couch_auth_bind.db", params={"a": 1})
    assert RecordingHandler.seen[-1]["Authorization"] == "Basic " + _basic("bind@user", "p:ss")


def test_basic_auth_from_user_and_passwd(client: CouchDBClient) -> None:
    RecordingHandler.seen.clear()
    client.find("disp_couch_auth_keys.db", params={"a": 1})
    assert RecordingHandler.seen[-1]["Authorization"] == "Basic " + _basic("key-user", "pw")


def test_read_timeout_raises(client: CouchDBClient) -> None:
    started = time.monotonic()
    with pytest.raises(CouchDBConnectionError, match="timed out") as caught:
        client.find("disp_couch_silent.db")
    assert caught.value.status is None
    assert time.monotonic() - started < 3


def test_refused_connection_raises_after_retries(client: CouchDBClient) -> None:
    with pytest.raises(CouchDBConnectionError, match=r"couchdb_servers\.disp_couch_refused"):
        client.get("x", "disp_couch_refused.db")


def test_close_is_idempotent_and_reconnects(client: CouchDBClient) -> None:
    assert client.get("ada", DB) is not None
    client.close()
    client.close()
    assert client.get("ada", DB) is not None


def test_fifty_threads_share_one_client(client: CouchDBClient) -> None:
    def work(number: int) -> None:
        client.post(DB, {"_id": f"thread-{number}", "n": number})
        document = client.get(f"thread-{number}", DB)
        assert document is not None
        assert document["n"] == number

    all_at_once(work, 50)


def test_forked_child_gets_its_own_connections(client: CouchDBClient) -> None:
    parent_http = client.client("disp_couch")
    assert client.get("ada", DB) is not None

    def in_the_child() -> dict[str, Any]:
        document = client.get("ada", DB) or {}
        return {"name": document.get("name"), "new": client.client("disp_couch") is not parent_http}

    assert in_child(in_the_child) == {"name": "Ada", "new": True}
    assert client.get("ada", DB) is not None


def test_a_fresh_database_sorts_once_its_index_exists(
    client: CouchDBClient, admin: httpx.Client
) -> None:
    fresh = f"{DATABASE}_fresh"
    admin.put(f"/{fresh}").raise_for_status()
    try:
        db = f"disp_couch.{fresh}"
        for age in (36, 41, 29):
            client.post(db, {"age": age, "team": "math"})
        params = {"age__gte": 18, "team": "math", "order_by": "-age"}
        with pytest.raises(CouchDBError):  # CouchDB cannot sort without an index
            client.find(db, ["age"], params)
        assert client.create_index(db, ["age"], name="by-age")["result"] == "created"
        assert client.create_index(db, ["age"], name="by-age")["result"] == "exists"
        assert [doc["age"] for doc in client.find(db, ["age"], params)] == [41, 36, 29]
    finally:
        admin.delete(f"/{fresh}")


def test_create_index_needs_fields(client: CouchDBClient) -> None:
    with pytest.raises(ValueError, match="fields"):
        client.create_index(DB, [])
    with pytest.raises(ValueError, match="fields"):
        client.create_index(DB, "age")


def test_couchdbc_facade() -> None:
    assert couchdbc.post(DB, {"_id": "facade"})["ok"] is True
    assert couchdbc.get("facade", DB) is not None
    assert [doc["_id"] for doc in couchdbc.find(DB, ["_id"], {"_id": "facade"})] == ["facade"]


def _basic(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"{user}:{password}".encode()).decode()
