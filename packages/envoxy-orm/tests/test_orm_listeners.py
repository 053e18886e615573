"""Audit values on insert and update, for Envoxy models only."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import String, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from envoxy.db.orm import EnvoxyBase, EnvoxyMixin, register_envoxy_listeners
from envoxy.db.orm.listeners import fill_audit_columns_on_insert

pytestmark = pytest.mark.filterwarnings("ignore:This declarative base already contains")


def test_insert_fills_id_created_updated_and_href(
    base: type[EnvoxyBase], sqlite_engine: Engine
) -> None:
    class Product(base):  # type: ignore[valid-type,misc]
        name: Mapped[str] = mapped_column(String(50))

    base.metadata.create_all(sqlite_engine)
    before = datetime.now(UTC)
    with Session(sqlite_engine, expire_on_commit=False) as session:
        product = Product(name="pen")
        session.add(product)
        session.commit()

    assert uuid.UUID(product.id).version == 4
    assert product.created.tzinfo is UTC
    assert before <= product.created <= datetime.now(UTC)
    assert product.updated == product.created
    assert product.href == f"/v3/data-layer/{Product.__table__.name}/{product.id}"


def test_insert_keeps_given_values(base: type[EnvoxyBase], sqlite_engine: Engine) -> None:
    class Ticket(base):  # type: ignore[valid-type,misc]
        pass

    base.metadata.create_all(sqlite_engine)
    created = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    with Session(sqlite_engine, expire_on_commit=False) as session:
        ticket = Ticket(id="fixed-id", created=created, href="/custom")
        session.add(ticket)
        session.commit()

    assert (ticket.id, ticket.created, ticket.href) == ("fixed-id", created, "/custom")
    assert ticket.updated > created


def test_update_touches_updated_only(base: type[EnvoxyBase], sqlite_engine: Engine) -> None:
    class Draft(base):  # type: ignore[valid-type,misc]
        title: Mapped[str] = mapped_column(String(50))

    base.metadata.create_all(sqlite_engine)
    with Session(sqlite_engine, expire_on_commit=False) as session:
        draft = Draft(title="a")
        session.add(draft)
        session.commit()
        first = (draft.created, draft.updated, draft.href)
        draft.updated = first[1] - timedelta(days=1)  # overwritten by the listener
        draft.title = "b"
        session.commit()

    assert (draft.created, draft.href) == (first[0], first[2])
    assert draft.updated >= first[1]
    assert draft.updated.tzinfo is UTC


def test_single_table_subclass_href_uses_the_shared_table(
    base: type[EnvoxyBase], sqlite_engine: Engine
) -> None:
    class Vehicle(base):  # type: ignore[valid-type,misc]
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "vehicle"}

    class Bike(Vehicle):
        __mapper_args__ = {"polymorphic_identity": "bike"}

    base.metadata.create_all(sqlite_engine)
    with Session(sqlite_engine, expire_on_commit=False) as session:
        bike = Bike()
        session.add(bike)
        session.commit()

    assert re.fullmatch(rf"/v3/data-layer/{Vehicle.__table__.name}/[0-9a-f-]{{36}}", bike.href)


def test_other_declarative_bases_are_left_alone(sqlite_engine: Engine) -> None:
    class PlainBase(DeclarativeBase):
        pass

    class Plain(PlainBase):
        __tablename__ = "plain"
        id: Mapped[str] = mapped_column(String(36), primary_key=True)
        href: Mapped[str | None] = mapped_column(String(50))

    PlainBase.metadata.create_all(sqlite_engine)
    with Session(sqlite_engine, expire_on_commit=False) as session:
        plain = Plain(id="p1")
        session.add(plain)
        session.commit()

    assert plain.href is None
    assert Plain.__table__.name == "plain"
    assert {c.name for c in Plain.__table__.constraints} == {None}


def test_registration_is_idempotent_and_restorable() -> None:
    register_envoxy_listeners()
    register_envoxy_listeners()
    assert event.contains(EnvoxyMixin, "before_insert", fill_audit_columns_on_insert)
    event.remove(EnvoxyMixin, "before_insert", fill_audit_columns_on_insert)
    try:
        assert not event.contains(EnvoxyMixin, "before_insert", fill_audit_columns_on_insert)
    finally:
        register_envoxy_listeners()
    assert event.contains(EnvoxyMixin, "before_insert", fill_audit_columns_on_insert)
