"""Database helpers: ``to_sa_text`` (from :mod:`envoxy.db.orm.helpers`)."""

from envoxy.db.orm.helpers import to_sa_text

__all__ = ["to_sa_text"]
