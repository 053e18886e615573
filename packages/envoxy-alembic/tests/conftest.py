"""Fixtures of the envoxy-alembic tests: a PostgreSQL database of each test's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url


@pytest.fixture
def pg_database(postgresql_url: str) -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    name = f"envoxy_alembic_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgresql_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgresql_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
