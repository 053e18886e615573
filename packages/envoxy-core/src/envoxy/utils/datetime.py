"""Date and time helpers: the API timestamp format and a few standard formats.

The Envoxy API format is UTC with milliseconds and a ``+0000`` offset::

    >>> Format.api_format(datetime(2025, 10, 28, 23, 59, 59, 999999))
    '2025-10-28T23:59:59.999+0000'

Fractions of a second are always truncated, never rounded, so a time never moves
into the next second (or day). Naive datetimes count as ``assume_tz`` (UTC by default).
"""

import functools
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

from envoxy.utils.deprecation import warn_deprecated

__all__ = [
    "API_FORMAT",
    "Format",
    "Now",
    "TimeLike",
    "api_format",
    "coerce_datetime",
    "format_api",
    "format_iso",
    "format_rfc1123",
    "format_strftime",
    "format_unix",
    "join_api",
]

#: The ``strptime`` pattern of the API format (the ``+0000`` is literal).
API_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+0000"

#: What the formatting functions accept: a datetime, a date (midnight), an ISO string,
#: or ``None`` for "now".
type TimeLike = str | datetime | date | None


# defined before the classes it decorates
def _deprecated[**P, R](replacement: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Make a ``Now``/``Format`` method warn once that ``replacement`` replaces it."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def warned(*args: P.args, **kwargs: P.kwargs) -> R:
            warn_deprecated(
                f"envoxy.utils.datetime.{method.__qualname__}()",
                f"envoxy.utils.datetime.{replacement}",
                since="1.1",
            )
            return method(*args, **kwargs)

        return warned

    return decorate


class Now:
    """The current time in the formats the original envoxy used.

    .. deprecated:: 1.1
       Each method warns once, naming the module function that replaces it.
    """

    @staticmethod
    @_deprecated("format_strftime(None, '%Y-%m-%dT%H:%M:%S')")
    def log_format() -> str:
        """Return the current UTC time as ``YYYY-MM-DDTHH:MM:SS``."""
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    @staticmethod
    @_deprecated("format_api(datetime.now(UTC))")
    def api_format() -> str:
        """Return the current UTC time as ``YYYY-MM-DDTHH:MM:SS.mmm+0000``."""
        return format_api(datetime.now(UTC))

    @staticmethod
    @_deprecated("format_unix()")
    def timestamp() -> int:
        """Return the current Unix time in whole seconds."""
        return int(time.time())

    @staticmethod
    @_deprecated("coerce_datetime(text)")
    def to_datetime(date_str: str, format_str: str = API_FORMAT) -> datetime | None:
        """Parse ``date_str`` with :meth:`datetime.strptime`, or return ``None`` if it fails.

        :param date_str: the text to parse.
        :param format_str: the pattern; the default reads the API format into a naive
            datetime (its ``+0000`` is literal).
        """
        return _strptime(date_str, format_str)


def format_api(value: datetime) -> str:
    """Return ``value`` in the API format ``YYYY-MM-DDTHH:MM:SS.mmm+0000`` (UTC).

    A naive ``value`` counts as UTC; an aware one is converted. Milliseconds are truncated.

    :param value: the datetime to format.
    """
    moment = value if value.tzinfo is None else value.astimezone(UTC)
    return join_api(
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}",
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}",
        f"{moment.microsecond // 1000:03d}",
    )


def join_api(day: str, clock: str, millis: str) -> str:
    """Return ``{day}T{clock}.{millis}+0000``: the API format from its UTC parts.

    The one place the layout is written: :func:`format_api` uses it, and so do the paths
    that already hold the parts as text (pgsqlc's timestamp columns, the ``Date`` header
    of zmqc and mqttc), which would be slower through a :class:`datetime`.

    :param day: ``YYYY-MM-DD``. :param clock: ``HH:MM:SS``.
    :param millis: exactly three digits.
    """
    return f"{day}T{clock}.{millis}+0000"


