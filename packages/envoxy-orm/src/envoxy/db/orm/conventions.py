"""Constraint and index names, given through SQLAlchemy's ``naming_convention``.

Every template of :data:`NAMING_CONVENTION` is one callable token,
:func:`constraint_name`, so names are fixed when SQLAlchemy attaches the object to
its table (and Alembic autogenerate writes them into migrations):

========================================  =====================================
object                                    name
========================================  =====================================
``Index`` (also ``index=True``)           ``idx_{t}_{cols}``
``UniqueConstraint`` (``unique=True``)    ``uq_{t}_{cols}``
``ForeignKeyConstraint`` / ``ForeignKey``  ``fk_{t}_{local_cols}_to_{ref_t}``
``CheckConstraint`` (also Enum, Boolean)  ``ck_{t}_{8 hex of sha1(sql)}``
``PrimaryKeyConstraint``                  ``pk_{t}``
``ExcludeConstraint`` (PostgreSQL)        ``ex_{t}_{cols}``
========================================  =====================================

``{t}`` is the table name without a leading ``aux_``; ``{cols}`` the real column
names joined with ``_`` (an expression shows as ``expr_<8 hex>``). Names are
lowercased, characters outside ``[a-z0-9_]`` become ``_``, and a name over 63
characters is shortened with a hash (:func:`~envoxy.db.orm.naming.shorten`).
Explicit names are kept, including the ``name`` of an ``Enum`` or ``Boolean``
type, which SQLAlchemy gives to the type's CHECK constraint. When two different
objects of one ``MetaData`` would get the same name, the later one gets
``_<8 hex>`` of its table, kind, columns and options; the registry of given names
lives in ``MetaData.info``.
"""

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.schema import ColumnCollectionConstraint

from envoxy.db.orm.naming import sanitize_identifier, shorten, unprefixed

__all__ = [
    "ENVOXY_INFO_KEY",
    "NAMING_CONVENTION",
    "constraint_name",
    "is_envoxy_metadata",
    "make_metadata",
]

#: Key of ``MetaData.info`` marking an Envoxy metadata; its value holds the name registry.
ENVOXY_INFO_KEY = "envoxy.orm"
_NAME_TOKEN = "envoxy_name"
_TEMPLATE = f"%({_NAME_TOKEN})s"
_HASH_LENGTH = 8


def constraint_name(constraint: Any, table: Table) -> str:
    """Return the Envoxy name of ``constraint`` (an Index or Constraint) on ``table``.

    This is the callable token of :data:`NAMING_CONVENTION`; SQLAlchemy calls it.

    :param constraint: the index or constraint being named.
    :param table: the table it belongs to.
    """
    kind, parts, options = _describe(constraint, table)
    base = shorten(sanitize_identifier("_".join([kind, unprefixed(table.name), *parts])))
    signature = f"{table.fullname}|{kind}|{'|'.join(parts)}|{options}"
    return _register(table.metadata, base, signature)


#: The ``naming_convention`` of :func:`make_metadata` (and of ``EnvoxyBase.metadata``).
NAMING_CONVENTION: dict[Any, Any] = {
    _NAME_TOKEN: constraint_name,
    "ix": _TEMPLATE,
    "uq": _TEMPLATE,
    "ck": _TEMPLATE,
    "fk": _TEMPLATE,
    "pk": _TEMPLATE,
    # Any other column constraint: PostgreSQL's ExcludeConstraint.
    ColumnCollectionConstraint: _TEMPLATE,
}


def make_metadata(schema: str | None = None) -> MetaData:
    """Return a new ``MetaData`` with the Envoxy naming convention and name registry.

    Envoxy's schema hooks (string foreign-key prefixing) act on tables of such a
    metadata only.

    :param schema: the default schema of its tables (``MetaData(schema=...)``).
    """
    metadata = MetaData(schema=schema, naming_convention=NAMING_CONVENTION)
    metadata.info[ENVOXY_INFO_KEY] = {}
    return metadata


def is_envoxy_metadata(metadata: MetaData | None) -> bool:
    """Return whether ``metadata`` came from :func:`make_metadata`."""
    return metadata is not None and ENVOXY_INFO_KEY in metadata.info


def _describe(constraint: Any, table: Table) -> tuple[str, list[str], str]:
    """Return (kind, name parts after the table, options that distinguish it)."""
    if isinstance(constraint, Index):
        return "idx", _column_parts(constraint.expressions), f"unique={constraint.unique}"
    if isinstance(constraint, PrimaryKeyConstraint):
        return "pk", [], ""
    if isinstance(constraint, UniqueConstraint):
        return "uq", _column_parts(constraint.columns), ""
    if isinstance(constraint, ForeignKeyConstraint):
        local = [element.parent.name for element in constraint.elements]
        targets = [_target_fullname(element) for element in constraint.elements]
        referred = targets[0].rsplit(".", 2)[-2] if targets else ""
        return "fk", [*local, "to", unprefixed(referred)], ",".join(targets)
    if isinstance(constraint, CheckConstraint):
        sql = _sql_text(constraint.sqltext)
        return "ck", [_short_hash(sql)], sql
    operators = getattr(constraint, "operators", {})  # ExcludeConstraint: column -> operator
    return "ex", _column_parts(getattr(constraint, "columns", ())), repr(sorted(operators.items()))


def _column_parts(expressions: Iterable[Any]) -> list[str]:
    parts = []
    for expression in expressions:
        if isinstance(expression, Column):
            parts.append(expression.name)
        elif isinstance(expression, str):
            parts.append(expression)
        else:
            parts.append(f"expr_{_short_hash(_sql_text(expression))}")
    return parts


def _target_fullname(element: Any) -> str:
    try:
        return str(element.target_fullname)
    except SQLAlchemyError:
        return str(element.column.table.name + "." + element.column.name)


def _sql_text(clause: Any) -> str:
    try:
        return str(clause.compile(compile_kwargs={"literal_binds": True}))
    except (SQLAlchemyError, AttributeError, TypeError, NotImplementedError):
        return str(clause)


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:_HASH_LENGTH]


def _register(metadata: MetaData | None, name: str, signature: str) -> str:
    """Give ``name`` to ``signature`` in the metadata's registry, or a suffixed name if taken."""
    if metadata is None:
        return name
    registry: dict[str, str] = metadata.info.setdefault(ENVOXY_INFO_KEY, {})
    owner = registry.setdefault(name, signature)
    if owner == signature:
        return name
    unique = shorten(f"{name}_{_short_hash(signature)}")
    registry.setdefault(unique, signature)
    return unique
