"""Every rule on the real PostgreSQL server: DDL, names, audit values, sessions, forks."""

import json
import pathlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import TSRANGE, ExcludeConstraint
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from envoxy.db.orm import EnvoxyBase
from envoxy.db.orm.constants import AUX_TABLE_PREFIX
from envoxy.db.orm.manager import EnvoxySessionManager
from envoxy.db.orm.session import dispose_all, get_manager
from envoxy.utils.config import Config
from envoxy_testing.forking import in_child

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.filterwarnings("ignore:This declarative base already contains"),
]

T = AUX_TABLE_PREFIX.removeprefix("aux_")


def test_create_insert_update_with_aware_audit_values(
    base: type[EnvoxyBase], pg_engine: Engine
) -> None:
    class Product(base):  # type: ignore[valid-type,misc]
        name: Mapped[str] = mapped_column(String(50))
        stock = Column(Integer, nullable=False, default=0)

    base.metadata.create_all(pg_engine)
    with Session(pg_engine) as session:
        product = Product(name="pen")
        session.add(product)
        session.commit()
        product_id = product.id
        created = product.created
        product.name = "pencil"
        session.commit()

    with Session(pg_engine) as session:
        stored = session.get_one(Product, product_id)
        assert stored.created == created
        assert stored.created.utcoffset().total_seconds() == 0
        assert stored.updated > stored.created
        assert stored.href == f"/v3/data-layer/{AUX_TABLE_PREFIX}products/{product_id}"
        assert stored.name == "pencil"
        assert stored.stock == 0


def test_inspector_reads_back_every_kind_of_name(base: type[EnvoxyBase], pg_engine: Engine) -> None:
    class User(base):  # type: ignore[valid-type,misc]
        __tablename__ = "users"
        email: Mapped[str] = mapped_column(String(80), unique=True)

    class Order(base):  # type: ignore[valid-type,misc]
        name: Mapped[str] = mapped_column(String(50), index=True)
        category: Mapped[str] = mapped_column(String(50))
        user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
        state: Mapped[str] = mapped_column(
            Enum("open", "paid", native_enum=False, create_constraint=True)
        )
        total: Mapped[int] = mapped_column(Integer)
        during = Column(TSRANGE)
        __table_args__ = (
            Index(None, "name", "category"),
            UniqueConstraint("category", "name"),
            CheckConstraint("total >= 0"),
            ExcludeConstraint((during, "&&")),
        )

    base.metadata.create_all(pg_engine)
    inspector = inspect(pg_engine)
    table = Order.__table__.name
    assert {i["name"] for i in inspector.get_indexes(table)} >= {
        f"idx_{T}orders_name",
        f"idx_{T}orders_name_category",
    }
    unique_names = {u["name"] for u in inspector.get_unique_constraints(table)}
    assert unique_names == {f"uq_{T}orders_category_name"}
    assert inspector.get_unique_constraints(User.__table__.name)[0]["name"] == f"uq_{T}users_email"
    (fk,) = inspector.get_foreign_keys(table)
    assert fk["name"] == f"fk_{T}orders_user_id_to_{T}users"
    assert fk["referred_table"] == f"{AUX_TABLE_PREFIX}users"
    assert inspector.get_pk_constraint(table)["name"] == f"pk_{T}orders"
    checks = {c["name"] for c in inspector.get_check_constraints(table)}
    assert len(checks) == 2
    prefix = f"ck_{T}orders_"
    assert all(name.startswith(prefix) and len(name) == len(prefix) + 8 for name in checks)
    with pg_engine.connect() as connection:
        excludes = connection.scalars(
            text(
                "SELECT conname FROM pg_constraint"
                " WHERE contype = 'x' AND conrelid = CAST(:t AS regclass)"
            ),
            {"t": table},
        ).all()
    assert excludes == [f"ex_{T}orders_during"]


