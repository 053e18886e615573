"""Constraint and index names, and prefixed foreign-key targets, on SQLite and in metadata."""

import pytest
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    inspect,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from envoxy.db.orm import EnvoxyBase, schema
from envoxy.db.orm.constants import AUX_TABLE_PREFIX
from envoxy_testing.interpreter import run_python

pytestmark = pytest.mark.filterwarnings("ignore:This declarative base already contains")

T = AUX_TABLE_PREFIX.removeprefix("aux_")  # "" or "<ns>_": the table part of names


def names(model: type) -> dict[str, str]:
    """Map each index/constraint name of ``model``'s table to its kind."""
    table = model.__table__  # type: ignore[attr-defined]
    found = {str(index.name): "index" for index in table.indexes}
    found |= {str(item.name): type(item).__name__ for item in table.constraints}
    return found


def test_column_flags_give_idx_and_uq_names(base: type[EnvoxyBase]) -> None:
    class Product(base):  # type: ignore[valid-type,misc]
        name: Mapped[str] = mapped_column(String(50), index=True)
        sku = Column(String(20), unique=True)
        code: Mapped[str] = mapped_column(String(20), index=True, unique=True)

    found = names(Product)
    assert found[f"idx_{T}products_name"] == "index"
    assert found[f"uq_{T}products_sku"] == "UniqueConstraint"
    assert found[f"idx_{T}products_code"] == "index"
    assert f"uq_{T}products_code" not in found
    assert found[f"pk_{T}products"] == "PrimaryKeyConstraint"


def test_table_args_give_multi_column_names(base: type[EnvoxyBase]) -> None:
    class Product(base):  # type: ignore[valid-type,misc]
        name: Mapped[str] = mapped_column(String(50))
        category: Mapped[str] = mapped_column(String(50))
        __table_args__ = (
            Index(None, "name", "category"),
            UniqueConstraint("category", "name"),
        )

    found = names(Product)
    assert f"idx_{T}products_name_category" in found
    assert f"uq_{T}products_category_name" in found


def test_expression_index_names_the_expression_by_hash(base: type[EnvoxyBase]) -> None:
    class Tag(base):  # type: ignore[valid-type,misc]
        label: Mapped[str] = mapped_column(String(50))
        __table_args__ = (Index(None, func.lower(label), "label"),)

    (index,) = Tag.__table__.indexes
    prefix = f"idx_{T}tags_expr_"
    assert str(index.name).startswith(prefix)
    assert str(index.name).endswith("_label")
    assert len(str(index.name)) == len(prefix) + 8 + len("_label")


def test_check_constraint_is_named_by_a_hash_of_its_sql(base: type[EnvoxyBase]) -> None:
    class Offer(base):  # type: ignore[valid-type,misc]
        price: Mapped[int] = mapped_column(Integer)
        __table_args__ = (CheckConstraint("price > 0"), CheckConstraint("price < 1000"))

    checks = sorted(n for n in names(Offer) if n.startswith("ck_"))
    assert len(checks) == 2
    assert all(len(n) == len(f"ck_{T}offers_") + 8 for n in checks)


def test_foreign_keys_are_named_and_prefixed_in_every_form(base: type[EnvoxyBase]) -> None:
    class User(base):  # type: ignore[valid-type,misc]
        __tablename__ = "users"

    class Order(base):  # type: ignore[valid-type,misc]
        buyer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
        seller_id = Column(String(36), ForeignKey("users.id"))
        courier_id: Mapped[str] = mapped_column(String(36))
        agent_id: Mapped[str] = mapped_column(schema.ForeignKey("users.id"))
        __table_args__ = (ForeignKeyConstraint(["courier_id"], ["users.id"]),)

    table = Order.__table__
    targets = {fk.parent.name: fk.column.table for fk in table.foreign_keys}
    assert set(targets) == {"buyer_id", "seller_id", "courier_id", "agent_id"}
    assert all(target is User.__table__ for target in targets.values())
    for column in targets:
        assert f"fk_{T}orders_{column}_to_{T}users" in names(Order)


def test_prefixed_schema_and_column_targets_are_unchanged(base: type[EnvoxyBase]) -> None:
    class Legacy(base):  # type: ignore[valid-type,misc]
        __exception_tablename__ = "legacy"

    class Link(base):  # type: ignore[valid-type,misc]
        legacy_id: Mapped[str] = mapped_column(ForeignKey(Legacy.id))
        same_id: Mapped[str] = mapped_column(ForeignKey(f"{AUX_TABLE_PREFIX}links.id"))
        remote_id: Mapped[str] = mapped_column(ForeignKey("other.things.id"))

    specs = {fk.parent.name: fk.target_fullname for fk in Link.__table__.foreign_keys}
    assert specs == {
        "legacy_id": "legacy.id",
        "same_id": f"{AUX_TABLE_PREFIX}links.id",
        "remote_id": "other.things.id",
    }
    assert f"fk_{T}links_legacy_id_to_legacy" in names(Link)