def coerce_datetime(value: TimeLike, assume_tz: str = "UTC") -> datetime | None:
    """Return ``value`` as a timezone-aware datetime (``None`` stays ``None``).

    :param value: a datetime (naive ones get ``assume_tz``), a date (midnight in
        ``assume_tz``), or an ISO 8601 string (a trailing ``Z`` means UTC; strings in the
        API format are accepted too).
    :param assume_tz: the IANA zone for naive values, e.g. ``"UTC"`` or ``"Europe/Lisbon"``.
    :raises ValueError: for a string that is not a date/time.
    :raises TypeError: for any other type.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=_zone(assume_tz))
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=_zone(assume_tz))
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = f"{text[:-1]}+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed_api = _strptime(text, API_FORMAT)
            if parsed_api is None:
                raise ValueError(
                    f"{value!r} is not an ISO 8601 date/time (e.g. 2025-10-28T12:34:56Z)"
                ) from None
            return parsed_api.replace(tzinfo=UTC)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_zone(assume_tz))
    raise TypeError(f"expected a datetime, date, ISO string or None, got {type(value).__name__}")


def format_iso(
    dt: TimeLike = None,
    fractional: int | None = 3,
    tz: str | tzinfo | None = None,
    assume_tz: str = "UTC",
) -> str:
    """Return ``dt`` as RFC 3339 text: ``2025-10-28T12:34:56.123Z`` or ``...+01:00``.

    :param dt: what to format (see :data:`TimeLike`); ``None`` is now.
    :param fractional: digits after the seconds, 0-6 (truncated); ``None`` keeps all six
        when there is a fraction.
    :param tz: the output zone (name or tzinfo); default: the value's own zone.
    :param assume_tz: the zone of naive values.
    """
    moment = _moment(dt, assume_tz)
    if tz is not None:
        moment = moment.astimezone(_zone(tz) if isinstance(tz, str) else tz)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(moment.microsecond, fractional)
    offset = moment.utcoffset()
    if not offset:
        return f"{text}Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_rfc1123(dt: TimeLike = None, assume_tz: str = "UTC") -> str:
    """Return ``dt`` as an HTTP date in GMT, e.g. ``Tue, 28 Oct 2025 12:34:56 GMT``.

    :param dt: what to format; ``None`` is now.
    :param assume_tz: the zone of naive values.
    """
    moment = _moment(dt, assume_tz).astimezone(UTC)
    return (
        f"{_WEEKDAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT"
    )


def format_unix(
    dt: TimeLike = None, ms: bool = False, as_int: bool = True, assume_tz: str = "UTC"
) -> int | float:
    """Return ``dt`` as Unix time in seconds, or milliseconds with ``ms``.

    :param dt: what to convert; ``None`` is now.
    :param ms: milliseconds instead of seconds.
    :param as_int: an int (truncated, never rounded up) rather than a float.
    :param assume_tz: the zone of naive values.
    """
    elapsed = _moment(dt, assume_tz) - _EPOCH
    unit = timedelta(milliseconds=1) if ms else timedelta(seconds=1)
    if as_int:
        return elapsed // unit
    return elapsed / unit


def format_strftime(
    dt: TimeLike, fmt: str, tz: str | tzinfo | None = None, assume_tz: str = "UTC"
) -> str:
    """Return ``dt`` formatted with the :meth:`~datetime.strftime` pattern ``fmt``.

    :param dt: what to format; ``None`` is now.
    :param fmt: the pattern, e.g. ``"%Y-%m-%d"``.
    :param tz: convert to this zone first.
    :param assume_tz: the zone of naive values.
    """
    moment = _moment(dt, assume_tz)
    if tz is not None:
        moment = moment.astimezone(_zone(tz) if isinstance(tz, str) else tz)
    return moment.strftime(fmt)


def api_format(
    value: TimeLike = None,
    *,
    style: Literal["iso", "rfc1123", "unix", "strftime"] = "iso",
    fmt: str | None = None,
    tz: str | tzinfo | None = None,
    fractional: int | None = 3,
    unix_ms: bool = False,
    assume_tz: str = "UTC",
    as_object: bool = False,
) -> str | int | float | datetime | None:
    """Format ``value`` in one of the styles above (one entry point for all of them).

    :param value: what to format; ``None`` is now.
    :param style: ``"iso"`` (:func:`format_iso`), ``"rfc1123"``, ``"unix"`` or
        ``"strftime"`` (needs ``fmt``).
    :param as_object: with ``iso``/``strftime``, return the aware datetime instead of text.
    :raises ValueError: for an unknown style, or ``strftime`` without ``fmt``.
    """
    if style not in ("iso", "rfc1123", "unix", "strftime"):
        raise ValueError(f"style must be iso, rfc1123, unix or strftime, got {style!r}")
    if style == "strftime" and fmt is None:
        raise ValueError("style='strftime' needs fmt, e.g. fmt='%Y-%m-%d'")
    if as_object and style in ("iso", "strftime"):
        return coerce_datetime(value, assume_tz=assume_tz)
    if style == "strftime":
        return format_strftime(value, fmt or "", tz=tz, assume_tz=assume_tz)
    if style == "iso":
        return format_iso(value, fractional=fractional, tz=tz, assume_tz=assume_tz)
    if style == "rfc1123":
        return format_rfc1123(value, assume_tz=assume_tz)
    return format_unix(value, ms=unix_ms, assume_tz=assume_tz)


class Format:
    """The formatting functions as static methods; each formats now when given no value.

    .. deprecated:: 1.1
       Call the module functions (``format_iso``, ``format_api``, ...); each method warns
       once, naming its function.
    """

    @staticmethod
    @_deprecated("format_iso")
    def iso(
        dt: TimeLike = None,
        fractional: int | None = 3,
        tz: str | tzinfo | None = None,
        assume_tz: str = "UTC",
    ) -> str:
        """RFC 3339 text; see :func:`format_iso`."""
        return format_iso(dt, fractional=fractional, tz=tz, assume_tz=assume_tz)

    @staticmethod
    @_deprecated("format_rfc1123")
    def rfc1123(dt: TimeLike = None, assume_tz: str = "UTC") -> str:
        """An HTTP date; see :func:`format_rfc1123`."""
        return format_rfc1123(dt, assume_tz=assume_tz)

    @staticmethod
    @_deprecated("format_unix")
    def unix(
        dt: TimeLike = None, ms: bool = False, as_int: bool = True, assume_tz: str = "UTC"
    ) -> int | float:
        """Unix time; see :func:`format_unix`."""
        return format_unix(dt, ms=ms, as_int=as_int, assume_tz=assume_tz)

    @staticmethod
    @_deprecated("format_strftime")
    def custom(
        dt: TimeLike = None,
        fmt: str = "%Y-%m-%d %H:%M:%S",
        tz: str | tzinfo | None = None,
        assume_tz: str = "UTC",
    ) -> str:
        """A ``strftime`` pattern; see :func:`format_strftime`."""
        return format_strftime(dt, fmt, tz=tz, assume_tz=assume_tz)

    @staticmethod
    @_deprecated("format_api")
    def api_format(dt: TimeLike = None, assume_tz: str = "UTC") -> str:
        """The API format ``YYYY-MM-DDTHH:MM:SS.mmm+0000`` in UTC; see :func:`format_api`."""
        return format_api(_moment(dt, assume_tz))

    @staticmethod
    @_deprecated("coerce_datetime")
    def parse(value: str | datetime | date, assume_tz: str = "UTC") -> datetime:
        """Return ``value`` as an aware datetime.

        :raises ValueError: for text that is not a date/time.
        :raises TypeError: for other types.
        """
        moment = coerce_datetime(value, assume_tz=assume_tz)
        if moment is None:
            raise TypeError("expected a datetime, date or ISO string, got None")
        return moment


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _strptime(text: str, pattern: str) -> datetime | None:
    try:
        return datetime.strptime(text, pattern)
    except (TypeError, ValueError):
        return None


def _moment(dt: TimeLike, assume_tz: str) -> datetime:
    moment = coerce_datetime(dt, assume_tz=assume_tz)
    return datetime.now(UTC) if moment is None else moment


def _zone(name: str) -> tzinfo:
    if name.upper() in ("UTC", "Z", "GMT"):
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _fraction(microseconds: int, digits: int | None) -> str:
    if digits is None:
        return f".{microseconds:06d}" if microseconds else ""
    digits = min(digits, 6)
    if digits <= 0:
        return ""
    return f".{microseconds // 10 ** (6 - digits):0{digits}d}"
