"""envoxy 0.7's path of the SQLAlchemy session manager, kept so that old code runs.

.. deprecated:: 1.0
   ``envoxy.postgresql.sqlalchemy.EnvoxySessionManager`` (and ``.session``) warn once;
   use :class:`envoxy.db.orm.manager.EnvoxySessionManager` (envoxy-orm).
"""

from envoxy.utils.deprecation import deprecated_aliases

__all__: list[str] = []

__getattr__ = deprecated_aliases(
    __name__, {"EnvoxySessionManager": ("envoxy.db.orm.manager", "EnvoxySessionManager")}
)
