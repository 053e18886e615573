"""Schema objects with Envoxy's table prefix: ``Table``, ``ForeignKey`` and ``prefixed``.

``Column``, ``Index`` and ``UniqueConstraint`` are SQLAlchemy's. ``Table`` prefixes
its name (for association tables on ``EnvoxyBase.metadata``) and ``ForeignKey``
prefixes a ``table.column`` string target.
"""

from typing import Any

import sqlalchemy
from sqlalchemy import Column, Index, MetaData, UniqueConstraint

from envoxy.db.orm.foreign_keys import prefixed_target
from envoxy.db.orm.naming import explicit_table_name
from envoxy.db.orm.naming import prefixed as _prefixed

__all__ = ["Column", "ForeignKey", "Index", "Table", "UniqueConstraint", "prefixed"]


class ForeignKey(sqlalchemy.ForeignKey):
    """SQLAlchemy's ``ForeignKey`` whose ``table.column`` string target gets the table prefix.

    ``ForeignKey("users.id")`` refers to ``aux_users.id``; prefixed, schema-qualified
    and column-object targets are unchanged.
    """

    def __init__(self, column: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(column, str):
            column = prefixed_target(column)
        super().__init__(column, *args, **kwargs)


def Table(name: str, metadata: MetaData, *args: Any, **kwargs: Any) -> sqlalchemy.Table:  # noqa: N802
    """Return a ``sqlalchemy.Table`` with ``name`` lowercased and prefixed (``aux_users``).

    :param name: the table name.
    :param metadata: usually ``EnvoxyBase.metadata``.
    :param args: columns and constraints, as for ``sqlalchemy.Table``.
    :param kwargs: as for ``sqlalchemy.Table``.
    """
    return sqlalchemy.Table(explicit_table_name(name), metadata, *args, **kwargs)


def prefixed(name: str) -> str:
    """Return ``name`` with the active table prefix unless it starts with ``aux_`` (idempotent)."""
    return _prefixed(name)