def test_explicit_names_are_kept(base: type[EnvoxyBase]) -> None:
    class Note(base):  # type: ignore[valid-type,misc]
        body: Mapped[str] = mapped_column(String(50))
        __table_args__ = (
            Index("My_Own_Index", "body"),
            UniqueConstraint("body", name="body_once"),
            CheckConstraint("length(body) > 0", name="body_not_empty"),
        )

    assert {"My_Own_Index", "body_once", "body_not_empty"} <= set(names(Note))


def test_exclude_constraint_gets_an_ex_name(base: type[EnvoxyBase]) -> None:
    class Booking(base):  # type: ignore[valid-type,misc]
        room: Mapped[str] = mapped_column(String(10))
        __table_args__ = (ExcludeConstraint(("room", "=")),)

    assert names(Booking)[f"ex_{T}bookings_room"] == "ExcludeConstraint"


def test_names_are_lowercased_and_sanitised(base: type[EnvoxyBase]) -> None:
    class Thing(base):  # type: ignore[valid-type,misc]
        __exception_tablename__ = "Odd-Table"
        weird: Mapped[str] = mapped_column("Weird Name", String(10), index=True)

    assert "idx_odd_table_weird_name" in names(Thing)
    assert "pk_odd_table" in names(Thing)


def test_names_never_exceed_63_characters(base: type[EnvoxyBase]) -> None:
    class AVeryLongModelNameThatKeepsGoingAndGoingBeyondAnyReasonableLimit(base):  # type: ignore[valid-type,misc]
        a_column_with_a_name_that_is_also_quite_long_indeed: Mapped[str] = mapped_column(
            String(5), index=True, unique=False
        )
        another_column_with_a_long_name_too: Mapped[str] = mapped_column(String(5))
        __table_args__ = (
            UniqueConstraint(
                "a_column_with_a_name_that_is_also_quite_long_indeed",
                "another_column_with_a_long_name_too",
            ),
        )

    found = names(AVeryLongModelNameThatKeepsGoingAndGoingBeyondAnyReasonableLimit)
    assert len(found) == 3
    assert all(len(name) <= 63 for name in found)


def test_two_objects_that_would_share_a_name_get_distinct_names(base: type[EnvoxyBase]) -> None:
    class AB(base):  # type: ignore[valid-type,misc]
        __exception_tablename__ = "a_b"
        c: Mapped[str] = mapped_column(String(5), index=True)

    class A(base):  # type: ignore[valid-type,misc]
        __exception_tablename__ = "a"
        b_c: Mapped[str] = mapped_column(String(5), index=True)

    class Dup(base):  # type: ignore[valid-type,misc]
        name: Mapped[str] = mapped_column(String(5), index=True)
        __table_args__ = (Index(None, "name", unique=True),)

    assert "idx_a_b_c" in names(AB)
    (later,) = names(A).keys() - {"pk_a"}
    assert later.startswith("idx_a_b_c_")
    assert len(later) == len("idx_a_b_c_") + 8
    dup_names = [name for name in names(Dup) if name.startswith("idx_")]
    assert len(set(dup_names)) == 2


def test_names_are_stable_across_processes() -> None:
    code = (
        "from sqlalchemy import String, Index, CheckConstraint\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n"
        "from envoxy.db.orm import EnvoxyBase\n"
        "class Stable(EnvoxyBase):\n"
        "    a: Mapped[str] = mapped_column(String(5), index=True)\n"
        "    __table_args__ = (Index(None, 'a', unique=True), CheckConstraint('a <> b'))\n"
        "t = Stable.__table__\n"
        "print(sorted(str(c.name) for c in [*t.indexes, *t.constraints]))\n"
    )
    outputs = {run_python(code, env={"PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1


def test_sqlite_reads_back_the_names(base: type[EnvoxyBase], sqlite_engine: Engine) -> None:
    class Customer(base):  # type: ignore[valid-type,misc]
        __tablename__ = "customers"
        email: Mapped[str] = mapped_column(String(50), unique=True)

    class Invoice(base):  # type: ignore[valid-type,misc]
        number: Mapped[str] = mapped_column(String(20), index=True)
        customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
        paid: Mapped[bool] = mapped_column(Boolean(create_constraint=True))
        state: Mapped[str] = mapped_column(Enum("open", "closed", create_constraint=True))
        total: Mapped[int] = mapped_column(Integer)
        __table_args__ = (CheckConstraint("total >= 0"),)

    base.metadata.create_all(sqlite_engine)
    inspector = inspect(sqlite_engine)
    table = Invoice.__table__.name
    assert table == f"{AUX_TABLE_PREFIX}invoices"
    assert [i["name"] for i in inspector.get_indexes(table)] == [f"idx_{T}invoices_number"]
    (fk,) = inspector.get_foreign_keys(table)
    assert fk["name"] == f"fk_{T}invoices_customer_id_to_{T}customers"
    assert fk["referred_table"] == f"{AUX_TABLE_PREFIX}customers"
    assert inspector.get_pk_constraint(table)["name"] == f"pk_{T}invoices"
    checks = [c["name"] for c in inspector.get_check_constraints(table)]
    assert len(checks) == 3
    assert all(name.startswith(f"ck_{T}invoices_") for name in checks)
    (unique,) = inspector.get_unique_constraints(Customer.__table__.name)
    assert unique["name"] == f"uq_{T}customers_email"
