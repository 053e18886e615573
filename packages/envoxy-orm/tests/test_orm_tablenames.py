"""Which table each kind of model class gets."""

import pytest
from sqlalchemy import Column, ForeignKey, Integer, String, inspect
from sqlalchemy.orm import Mapped, declarative_base, declared_attr, mapped_column

from envoxy.db.orm import EnvoxyBase, EnvoxyMeta, EnvoxyMixin
from envoxy.db.orm.constants import AUX_TABLE_PREFIX
from envoxy.db.orm.conventions import make_metadata

pytestmark = pytest.mark.filterwarnings("ignore:This declarative base already contains")


def test_model_gets_prefixed_plural_table(base: type[EnvoxyBase]) -> None:
    class ProductCategory(base):  # type: ignore[valid-type,misc]
        name: Mapped[str] = mapped_column(String(50))

    assert ProductCategory.__tablename__ == f"{AUX_TABLE_PREFIX}product_categories"
    assert ProductCategory.__table__.name == ProductCategory.__tablename__


def test_mapped_and_classic_columns_both_map(base: type[EnvoxyBase]) -> None:
    class Gadget(base):  # type: ignore[valid-type,misc]
        typed: Mapped[str] = mapped_column(String(20))
        classic = Column(Integer, nullable=False)

    columns = {column.name for column in Gadget.__table__.columns}
    assert columns == {"id", "created", "updated", "href", "typed", "classic"}
    assert Gadget.__table__.c.classic.nullable is False


def test_explicit_tablename_is_kept_and_prefixed(base: type[EnvoxyBase]) -> None:
    class User(base):  # type: ignore[valid-type,misc]
        __tablename__ = "Users"

    assert User.__table__.name == f"{AUX_TABLE_PREFIX}users"


def test_explicit_tablename_already_prefixed_is_unchanged(base: type[EnvoxyBase]) -> None:
    class Account(base):  # type: ignore[valid-type,misc]
        __tablename__ = "aux_legacy_accounts"

    assert Account.__table__.name == "aux_legacy_accounts"


def test_exception_tablename_is_verbatim(base: type[EnvoxyBase]) -> None:
    class Legacy(base):  # type: ignore[valid-type,misc]
        __exception_tablename__ = "LegacyThings"

    assert Legacy.__table__.name == "LegacyThings"


def test_mapped_subclass_shares_its_parent_table(base: type[EnvoxyBase]) -> None:
    class Vehicle(base):  # type: ignore[valid-type,misc]
        kind: Mapped[str] = mapped_column(String(20))
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "vehicle"}

    class Truck(Vehicle):
        payload: Mapped[int | None] = mapped_column(Integer)
        __mapper_args__ = {"polymorphic_identity": "truck"}

    assert Truck.__table__ is Vehicle.__table__
    assert inspect(Truck).single
    assert "payload" in Vehicle.__table__.columns
    assert sorted(base.metadata.tables) == [f"{AUX_TABLE_PREFIX}vehicles"]


def test_subclass_with_its_own_tablename_gets_a_joined_table(base: type[EnvoxyBase]) -> None:
    class Animal(base):  # type: ignore[valid-type,misc]
        pass

    class Dog(Animal):
        __tablename__ = "dogs"
        id: Mapped[str] = mapped_column(ForeignKey(Animal.id), primary_key=True)

    assert Dog.__table__.name == f"{AUX_TABLE_PREFIX}dogs"
    assert not inspect(Dog).single


def test_abstract_classes_and_mixins_get_no_table(base: type[EnvoxyBase]) -> None:
    class Named:
        name: Mapped[str] = mapped_column(String(50))

    class Timestamped(base):  # type: ignore[valid-type,misc]
        __abstract__ = True
        note: Mapped[str | None] = mapped_column(String(50))

    class Shelf(Named, Timestamped):
        pass

    assert sorted(base.metadata.tables) == [f"{AUX_TABLE_PREFIX}shelves"]
    assert {"name", "note"} <= set(Shelf.__table__.columns.keys())
    assert not hasattr(Timestamped, "__table__")


def test_mixin_declared_attr_tablename_is_respected(base: type[EnvoxyBase]) -> None:
    class UpperName:
        @declared_attr.directive
        def __tablename__(cls) -> str:  # noqa: N805
            return cls.__name__.upper()

    class Crate(UpperName, base):  # type: ignore[valid-type,misc]
        pass

    assert Crate.__table__.name == "CRATE"


def test_over_long_model_name_gets_a_63_character_table(base: type[EnvoxyBase]) -> None:
    class AVeryLongModelNameThatKeepsGoingAndGoingBeyondAnyReasonableLimit(base):  # type: ignore[valid-type,misc]
        pass

    name = AVeryLongModelNameThatKeepsGoingAndGoingBeyondAnyReasonableLimit.__table__.name
    assert len(name) == 63
    assert name.startswith(f"{AUX_TABLE_PREFIX}a_very_long_model_name")


def test_envoxy_base_metadata_is_the_exported_metadata() -> None:
    from envoxy.db.orm import metadata

    assert metadata is EnvoxyBase.metadata
    assert metadata.naming_convention["pk"]


def test_legacy_declarative_base_with_envoxy_meta_names_tables() -> None:
    legacy_base = declarative_base(metaclass=EnvoxyMeta, metadata=make_metadata())

    class Widget(EnvoxyMixin, legacy_base):  # type: ignore[valid-type,misc]
        size: Mapped[int] = mapped_column(Integer)

    class Gizmo(EnvoxyMixin, legacy_base):  # type: ignore[valid-type,misc]
        __tablename__ = "gizmo"

    assert Widget.__table__.name == f"{AUX_TABLE_PREFIX}widgets"
    assert Gizmo.__table__.name == f"{AUX_TABLE_PREFIX}gizmo"
