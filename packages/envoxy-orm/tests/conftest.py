"""Fixtures of the envoxy-orm tests: an isolated declarative base and a PostgreSQL database."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

from envoxy.db.orm import EnvoxyBase
from envoxy.db.orm.conventions import make_metadata

#: The database the PostgreSQL tests create (and drop) for themselves.
ORM_TEST_DATABASE = "envoxy_orm_test"


@pytest.fixture
def base() -> type[EnvoxyBase]:
    """An abstract ``EnvoxyBase`` subclass with its own metadata, so tests never share tables."""

    class IsolatedBase(EnvoxyBase):
        __abstract__ = True
        metadata = make_metadata()

    return IsolatedBase


@pytest.fixture
def sqlite_engine() -> Iterator[Engine]:
    """An in-memory SQLite engine."""
    engine = create_engine("sqlite://")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def orm_postgresql_url(postgresql_url: str) -> Iterator[str]:
    """URL of a fresh ``envoxy_orm_test`` database on the test server, dropped afterwards."""
    admin = create_engine(postgresql_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {ORM_TEST_DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {ORM_TEST_DATABASE}"))
    url = make_url(postgresql_url).set(database=ORM_TEST_DATABASE)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {ORM_TEST_DATABASE} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def pg_engine(orm_postgresql_url: str) -> Iterator[Engine]:
    """An engine on ``envoxy_orm_test`` whose ``search_path`` is a schema of its own."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(orm_postgresql_url, connect_args={"options": f"-csearch_path={schema}"})
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield engine
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()
