"""Row value conversions of ``pgsqlc``: timestamps as UTC API strings, dates as ISO.

They are registered on each pgsqlc connection only (``psycopg2.extensions.register_type``
with a connection scope), so raw psycopg2 elsewhere in the process is unaffected.
The session runs with ``TimeZone=UTC`` and ``DateStyle=ISO``, so PostgreSQL already
sends ``2024-05-01 12:30:45.123456+00``; the casters only reshape that text to
``2024-05-01T12:30:45.123+0000`` (milliseconds truncated, as ``envoxy_json_dumps`` does).
"""

import re
from datetime import datetime
from typing import TYPE_CHECKING

from envoxy.utils.datetime import format_api, join_api

if TYPE_CHECKING:
    import psycopg2.extensions as pg

__all__ = ["format_utc", "register_typecasts"]

# PostgreSQL type OIDs: timestamp, timestamptz, date.
_TIMESTAMP_OID = 1114
_TIMESTAMPTZ_OID = 1184
_DATE_OID = 1082
_TIMESTAMP_TEXT = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(?:\+00)?")


#: Format a datetime as ``YYYY-MM-DDTHH:MM:SS.mmm+0000`` in UTC (naive counts as UTC):
#: :func:`envoxy.utils.datetime.format_api`, under the name pgsqlc used.
format_utc = format_api


def register_typecasts(conn: "pg.connection") -> None:
    """Make ``conn`` return timestamps as UTC API strings and dates as ISO strings."""
    import psycopg2.extensions as extensions

    def cast_timestamp(text: str | bytes | None, cursor: "pg.cursor") -> str | None:
        if text is None:
            return None
        if isinstance(text, bytes):
            text = text.decode("ascii")
        match = _TIMESTAMP_TEXT.fullmatch(text)
        if match is not None:
            day, clock, fraction = match.groups()
            return join_api(day, clock, (fraction or "")[:3].ljust(3, "0"))
        # Infinity, years past 9999 or BC: let psycopg2 parse, then format.
        parsed = extensions.PYDATETIMETZ(text, cursor)
        return format_utc(parsed) if isinstance(parsed, datetime) else str(parsed)

    def cast_date(text: str | bytes | None, cursor: "pg.cursor") -> str | None:
        return text.decode("ascii") if isinstance(text, bytes) else text

    timestamps = extensions.new_type(
        (_TIMESTAMP_OID, _TIMESTAMPTZ_OID), "ENVOXY_TIMESTAMP", cast_timestamp
    )
    dates = extensions.new_type((_DATE_OID,), "ENVOXY_DATE", cast_date)
    extensions.register_type(timestamps, conn)
    extensions.register_type(dates, conn)
