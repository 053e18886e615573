"""Small SQL helpers shared by the ORM and the PostgreSQL client."""

import re

from sqlalchemy import TextClause, text

__all__ = ["to_sa_text"]

_PYFORMAT_PLACEHOLDER = re.compile(r"%\(([A-Za-z0-9_]+)\)s")


def to_sa_text(sql: str) -> TextClause:
    """Return ``sql`` as ``text()``, its ``%(name)s`` placeholders turned into ``:name``.

    Only named psycopg2 placeholders are converted; the SQL is not parsed otherwise.

    :param sql: SQL written for psycopg2, e.g. ``"SELECT * FROM t WHERE id = %(id)s"``.
    """
    return text(_PYFORMAT_PLACEHOLDER.sub(r":\1", sql))
