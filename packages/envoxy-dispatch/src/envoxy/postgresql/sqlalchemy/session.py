"""envoxy 0.7's module of the SQLAlchemy session manager, kept so that old code runs.

.. deprecated:: 1.0
   ``envoxy.postgresql.sqlalchemy.session.EnvoxySessionManager`` warns once; use
   :class:`envoxy.db.orm.manager.EnvoxySessionManager` (envoxy-orm).
"""

from envoxy.utils.deprecation import deprecated_aliases

__all__: list[str] = []

__getattr__ = deprecated_aliases(
    __name__, {"EnvoxySessionManager": ("envoxy.db.orm.manager", "EnvoxySessionManager")}
)
