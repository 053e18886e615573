"""A PostgreSQL URL without a driver gets the installed one (``envoxy.db.orm.drivers``)."""

import pathlib
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy import make_url, text

from envoxy.db.orm.drivers import module_available, normalize_url
from envoxy.db.orm.manager import EnvoxySessionManager
from envoxy.db.orm.session import dispose_all, get_manager
from envoxy.exceptions import MissingDependencyError

INSTALL_HINT = 'pip install "envoxy-orm[postgres]"'


def probe(*installed: str) -> Callable[[str], bool]:
    """An import probe that sees only ``installed``."""
    return lambda module: module in installed


def rendered(url: str, *installed: str) -> str:
    return normalize_url(url, is_importable=probe(*installed)).render_as_string(hide_password=False)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_driverless_url_prefers_psycopg2(scheme: str) -> None:
    url = f"{scheme}://app:s%40cret@db:6543/app?sslmode=require"

    assert rendered(url, "psycopg2", "psycopg") == (
        "postgresql+psycopg2://app:s%40cret@db:6543/app?sslmode=require"
    )


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_driverless_url_falls_back_to_psycopg3(scheme: str) -> None:
    assert rendered(f"{scheme}://db/app", "psycopg") == "postgresql+psycopg://db/app"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_driverless_url_without_any_driver_names_the_extra(scheme: str) -> None:
    with pytest.raises(MissingDependencyError) as caught:
        normalize_url(f"{scheme}://db/app", is_importable=probe())

    assert INSTALL_HINT in str(caught.value)
    assert isinstance(caught.value, ImportError)


def test_a_named_driver_is_kept() -> None:
    assert rendered("postgresql+psycopg://db/app") == "postgresql+psycopg://db/app"
    assert rendered("postgresql+asyncpg://db/app") == "postgresql+asyncpg://db/app"
    assert rendered("postgres+psycopg2://db/app", "psycopg2") == "postgresql+psycopg2://db/app"


def test_named_psycopg2_that_is_missing_names_the_extra() -> None:
    with pytest.raises(MissingDependencyError, match="envoxy-orm\\[postgres\\]"):
        normalize_url("postgresql+psycopg2://db/app", is_importable=probe("psycopg"))


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///rel.db", "mysql+pymysql://u@h/d"])
def test_other_databases_are_unchanged(url: str) -> None:
    assert rendered(url) == url


def test_a_url_object_is_accepted() -> None:
    url = make_url("postgres://db/app")
    assert normalize_url(url, is_importable=probe("psycopg2")).drivername == "postgresql+psycopg2"


def test_module_available_probes_without_importing() -> None:
    assert module_available("psycopg2")
    assert not module_available("envoxy_no_such_driver")
    assert "envoxy_no_such_driver" not in sys.modules


def test_the_default_probe_sees_a_missing_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules is how Python marks a module that must not import
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    monkeypatch.setitem(sys.modules, "psycopg", None)

    with pytest.raises(MissingDependencyError, match="envoxy-orm\\[postgres\\]"):
        EnvoxySessionManager(url="postgresql://db/app")


def driverless(url: str, scheme: str) -> str:
    return make_url(url).set(drivername=scheme).render_as_string(hide_password=False)


@pytest.mark.postgresql
@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_manager_connects_with_a_driverless_url(postgresql_url: str, scheme: str) -> None:
    manager = EnvoxySessionManager(url=driverless(postgresql_url, scheme))
    try:
        assert manager.engine.url.drivername == "postgresql+psycopg2"
        with manager.session_scope() as session:
            assert session.scalar(text("SELECT 1")) == 1
    finally:
        manager.dispose()


@pytest.fixture
def driverless_config(
    postgresql_url: str,
    tmp_path: pathlib.Path,
    load_config: Callable[[dict[str, Any], pathlib.Path], AbstractContextManager[pathlib.Path]],
) -> Iterator[None]:
    servers = {
        "bare": {"url": driverless(postgresql_url, "postgresql"), "timeout": 3},
        "short": {"url": driverless(postgresql_url, "postgres"), "timeout": 3},
    }
    with load_config({"psql_servers": servers}, tmp_path):
        yield
    dispose_all()


@pytest.mark.postgresql
@pytest.mark.parametrize("key", ["bare", "short"])
def test_get_manager_connects_with_a_driverless_url(driverless_config: None, key: str) -> None:
    manager = get_manager(key)

    assert manager.engine.url.drivername == "postgresql+psycopg2"
    with manager.engine.connect() as connection:
        # the connect timeout of a postgresql entry applies to postgres:// too
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
        assert connection.connection.dbapi_connection.get_dsn_parameters()["connect_timeout"] == "3"  # type: ignore[union-attr]
