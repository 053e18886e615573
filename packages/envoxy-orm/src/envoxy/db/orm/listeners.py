"""Envoxy's SQLAlchemy event listeners, all registered by :func:`register_envoxy_listeners`.

- :func:`fill_audit_columns_on_insert` and :func:`touch_updated_on_update` are mapper
  events on :class:`~envoxy.db.orm.mixin.EnvoxyMixin` with ``propagate=True``, so
  they act on every mapped ``EnvoxyMixin`` subclass (every ``EnvoxyBase`` model) and
  on nothing else;
- :func:`~envoxy.db.orm.foreign_keys.prefix_foreign_key_targets` prefixes string
  foreign-key targets on tables of an Envoxy ``MetaData``.

``import envoxy.db.orm`` registers them; calling :func:`register_envoxy_listeners`
again does nothing.
"""

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper

from envoxy.db.orm.foreign_keys import prefix_foreign_key_targets
from envoxy.db.orm.mixin import EnvoxyMixin

__all__ = [
    "HREF_TEMPLATE",
    "fill_audit_columns_on_insert",
    "register_envoxy_listeners",
    "touch_updated_on_update",
]

#: The ``href`` given to a new row: table name and id.
HREF_TEMPLATE = "/v3/data-layer/{table}/{id}"

_REGISTRATION_LOCK = threading.Lock()


def fill_audit_columns_on_insert(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    """Fill ``id`` (uuid4), ``created``, ``updated`` (aware UTC now) and ``href`` before an INSERT.

    ``id`` and ``href`` are kept when truthy, ``created`` when not ``None``;
    ``updated`` is always now.
    """
    now = datetime.now(UTC)
    # A pending object's __dict__ holds exactly the attributes set so far; reading it
    # skips the instrumented getter (a third of this listener's cost otherwise).
    given = target.__dict__
    row_id = given.get("id")
    if not row_id:
        row_id = target.id = str(uuid.uuid4())
    if given.get("created") is None:
        target.created = now
    target.updated = now
    if not given.get("href"):
        target.href = HREF_TEMPLATE.format(table=mapper.class_.__table__.name, id=row_id)


def touch_updated_on_update(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    """Set ``updated`` to the aware UTC now before an UPDATE."""
    target.updated = datetime.now(UTC)


def register_envoxy_listeners() -> None:
    """Register every Envoxy listener once; later calls do nothing.

    Models of other declarative bases get no hooks.
    """
    with _REGISTRATION_LOCK:
        for target, name, listener, options in _LISTENERS:
            if not event.contains(target, name, listener):
                event.listen(target, name, listener, **options)


_LISTENERS: tuple[tuple[Any, str, Any, dict[str, Any]], ...] = (
    (EnvoxyMixin, "before_insert", fill_audit_columns_on_insert, {"propagate": True}),
    (EnvoxyMixin, "before_update", touch_updated_on_update, {"propagate": True}),
    (ForeignKeyConstraint, "before_parent_attach", prefix_foreign_key_targets, {}),
)
