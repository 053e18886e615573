"""EnvoxySessionManager and the sessions per ``psql_servers`` key (SQLite here)."""

import json
import pathlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import String, create_engine, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.pool import QueuePool, SingletonThreadPool

from envoxy.db.exceptions import DatabaseException
from envoxy.db.orm import EnvoxyBase
from envoxy.db.orm import session as orm_session
from envoxy.db.orm.manager import EnvoxySessionManager, engine_options
from envoxy.db.orm.session import (
    build_url,
    dispose_all,
    dispose_manager,
    engine_kwargs_from_settings,
    get_default_server_key,
    get_manager,
    session_scope,
    transactional,
    validate_server_key,
)
from envoxy.db.postgres.deadline import DeadlineConnection
from envoxy.exceptions import ConfigError
from envoxy.utils.config import Config

pytestmark = pytest.mark.filterwarnings("ignore:This declarative base already contains")


@pytest.fixture
def configure(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Write ``envoxy.json`` with the given ``psql_servers`` and point Config at it."""
    monkeypatch.delenv("ENVOXY_CONFIG", raising=False)
    previous = Config.file_path

    def write(servers: object) -> pathlib.Path:
        path = tmp_path / "envoxy.json"
        path.write_text(json.dumps({"psql_servers": servers}))
        Config.set_file_path(path)
        return path

    yield write
    dispose_all()
    Config.set_file_path(previous)


@pytest.fixture
def note_model(base: type[EnvoxyBase]) -> type[Any]:
    class Note(base):  # type: ignore[valid-type,misc]
        body: Mapped[str] = mapped_column(String(50))

    return Note


def test_manager_needs_a_url_or_an_engine() -> None:
    with pytest.raises(ValueError, match="needs a url"):
        EnvoxySessionManager()


def test_manager_uses_a_given_engine() -> None:
    engine = create_engine("sqlite://")
    assert EnvoxySessionManager(engine=engine).engine is engine


def test_pool_defaults_apply_where_the_pool_takes_them(tmp_path: pathlib.Path) -> None:
    file_manager = EnvoxySessionManager(url=f"sqlite:///{tmp_path / 'a.db'}")
    pool = file_manager.engine.pool
    assert isinstance(pool, QueuePool)
    assert (pool.size(), pool._max_overflow, pool._timeout, pool._recycle) == (20, 10, 30, 1800)
    assert pool._pre_ping is True
    memory_manager = EnvoxySessionManager(url="sqlite://")
    assert isinstance(memory_manager.engine.pool, SingletonThreadPool)
    assert "max_overflow" not in engine_options("sqlite://")
    assert engine_options("sqlite://", {"pool_size": 3})["pool_size"] == 3


def test_session_scope_commits(note_model: type[Any]) -> None:
    manager = EnvoxySessionManager(url="sqlite://")
    note_model.metadata.create_all(manager.engine)
    with manager.session_scope() as session:
        note = note_model(body="kept")
        session.add(note)
    assert note.body == "kept"  # expire_on_commit=False: readable after the scope
    with manager.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(note_model)) == 1


def test_session_scope_rolls_back_on_error(note_model: type[Any]) -> None:
    manager = EnvoxySessionManager(url="sqlite://")
    note_model.metadata.create_all(manager.engine)

    def add_then_fail() -> None:
        with manager.session_scope() as session:
            session.add(note_model(body="lost"))
            session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        add_then_fail()
    with manager.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(note_model)) == 0


def test_transactional_injects_a_session_unless_one_is_passed(note_model: type[Any]) -> None:
    manager = EnvoxySessionManager(url="sqlite://")
    note_model.metadata.create_all(manager.engine)
    seen: list[Session] = []

    @manager.transactional()
    def add_note(body: str, session: Session) -> str:
        """Add a note."""
        seen.append(session)
        note = note_model(body=body)
        session.add(note)
        session.flush()
        return str(note.id)

    assert add_note.__name__ == "add_note"
    assert add_note.__doc__ == "Add a note."
    assert add_note("one")
    with manager.session_scope() as outer:
        add_note("two", session=outer)
        assert seen[-1] is outer
    with manager.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(note_model)) == 2


def test_get_manager_builds_one_manager_per_key(configure: Any, tmp_path: pathlib.Path) -> None:
    configure({"main": {"url": f"sqlite:///{tmp_path / 'main.db'}"}, "other": {"dsn": "sqlite://"}})
    results: list[EnvoxySessionManager] = []
    threads = [
        threading.Thread(target=lambda: results.append(get_manager("main"))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(manager) for manager in results}) == 1
    assert get_manager("other") is not results[0]
    assert str(get_manager("other").engine.url) == "sqlite://"
    assert get_manager() is results[0]


def test_get_manager_applies_pool_settings(configure: Any, tmp_path: pathlib.Path) -> None:
    configure({"main": {"url": f"sqlite:///{tmp_path / 'x.db'}", "pool_size": "3"}})
    assert get_manager("main").engine.pool.size() == 3  # type: ignore[attr-defined]


def test_unknown_key_raises_database_exception(configure: Any) -> None:
    configure({"main": {"url": "sqlite://"}})
    with pytest.raises(DatabaseException, match="nope"):
        get_manager("nope")


def test_default_key_rules(configure: Any) -> None:
    configure({"default": "b", "a": {"url": "sqlite://"}, "b": {"url": "sqlite://"}})
    assert get_default_server_key() == "b"
    configure({"default": "missing", "a": {"url": "sqlite://"}})
    assert get_default_server_key() == "a"
    configure({"default": "a"})
    with pytest.raises(DatabaseException, match="no PostgreSQL server configured"):
        get_default_server_key()


def test_validate_server_key(configure: Any) -> None:
    configure({"default": "a", "a": {"url": "sqlite://"}})
    assert validate_server_key("a")
    assert not validate_server_key("default")
    assert not validate_server_key("b")


def test_dispose_manager_forgets_the_manager(configure: Any) -> None:
    configure({"a": {"url": "sqlite://"}})
    first = get_manager("a")
    dispose_manager("a")
    dispose_manager("a")
    assert get_manager("a") is not first
    dispose_all()
    assert orm_session._managers == {}


def test_module_session_scope_and_transactional(configure: Any, note_model: type[Any]) -> None:
    configure({"db": {"url": "sqlite://"}})
    note_model.metadata.create_all(get_manager("db").engine)

    @transactional("db")
    def count(session: Session) -> int:
        return int(session.scalar(select(func.count()).select_from(note_model)) or 0)

    with session_scope("db") as session:
        session.add(note_model(body="x"))
    assert count() == 1


def test_build_url_escapes_credentials() -> None:
    url = build_url(
        {"host": "db.local", "port": "6543", "db": "app", "user": "a@b", "passwd": "p:/@ss"}
    )
    assert url.drivername == "postgresql+psycopg2"
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "db.local",
        6543,
        "app",
        "a@b",
        "p:/@ss",
    )
    rendered = url.render_as_string(hide_password=False)
    assert rendered == "postgresql+psycopg2://a%40b:p%3A%2F%40ss@db.local:6543/app"


def test_build_url_defaults_and_url_aliases() -> None:
    assert build_url({}).render_as_string() == "postgresql+psycopg2://localhost:5432"
    assert str(build_url({"dsn": "sqlite:///x.db", "host": "ignored"})) == "sqlite:///x.db"
    with pytest.raises(ConfigError, match="not a SQLAlchemy URL"):
        build_url({"url": "not a url"})
    with pytest.raises(ConfigError, match="not a SQLAlchemy URL") as caught:
        build_url({"url": "app:hunter2@db/app"})
    assert "hunter2" not in str(caught.value)
    assert "'***@db/app'" in str(caught.value)
    with pytest.raises(ConfigError, match=r"psql_servers\.port"):
        build_url({"port": "many"})


def test_postgresql_engines_get_deadline_connections_and_no_pre_ping() -> None:
    url = build_url({"host": "db", "db": "app"})
    options = engine_kwargs_from_settings({"timeout": "1.5"}, url, "main")
    connect_args = options["connect_args"]
    factory = connect_args["connection_factory"]
    assert issubclass(factory, DeadlineConnection)
    assert (factory.timeout, factory.where) == (1.5, "psql_servers.main")
    assert connect_args["connect_timeout"] == 2
    assert connect_args["options"] == "-c statement_timeout=1500"
    assert connect_args["tcp_user_timeout"] == 1500
    assert options["pool_pre_ping"] is False
    default = engine_kwargs_from_settings({}, url)["connect_args"]
    assert (default["connect_timeout"], default["options"]) == (5, "-c statement_timeout=5000")


def test_url_query_options_win_over_the_defaults() -> None:
    url = build_url(
        {"url": "postgresql+psycopg2://db/app?connect_timeout=9&options=-cwork_mem%3D8MB"}
    )
    connect_args = engine_kwargs_from_settings({"statement_timeout": 0}, url)["connect_args"]
    assert "connect_timeout" not in connect_args  # psycopg2 gets the URL's own
    assert connect_args["options"] == "-cwork_mem=8MB"


@pytest.mark.parametrize("timeout", [0, "-2"])
def test_a_timeout_that_is_not_positive_is_refused(timeout: object) -> None:
    with pytest.raises(ConfigError, match=r"psql_servers\.timeout must be a positive"):
        engine_kwargs_from_settings({"timeout": timeout}, build_url({}))


def test_other_databases_get_pool_options_only() -> None:
    options = engine_kwargs_from_settings({"timeout": 1}, build_url({"url": "sqlite:///x.db"}))
    assert "connect_args" not in options
    assert "pool_pre_ping" not in options


def test_transactional_looks_the_manager_up_when_called(
    configure: Any, note_model: type[Any]
) -> None:
    @transactional("late")
    def count(session: Session) -> int:
        return int(session.scalar(select(func.count()).select_from(note_model)) or 0)

    configure({"late": {"url": "sqlite://"}})
    note_model.metadata.create_all(get_manager("late").engine)
    assert count() == 0


def test_hosts_pooler_and_budget_reach_the_engine_options() -> None:
    settings = {
        "hosts": ["db-a:5432", "db-b:5433"],
        "target_session_attrs": "read-write",
        "db": "app",
        "user": "u",
        "passwd": "p",
        "pooler": "transaction",
        "connection_budget": 10,
    }
    url = build_url(settings)
    assert url.host is None
    assert url.query["host"] == ("db-a:5432", "db-b:5433")
    options = engine_kwargs_from_settings(settings, url, "main")
    assert (options["pool_size"], options["max_overflow"]) == (4, 2)
    assert "options" not in options["connect_args"]  # nothing a transaction pooler refuses
    assert options["connect_args"]["target_session_attrs"] == "read-write"
    engine = create_engine(url, **{k: v for k, v in options.items() if k != "connect_args"})
    _, kwargs = engine.dialect.create_connect_args(url)
    assert (kwargs["host"], kwargs["port"]) == ("db-a,db-b", "5432,5433")
    engine.dispose()
