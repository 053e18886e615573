"""``EnvoxyBase``, the declarative base of Envoxy models, and ``EnvoxyMeta``.

Each mapped subclass gets its table name from :func:`table_name_for` before
SQLAlchemy maps it:

- ``__exception_tablename__ = "x"`` in the class body: ``x`` verbatim;
- ``__tablename__ = "x"`` in the class body: ``x`` lowercased and prefixed once;
- a subclass of a mapped class that sets neither: the parent's table
  (single-table inheritance);
- otherwise: prefix + the snake_case class name with its last word in the plural.

Abstract classes (``__abstract__ = True``) and unmapped mixins get no table.
"""

from typing import Any

from sqlalchemy import MetaData, inspect
from sqlalchemy.orm import DeclarativeBase, DeclarativeMeta

from envoxy.db.orm.conventions import make_metadata
from envoxy.db.orm.mixin import EnvoxyMixin
from envoxy.db.orm.naming import class_table_name, explicit_table_name

__all__ = ["EnvoxyBase", "EnvoxyMeta", "table_name_for"]


def table_name_for(cls: type, namespace: dict[str, Any] | None = None) -> str | None:
    """Return the table name Envoxy gives ``cls``, or ``None`` to leave it to SQLAlchemy.

    ``None`` means: abstract, given an explicit ``__table__`` or a ``declared_attr``
    ``__tablename__``, or a single-table subclass of a mapped class.

    :param cls: the class being mapped (its bases are already mapped).
    :param namespace: the class body, when it differs from ``cls.__dict__``.
    """
    body = cls.__dict__ if namespace is None else namespace
    if body.get("__abstract__") or "__table__" in body:
        return None
    exception = body.get("__exception_tablename__")
    if exception:
        return str(exception)
    explicit = body.get("__tablename__")
    if explicit is not None:
        return explicit_table_name(explicit) if isinstance(explicit, str) else None
    parents = cls.__mro__[1:]
    if any(inspect(parent, raiseerr=False) is not None for parent in parents):
        return None
    if any(not isinstance(vars(parent).get("__tablename__", ""), str) for parent in parents):
        return None  # a mixin supplies __tablename__ through declared_attr
    return class_table_name(cls.__name__)


class EnvoxyBase(EnvoxyMixin, DeclarativeBase):
    """Declarative base of Envoxy models: named tables, audit columns, safe constraint names.

    Example::

        class ProductCategory(EnvoxyBase):          # table aux_product_categories
            name: Mapped[str] = mapped_column(String(120), index=True)

    Classic ``Column`` attributes work as well as ``Mapped``/``mapped_column``.
    ``EnvoxyBase.metadata`` (also ``envoxy.db.orm.metadata``) carries the naming
    convention of :mod:`envoxy.db.orm.conventions`; an abstract subclass may set its
    own ``metadata = make_metadata()`` to keep its tables apart.

    .. versionchanged:: 1.0
       Explicit ``__tablename__`` values are kept (only prefixed),
       ``__exception_tablename__`` is verbatim, and a mapped subclass uses
       single-table inheritance.
    """

    metadata = make_metadata()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        name = table_name_for(cls)
        if name is not None:
            cls.__tablename__ = name
        super().__init_subclass__(**kwargs)


class EnvoxyMeta(DeclarativeMeta):
    """Metaclass applying :func:`table_name_for` to classic ``declarative_base()`` bases.

    For code written against envoxy 0.7::

        Base = declarative_base(metaclass=EnvoxyMeta, metadata=make_metadata())

        class Product(EnvoxyMixin, Base):           # table aux_products
            ...

    New code subclasses :class:`EnvoxyBase` instead.
    """

    def __init__(
        cls,  # noqa: N805 (a metaclass: the first argument is the new class)
        classname: str,
        bases: tuple[type, ...],
        dict_: dict[str, Any],
        **kw: Any,
    ) -> None:
        if "_sa_registry" not in dict_:  # not the base class itself
            name = table_name_for(cls, dict_)
            if name is not None:
                dict_ = {**dict_, "__tablename__": name}
                cls.__tablename__ = name
        super().__init__(classname, bases, dict_, **kw)


#: The metadata of every :class:`EnvoxyBase` model (for Alembic's ``target_metadata``).
metadata: MetaData = EnvoxyBase.metadata
