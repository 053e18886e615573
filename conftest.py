"""Workspace-wide pytest setup: the ``unit`` default marker and the local servers.

Tests that need a server take one of the ``*_url`` fixtures below. The servers
are the ones ``tools/services start`` runs on loopback (``make test`` starts
them); a fixture whose server does not answer fails the test with the command
to run, it never skips it.

Tests that stop, kill, freeze or restart a server use the private servers and the
fault proxy of the internal plugin ``envoxy_testing.plugin`` (``testing/``), loaded here.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

# The internal test kit is no distribution: make ``testing/envoxy_testing`` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent / "testing"))

pytest_plugins = ["envoxy_testing.plugin"]

SERVER_MARKERS = frozenset(
    {"integration", "postgresql", "redis", "couchdb", "mqtt", "zmq", "celery"}
)

DEFAULT_URLS = {
    "postgresql": "postgresql+psycopg2://envoxy:envoxy@127.0.0.1:5432/envoxy_test",
    "redis": "redis://127.0.0.1:6379/1",
    "mqtt": "mqtt://127.0.0.1:1883",
    "couchdb": "http://127.0.0.1:5984",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that names no server marker as ``unit``."""
    for item in items:
        if not SERVER_MARKERS.intersection(mark.name for mark in item.iter_markers()):
            item.add_marker(pytest.mark.unit)


def server_url(kind: str) -> str:
    """Return the URL of a local test server, from ``ENVOXY_TEST_<KIND>_URL`` or the default."""
    url = os.environ.get(f"ENVOXY_TEST_{kind.upper()}_URL") or DEFAULT_URLS[kind]
    if kind == "couchdb":  # a real CouchDB that tools/services was pointed at
        url = os.environ.get("ENVOXY_TEST_COUCHDB_URL") or os.environ.get("COUCHDB_URL") or url
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    assert port is not None, f"{url} has no port"
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        pytest.fail(
            f"the {kind} test server at {host}:{port} does not answer ({exc}); "
            "start the local servers with `tools/services start` (or `make services`)",
            pytrace=False,
        )
    return url


@pytest.fixture(scope="session")
def postgresql_url() -> str:
    """SQLAlchemy URL of the test PostgreSQL database (role ``envoxy``, db ``envoxy_test``)."""
    return server_url("postgresql")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the test Redis server."""
    return server_url("redis")


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """``mqtt://`` URL of the test Mosquitto broker."""
    return server_url("mqtt")


@pytest.fixture(scope="session")
def couchdb_url() -> str:
    """Base URL of the test CouchDB-API server."""
    return server_url("couchdb")


@contextmanager
def _loaded_config(config: dict[str, Any], directory: Path) -> Iterator[Path]:
    """Write ``config`` as ``envoxy.json`` in ``directory`` and make it the process config.

    ``ENVOXY_CONFIG`` is hidden meanwhile (it would win over ``set_file_path``); the
    previous file is restored afterwards.
    """
    from envoxy.utils.config import Config

    path = directory / "envoxy.json"
    path.write_text(json.dumps(config))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ENVOXY_CONFIG", raising=False)
        previous = Config.file_path
        Config.set_file_path(path)
        try:
            yield path
        finally:
            Config.set_file_path(previous)


@pytest.fixture(scope="session")
def load_config() -> Callable[[dict[str, Any], Path], AbstractContextManager[Path]]:
    """A context manager factory: ``with load_config(config, folder) as path: ...``."""
    return _loaded_config
