"""Envoxy's opinionated SQLAlchemy ORM: named tables, audit columns, safe constraint names.

Example::

    from sqlalchemy import String
    from sqlalchemy.orm import Mapped, mapped_column
    from envoxy.db.orm import EnvoxyBase

    class Product(EnvoxyBase):                       # table aux_products
        name: Mapped[str] = mapped_column(String(120), index=True)

Modules: ``constants`` (prefixes), ``naming`` (table names), ``conventions``
(constraint names), ``base``, ``mixin``, ``listeners``, ``schema``, ``sqltypes``,
``helpers`` and ``session`` (sessions per ``psql_servers`` key). The session
helpers and the ``schema``/``sqltypes``/``session``/``helpers`` modules load on
first use.
"""

import importlib
from typing import TYPE_CHECKING, Any

from envoxy.db.orm.base import EnvoxyBase, EnvoxyMeta, metadata
from envoxy.db.orm.listeners import register_envoxy_listeners
from envoxy.db.orm.mixin import EnvoxyMixin

if TYPE_CHECKING:
    from envoxy.db.orm import helpers, schema, session, sqltypes
    from envoxy.db.orm.session import (
        get_default_server_key,
        get_manager,
        session_scope,
        transactional,
    )

__all__ = [
    "EnvoxyBase",
    "EnvoxyMeta",
    "EnvoxyMixin",
    "get_default_server_key",
    "get_manager",
    "helpers",
    "metadata",
    "register_envoxy_listeners",
    "schema",
    "session",
    "session_scope",
    "sqltypes",
    "transactional",
]

_LAZY_MODULES = frozenset({"helpers", "schema", "session", "sqltypes"})
_LAZY_SESSION_NAMES = frozenset(
    {"get_default_server_key", "get_manager", "session_scope", "transactional"}
)

register_envoxy_listeners()


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    if name in _LAZY_SESSION_NAMES:
        value = getattr(importlib.import_module(f"{__name__}.session"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
