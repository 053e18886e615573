"""Prefix string foreign-key targets: ``ForeignKey("users.id")`` refers to ``aux_users.id``.

A ``table.column`` string gets the active table prefix (see
:func:`~envoxy.db.orm.naming.explicit_table_name`, the rule for an explicit
``__tablename__``). Targets already starting with ``aux_``, ``schema.table.column``
targets and column objects are left as they are; use a column object to refer to
an unprefixed table (an ``__exception_tablename__`` one, say).

:func:`prefix_foreign_key_targets` is a ``before_parent_attach`` listener on
``ForeignKeyConstraint`` (registered by
:func:`~envoxy.db.orm.listeners.register_envoxy_listeners`); it acts on tables of
an Envoxy ``MetaData`` only, before SQLAlchemy resolves the target or names the
constraint, so it covers ``Column``, ``mapped_column`` and ``ForeignKeyConstraint``.
"""

from typing import Any

from sqlalchemy import ForeignKeyConstraint, ForeignKeyTarget, Table

from envoxy.db.orm.conventions import is_envoxy_metadata
from envoxy.db.orm.naming import explicit_table_name, is_prefixed

__all__ = ["prefix_foreign_key_targets", "prefixed_target"]


def prefixed_target(target: str) -> str:
    """Return a ``table.column`` string with the table prefixed; other forms unchanged.

    :param target: ``"users.id"`` (gives ``"aux_users.id"``), ``"aux_users.id"`` or
        ``"schema.users.id"`` (both unchanged).
    """
    parts = target.split(".")
    if len(parts) != 2 or is_prefixed(parts[0]):
        return target
    return f"{explicit_table_name(parts[0])}.{parts[1]}"


def prefix_foreign_key_targets(constraint: ForeignKeyConstraint, table: Table) -> None:
    """Prefix the string targets of ``constraint`` before it is attached to ``table``.

    Listener for ``before_parent_attach`` on ``ForeignKeyConstraint``.

    :param constraint: the constraint being attached.
    :param table: its table; nothing happens unless its metadata is an Envoxy one.
    """
    if not isinstance(table, Table) or not is_envoxy_metadata(table.metadata):
        return
    for element in constraint.elements:
        if element.target_column is not None:
            continue  # given as a Column object
        tokens = element.target_tokens
        if tokens.schema is not None or is_prefixed(tokens.table_name):
            continue
        _retarget(
            element,
            ForeignKeyTarget(None, explicit_table_name(tokens.table_name), tokens.column_name),
        )


def _retarget(element: Any, target: ForeignKeyTarget) -> None:
    # SQLAlchemy 2.1 keeps the target named in the constructor in ``_given_tokens``
    # and has no public way to change it; it is read lazily (when the constraint
    # attaches and resolves), so replacing it before attachment is safe.
    element._given_tokens = target
