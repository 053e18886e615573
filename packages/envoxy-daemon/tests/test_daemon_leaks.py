"""Leak scan of 5xx bodies from a real envoxyd whose views fail against real servers.

Each view raises what a real client raises (SQL the server rejects, a table that does
not exist, a server that refuses the connection, a file that is not there). Every
answer must hold a fixed message and an ELRC, never the SQL, table or column, the
``host:port``, the file path or a traceback; outages answer 503 with ``Retry-After``;
the log holds the details under the same ELRC.
"""

import json
import re
import socket
import textwrap
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.postgresql, pytest.mark.redis]

SECRET_TABLE = "aux_leak_secret_ledger"
SECRET_COLUMN = "leak_card_column"
SECRET_PATH = "/srv/leak-secret/config.yaml"

VIEWS = textwrap.dedent(
    f'''
    from envoxy.decorators import on
    from envoxy.postgresql import pgsqlc
    from envoxy.redis import redisc
    from envoxy.views import View


    @on(endpoint="/v1/leak/{{kind:str}}", protocols=["http"])
    class Leaky(View):
        def get(self, request, kind, **kwargs):
            if kind == "missing-table":
                return pgsqlc.query("main", "SELECT {SECRET_COLUMN} FROM {SECRET_TABLE}")
            if kind == "bad-sql":
                return pgsqlc.query("main", "SELEKT {SECRET_COLUMN} FROM {SECRET_TABLE}")
            if kind == "orm-missing-table":
                from sqlalchemy import text

                with pgsqlc.session("main") as session:
                    return list(session.execute(text("SELECT * FROM {SECRET_TABLE}")))
            if kind == "pg-refused":
                return pgsqlc.query("refused", "SELECT 1")
            if kind == "redis-refused":
                return redisc.get("refused", "k")
            if kind == "file":
                with open("{SECRET_PATH}") as stream:
                    return stream.read()
            raise KeyError("{SECRET_COLUMN}")

    __loader__ = [Leaky]
    '''
)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def daemon(
    start_envoxyd: Callable[..., Any],
    write_config: Callable[..., Path],
    tmp_path: Path,
    postgresql_url: str,
    redis_url: str,
) -> Any:
    (tmp_path / "leaky_views.py").write_text(VIEWS)
    refused = _closed_port()
    config = write_config(
        {
            "modules": ["leaky_views.py"],
            "log": {"level": 6},
            "psql_servers": {
                "main": {"url": postgresql_url},
                "refused": {
                    "host": "127.0.0.1",
                    "port": refused,
                    "db": "x",
                    "user": "u",
                    "passwd": "p",
                    "conn_timeout": 1,
                    "timeout": 1,
                },
            },
            "redis_servers": {
                "refused": {"bind": f"127.0.0.1:{refused}", "connect_timeout": 1},
            },
        }
    )
    return start_envoxyd("--processes", "1", "--set", f"conf={config}")


CASES = {
    "missing-table": 500,
    "bad-sql": 500,
    "orm-missing-table": 500,
    "pg-refused": 503,
    "redis-refused": 503,
    "file": 500,
    "key": 500,
}


@pytest.mark.parametrize("accept", ["application/json", "text/plain"])
def test_no_5xx_body_carries_internals(daemon: Any, accept: str) -> None:
    refs = {}
    for kind, status in CASES.items():
        request = urllib.request.Request(
            f"{daemon.base}/v1/leak/{kind}", headers={"Accept": accept}
        )
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=15)
        answer = raised.value
        body = answer.read().decode()
        assert answer.code == status, (kind, body)
        for secret in (
            SECRET_TABLE,
            SECRET_COLUMN,
            SECRET_PATH,
            "SELEKT",
            "127.0.0.1",
            "Traceback",
            "psycopg2",
            'File "',
            ".py",
        ):
            assert secret not in body, (kind, secret, body)
            assert secret not in str(answer.headers), (kind, secret)
        phrase = "Service Unavailable" if status == 503 else "Internal Server Error"
        if accept == "application/json":
            assert json.loads(body)["error"].startswith(f"{phrase} :: ELRC(")
        else:
            assert body.startswith(f"error: {phrase} :: ELRC(")
        if status == 503:
            assert answer.headers["Retry-After"]
        match = re.search(r"ELRC\(([0-9a-f-]{36})\)", body)
        assert match is not None
        refs[kind] = match.group(1)
    log = daemon.log()
    for kind, ref in refs.items():  # the details are in the log, under the same reference
        lines = [line for line in log.splitlines() if ref in line]
        assert lines, (kind, ref)
    assert SECRET_TABLE in log
