"""``EnvoxyMixin``: the four columns every Envoxy model has."""

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["EnvoxyMixin"]


class EnvoxyMixin:
    """Columns ``id``, ``created``, ``updated`` and ``href``, filled on insert and update.

    - ``id``: ``String(36)`` primary key, a ``uuid4`` string unless set;
    - ``created``: ``DateTime(timezone=True)``, NOT NULL, the insert time (UTC) unless set;
    - ``updated``: ``DateTime(timezone=True)``, NOT NULL, the time of the last insert or update;
    - ``href``: ``String(1024)``, NOT NULL, ``/v3/data-layer/<table>/<id>`` unless set.

    The audit listeners (:mod:`envoxy.db.orm.listeners`) act on every mapped subclass.

    .. versionchanged:: 1.0
       ``created`` and ``updated`` are timezone-aware (a migration is needed for
       tables made by envoxy 0.7).
    """

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    href: Mapped[str] = mapped_column(String(1024), nullable=False)
