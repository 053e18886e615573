"""``pgsqlc`` on a ``psql_servers`` entry whose URL names no driver (``postgresql://``, ``postgres://``).

SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3 and no longer knows
``postgres://``; ``pgsqlc.session()`` goes through envoxy-orm, which picks the
installed driver (psycopg2 here).
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text

from envoxy.db.orm.session import dispose_all
from envoxy.postgresql import pgsqlc

pytestmark = pytest.mark.postgresql


@pytest.fixture
def driverless_servers(
    postgresql_url: str,
    tmp_path: Path,
    load_config: Callable[[dict[str, Any], Path], AbstractContextManager[Path]],
) -> Iterator[None]:
    url = make_url(postgresql_url)
    servers = {
        scheme: {"url": url.set(drivername=scheme).render_as_string(hide_password=False)}
        for scheme in ("postgresql", "postgres")
    }
    with load_config({"psql_servers": servers}, tmp_path):
        yield
    pgsqlc.close()
    dispose_all()


@pytest.mark.parametrize("key", ["postgresql", "postgres"])
def test_session_and_query_work_with_a_driverless_url(driverless_servers: None, key: str) -> None:
    session = pgsqlc.session(key)
    try:
        assert session.execute(text("SELECT 41 + 1")).scalar() == 42
        assert session.get_bind().url.drivername == "postgresql+psycopg2"
    finally:
        session.close()
    with pgsqlc.sa_session(key) as scoped:
        assert scoped.execute(text("SELECT 'orm'")).scalar() == "orm"
    assert pgsqlc.query(key, "SELECT 1 AS one") == [{"one": 1}]