def test_rollback_in_session_scope_leaves_no_partial_rows(
    base: type[EnvoxyBase], pg_engine: Engine
) -> None:
    class Account(base):  # type: ignore[valid-type,misc]
        number: Mapped[str] = mapped_column(String(20), unique=True)

    base.metadata.create_all(pg_engine)
    manager = EnvoxySessionManager(engine=pg_engine)

    def add_the_same_number_twice() -> None:
        with manager.session_scope() as session:
            session.add(Account(number="A-1"))
            session.flush()
            session.add(Account(number="A-1"))
            session.flush()

    with pytest.raises(IntegrityError):
        add_the_same_number_twice()
    with manager.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0


def test_over_long_model_name_creates_its_table(base: type[EnvoxyBase], pg_engine: Engine) -> None:
    class AVeryLongModelNameThatKeepsGoingAndGoingBeyondAnyReasonableLimitForSure(base):  # type: ignore[valid-type,misc]
        a_column_with_a_rather_long_name_that_goes_on_and_on: Mapped[str] = mapped_column(
            String(5), index=True
        )

    model = AVeryLongModelNameThatKeepsGoingAndGoingBeyondAnyReasonableLimitForSure
    base.metadata.create_all(pg_engine)
    inspector = inspect(pg_engine)
    assert model.__table__.name in inspector.get_table_names()
    (index,) = inspector.get_indexes(model.__table__.name)
    assert index["name"] == next(iter(model.__table__.indexes)).name
    assert len(index["name"]) <= 63
    with Session(pg_engine) as session:
        session.add(model(a_column_with_a_rather_long_name_that_goes_on_and_on="x"))
        session.commit()


@pytest.fixture
def pg_config(
    tmp_path: pathlib.Path, orm_postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Point Config at an envoxy.json whose ``psql_servers.orm`` uses a schema of its own."""
    from sqlalchemy import make_url

    schema = f"s_{uuid.uuid4().hex[:10]}"
    url = make_url(orm_postgresql_url)
    setup = create_engine(url)
    with setup.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    monkeypatch.delenv("ENVOXY_CONFIG", raising=False)
    previous = Config.file_path
    path = tmp_path / "envoxy.json"
    server = {
        "host": url.host,
        "port": str(url.port),
        "db": url.database,
        "user": url.username,
        "passwd": url.password,
        "schema": schema,
        "pool_size": 2,
    }
    path.write_text(json.dumps({"psql_servers": {"default": "orm", "orm": server}}))
    Config.set_file_path(path)
    yield schema
    dispose_all()
    Config.set_file_path(previous)
    with setup.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    setup.dispose()


def test_get_manager_builds_the_url_and_search_path(base: type[EnvoxyBase], pg_config: str) -> None:
    class Invoice(base):  # type: ignore[valid-type,misc]
        number: Mapped[str] = mapped_column(String(20))

    manager = get_manager()
    assert manager.engine.url.drivername == "postgresql+psycopg2"
    base.metadata.create_all(manager.engine)
    with manager.session_scope() as session:
        assert session.scalar(text("SHOW search_path")) == pg_config
        session.add(Invoice(number="1"))
    assert f"{AUX_TABLE_PREFIX}invoices" in inspect(manager.engine).get_table_names(
        schema=pg_config
    )


# The deadline watcher (envoxy.utils.deadlines) is a thread: the child never touches the
# parent's, it starts its own (test_core_deadlines.py).
def test_forked_child_never_uses_the_parent_connections(orm_postgresql_url: str) -> None:
    manager = EnvoxySessionManager(url=orm_postgresql_url, engine_kwargs={"pool_size": 1})
    backend_pid = text("SELECT pg_backend_pid()")
    with manager.session_scope() as session:
        parent_backend = session.scalar(backend_pid)

    def in_the_child() -> int:
        with manager.session_scope() as session:
            backend = int(session.scalar(backend_pid))
        manager.dispose()
        return backend

    assert in_child(in_the_child) != parent_backend
    with manager.session_scope() as session:
        assert session.scalar(backend_pid) == parent_backend
        assert session.scalar(text("SELECT now()")) <= datetime.now(UTC)
    manager.dispose()
